import GatewayConfig
import Testing

@Suite("Route request_decompression")
struct RequestDecompressionConfigurationTests {
    private func route(_ decompression: String) -> String {
        document(
            routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items", "request_decompression": \#(decompression)}"#)
    }

    @Test func offByDefaultAndTheShorthand() throws {
        let plain = try load(document(routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items"}"#))
        #expect(plain.routes[0].requestDecompression == nil)
        #expect(try load(route("false")).routes[0].requestDecompression == nil)
        #expect(try load(route("false")).fingerprint == plain.fingerprint)

        let shorthand = try load(route("true"))
        let decompression = try #require(shorthand.routes[0].requestDecompression)
        #expect(decompression.maxBytes == nil, "the route's body limit")
        #expect(decompression.maxRatio == 100)
        #expect(shorthand.fingerprint != plain.fingerprint)
        #expect(try load(route("{}")).fingerprint == shorthand.fingerprint)
        #expect(try load(route(#"{"max_ratio": 100}"#)).fingerprint == shorthand.fingerprint)
    }

    @Test func everyKeyDecodesAndLoadsBack() throws {
        let configuration = try load(route(#"{"max_bytes": 5000000, "max_ratio": 20}"#))
        let decompression = try #require(configuration.routes[0].requestDecompression)
        #expect(decompression == RequestDecompressionConfiguration(maxBytes: 5_000_000, maxRatio: 20))
        let canonical = try load(configuration.canonicalJSON)
        #expect(canonical.routes[0].requestDecompression == decompression)
        #expect(canonical.fingerprint == configuration.fingerprint)
        #expect(try load(route(#"{"max_bytes": 5000001, "max_ratio": 20}"#)).fingerprint != configuration.fingerprint)
    }

    @Test func problemsHaveTheirPaths() {
        #expect(problems(of: route(#""gzip""#)) == ["routes[0].request_decompression: expected a boolean or an object"])
        #expect(
            problems(of: route(#"{"max_bytes": 0, "max_ratio": "100", "min_ratio": 1}"#)) == [
                "routes[0].request_decompression.min_ratio: unknown key (did you mean \"max_ratio\"?)",
                "routes[0].request_decompression.max_bytes: must be at least 1",
                "routes[0].request_decompression.max_ratio: expected an integer",
            ])
        #expect(
            problems(of: route(#"{"max_ratio": 1.5}"#)) == ["routes[0].request_decompression.max_ratio: expected an integer"])
    }
}
