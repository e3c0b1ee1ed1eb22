import Foundation
import Testing

/// Routes to one upstream: `/api/` (prefix stripped) and `/raw/` (path as sent).
private func proxyRoutes(_ extra: [String: Any] = [:]) -> [[String: Any]] {
    var api: [String: Any] = ["name": "api", "match": ["prefix": "/api/"], "upstream": "backend", "strip_prefix": true]
    api.merge(extra) { $1 }
    return [api, ["name": "raw", "match": ["prefix": "/raw/"], "upstream": "backend"]] + TestGateway.itemRoutes
}

private func upstreams(_ targets: [String], _ extra: [String: Any] = [:]) -> [String: Any] {
    var backend: [String: Any] = ["targets": targets.map { ["address": $0] }]
    backend.merge(extra) { $1 }
    return ["upstreams": ["backend": backend]]
}

private func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Suite("Proxy end to end", .serialized)
struct ProxyEndToEndTests {
    @Test func proxiedGetAndPostThroughTLS() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await TestGateway.start(routes: proxyRoutes(), extra: upstreams([upstream.address]))
        let get = try curl(gateway, "/api/users/7?full=1")
        #expect(get.code == 200)
        let echoed = try json(get.body)
        #expect(echoed["method"] as? String == "GET")
        #expect(echoed["uri"] as? String == "/users/7?full=1")
        let raw = try json(try curl(gateway, "/raw/x").body)
        #expect(raw["uri"] as? String == "/raw/x")
        let post = try curl(gateway, "/api/items", ["-X", "POST", "-H", "content-type: application/json", "--data", #"{"a":1}"#])
        #expect(post.code == 200)
        let posted = try json(post.body)
        #expect(posted["method"] as? String == "POST")
        #expect(posted["body_bytes"] as? Int == 7)
        // The built-in routes still answer next to the proxied ones.
        #expect(try curl(gateway, "/items/42").body == #"{"item_id":42,"q":null}"#)
        await gateway.stop()
        await upstream.stop()
    }
}
