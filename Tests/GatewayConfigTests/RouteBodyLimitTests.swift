import GatewayConfig
import Testing

@Suite("route max_body_bytes")
struct RouteBodyLimitTests {
    @Test func decodesAndReportsProblems() throws {
        let configuration = try load(
            document(routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items", "max_body_bytes": 10}"#))
        #expect(configuration.routes[0].maxBodyBytes == 10)
        #expect(try load(document(routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items"}"#)).routes[0].maxBodyBytes == nil)
        #expect(
            problems(of: document(routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items", "max_body_bytes": -1}"#))
                == ["routes[0].max_body_bytes: must not be negative"])
        #expect(
            problems(of: document(routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items", "max_body_bytes": "1k"}"#))
                == ["routes[0].max_body_bytes: expected an integer"])
    }
}
