import GatewayConfig
import Testing

@Suite("Route compression")
struct CompressionConfigurationTests {
    private func route(_ compression: String) -> String {
        document(routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items", "compression": \#(compression)}"#)
    }

    @Test func offByDefaultAndTheShorthand() throws {
        let plain = try load(document(routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items"}"#))
        #expect(plain.routes[0].compression == nil)
        #expect(try load(route("false")).routes[0].compression == nil)
        #expect(try load(route(#"{"gzip": false, "level": 2}"#)).routes[0].compression == nil)
        // Off in any spelling is the same configuration.
        #expect(try load(route("false")).fingerprint == plain.fingerprint)

        let shorthand = try load(route("true"))
        let compression = try #require(shorthand.routes[0].compression)
        #expect(compression.minSize == 1024)
        #expect(compression.level == 6)
        #expect(
            compression.types == [
                "application/json", "text/*", "application/javascript", "application/xml", "image/svg+xml",
            ])
        #expect(shorthand.fingerprint != plain.fingerprint)
        // Spelling out the defaults is the same configuration.
        let spelled = try load(
            route(
                #"{"gzip": true, "min_size": 1024, "level": 6, "types": ["application/json", "text/*", "application/javascript", "application/xml", "image/svg+xml"]}"#
            ))
        #expect(spelled.fingerprint == shorthand.fingerprint)
        #expect(try load(route("{}")).fingerprint == shorthand.fingerprint)
    }

    @Test func everyKeyDecodes() throws {
        let configuration = try load(route(#"{"min_size": 0, "level": 1, "types": ["Application/JSON", "text/*", "text/*"]}"#))
        let compression = try #require(configuration.routes[0].compression)
        #expect(compression == CompressionConfiguration(minSize: 0, level: 1, types: ["application/json", "text/*"]))
        // The canonical rendering loads back to the same route.
        let canonical = try load(configuration.canonicalJSON)
        #expect(canonical.routes[0].compression == compression)
        #expect(canonical.fingerprint == configuration.fingerprint)
    }

    @Test func problemsHaveTheirPaths() {
        #expect(problems(of: route(#""gzip""#)) == ["routes[0].compression: expected a boolean or an object"])
        #expect(
            problems(
                of: route(
                    #"{"gzip": 1, "min_size": -1, "level": 0, "types": ["json", "*/*", "text/html; charset=utf-8", 3], "brotli": true}"#
                )) == [
                    "routes[0].compression.brotli: unknown key (known keys: gzip, min_size, level, types)",
                    "routes[0].compression.gzip: expected a boolean (true or false)",
                    "routes[0].compression.min_size: must not be negative",
                    "routes[0].compression.level: must be at least 1",
                    #"routes[0].compression.types[0]: expected a media type such as "application/json" or "text/*""#,
                    #"routes[0].compression.types[1]: expected a media type such as "application/json" or "text/*""#,
                    #"routes[0].compression.types[2]: expected a media type such as "application/json" or "text/*""#,
                    "routes[0].compression.types[3]: expected a string",
                ])
        #expect(problems(of: route(#"{"level": 10}"#)) == ["routes[0].compression.level: must be at most 9"])
        #expect(problems(of: route(#"{"types": "text/*"}"#)) == ["routes[0].compression.types: expected an array"])
    }
}
