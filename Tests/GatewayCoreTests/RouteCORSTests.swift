import GatewayConfig
import Testing

@testable import GatewayCore

@Suite("CORS decisions")
struct RouteCORSTests {
    private func cors(_ json: String, methods: String? = #"["GET", "PUT"]"#) throws -> RouteCORS {
        let match = methods.map { #"{"path": "/a", "methods": \#($0)}"# } ?? #"{"path": "/a"}"#
        let configuration = try GatewayConfigurationLoader.load(
            data: Array(
                #"""
                {"listeners": [{"name": "web", "address": "127.0.0.1:0"}],
                 "routes": [{"name": "a", "match": \#(match), "handler": "items", "cors": \#(json)}]}
                """#.utf8), baseDirectory: "/", environment: [:])
        let route = try #require(configuration.routes.first)
        return RouteCORS(try #require(route.cors), routeMethods: route.match.methods)
    }

    private func fields(_ list: [(name: String, value: String)]) -> [String: String] {
        Dictionary(list.map { ($0.name, $0.value) }, uniquingKeysWith: { $0 + ", " + $1 })
    }

    @Test func originsExactAndSubdomainPatterns() throws {
        let cors = try self.cors(#"{"allow_origins": ["https://app.example.com", "https://*.example.org", "http://localhost:3000"]}"#)
        #expect(cors.allows(origin: "https://app.example.com"))
        #expect(cors.allows(origin: "http://localhost:3000"))
        #expect(cors.allows(origin: "https://a.example.org"))
        #expect(cors.allows(origin: "https://a.b-c.example.org"))
        for refused in [
            "http://app.example.com", "https://app.example.com:8443", "https://app.example.com.evil.com",
            "https://example.org", "https://.example.org", "https://a..example.org", "https://evil.com/.example.org",
            "https://evil.com:1.example.org", "http://a.example.org", "https://a.example.org:8443", "null", "",
            "http://localhost:3001",
        ] {
            #expect(!cors.allows(origin: refused), "\(refused)")
        }
        let any = try self.cors(#"{"allow_origins": ["*"]}"#)
        #expect(any.allows(origin: "null") && any.allows(origin: "https://anything.test"))
    }

    @Test func actualResponses() throws {
        let cors = try self.cors(
            #"{"allow_origins": ["https://app.example.com"], "expose_headers": ["X-Request-Id", "RateLimit"], "allow_credentials": true}"#)
        #expect(
            fields(cors.responseHeaders(origin: "https://app.example.com")) == [
                "access-control-allow-origin": "https://app.example.com", "access-control-allow-credentials": "true",
                "access-control-expose-headers": "X-Request-Id, RateLimit", "vary": "Origin",
            ])
        // Not allowed, or no Origin at all: only Vary, so a cache keeps the answers apart.
        #expect(fields(cors.responseHeaders(origin: "https://evil.example")) == ["vary": "Origin"])
        #expect(fields(cors.responseHeaders(origin: nil)) == ["vary": "Origin"])
        // Every origin without credentials: "*", and nothing to expose means no Expose field.
        let any = try self.cors(#"{"allow_origins": ["*"]}"#)
        #expect(
            fields(any.responseHeaders(origin: "https://x.test")) == [
                "access-control-allow-origin": "*", "vary": "Origin",
            ])
    }

    @Test func preflightAllowedAndRefused() throws {
        let cors = try self.cors(
            #"{"allow_origins": ["https://app.example.com"], "allow_headers": ["Authorization"], "max_age": "1h"}"#)
        let vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        #expect(
            fields(
                cors.preflightHeaders(
                    origin: "https://app.example.com", method: "PUT", requestHeaders: ["content-type, authorization"]))
                == [
                    "access-control-allow-origin": "https://app.example.com",
                    // The route's methods, and the safelisted headers besides the listed ones.
                    "access-control-allow-methods": "GET, PUT",
                    "access-control-allow-headers": "Authorization, Accept, Accept-Language, Content-Language, Content-Type",
                    "access-control-max-age": "3600", "vary": vary,
                ])
        #expect(fields(cors.preflightHeaders(origin: "https://evil.example", method: "PUT", requestHeaders: [])) == ["vary": vary])
        #expect(fields(cors.preflightHeaders(origin: "https://app.example.com", method: "DELETE", requestHeaders: [])) == ["vary": vary])
        #expect(
            fields(cors.preflightHeaders(origin: "https://app.example.com", method: "GET", requestHeaders: ["x-secret"]))
                == ["vary": vary])
    }

    @Test func wildcardsEchoWhatWasAsked() throws {
        // A route for every method, any header, with credentials: echoed, since "*" is literal for credentialed requests.
        let cors = try self.cors(
            #"{"allow_origins": ["https://*.example.com"], "allow_headers": ["*"], "allow_credentials": true}"#,
            methods: nil)
        let answer = fields(
            cors.preflightHeaders(origin: "https://a.example.com", method: "PATCH", requestHeaders: ["X-One,  x-two", "X-Three"]))
        #expect(answer["access-control-allow-origin"] == "https://a.example.com")
        #expect(answer["access-control-allow-credentials"] == "true")
        #expect(answer["access-control-allow-methods"] == "PATCH")
        #expect(answer["access-control-allow-headers"] == "X-One, x-two, X-Three")
        #expect(answer["access-control-max-age"] == "600")
    }
}
