import Foundation
import Testing

/// A reload that changes an upstream's targets keeps the warm connections to
/// the targets it did not change (issue 6: "pools of unchanged targets kept").
@Suite("Reload keeps upstream pools end to end", .serialized)
struct ReloadPoolsEndToEndTests {
    private static var routes: [[String: Any]] {
        [["name": "api", "match": ["prefix": "/api/"], "upstream": "backend", "strip_prefix": true]]
            + TestGateway.itemRoutes
    }

    private static func upstreams(_ targets: [String]) -> [String: Any] {
        ["backend": ["targets": targets.map { ["address": $0] }]]
    }

    /// `count` requests to `/api/echo`, one after another on one client connection.
    private static func get(_ gateway: TestGateway, count: Int) throws -> [String] {
        var arguments = ["-sS", "--cacert", gateway.caPath, "-w", "%{http_code}\n"]
        for index in 0..<count { arguments += ["-o", "/dev/null", gateway.url("/api/echo?n=\(index)")] }
        return try run("/usr/bin/curl", arguments).stdout.split(separator: "\n").map(String.init)
    }

    @Test func addingATargetKeepsTheConnectionsToTheOthers() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        let gateway = try await TestGateway.start(
            routes: Self.routes, extra: ["upstreams": Self.upstreams([a.address])])

        // Warm the pool: one client connection, one upstream connection.
        #expect(try Self.get(gateway, count: 20) == Array(repeating: "200", count: 20))
        let warm = a.connections
        #expect(a.requests == 20)
        #expect(warm >= 1)

        try gateway.rewrite { $0["upstreams"] = Self.upstreams([a.address, b.address]) }
        let answer = try await gateway.adminReload()
        #expect(answer.code == 200, "\(answer.body)")

        // Round robin sends half of these to a: over the connection it already had.
        #expect(try Self.get(gateway, count: 40) == Array(repeating: "200", count: 40))
        #expect(a.requests > 20, "a got none of the requests after the reload")
        #expect(b.requests > 0, "the added target got no request")
        #expect(a.connections == warm, "a accepted \(a.connections - warm) new connections after the reload")

        // The adopted connection counts once, in the new group's pool.
        let metrics = try gateway.scrape()
        #expect(metrics.contains(#"gateway_upstream_connections{upstream="backend",state="idle"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"gateway_upstream_connections{upstream="backend",state="active"} 0"#))

        await gateway.stop()
        await a.stop()
        await b.stop()
    }

    @Test func removedTargetsConnectionsCloseAndKeptOnesServe() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        let gateway = try await TestGateway.start(
            routes: Self.routes, extra: ["upstreams": Self.upstreams([a.address, b.address])])
        #expect(try Self.get(gateway, count: 20) == Array(repeating: "200", count: 20))
        let warm = a.connections

        try gateway.rewrite { $0["upstreams"] = Self.upstreams([a.address]) }
        #expect(try await gateway.adminReload().code == 200)
        let servedByB = b.requests

        #expect(try Self.get(gateway, count: 10) == Array(repeating: "200", count: 10))
        #expect(b.requests == servedByB, "the removed target still got requests")
        #expect(a.connections == warm, "a accepted \(a.connections - warm) new connections after the reload")
        // b's idle connection stayed with the old group, which retires it.
        var idle = ""
        for _ in 0..<50 {
            idle = try gateway.scrape()
            if idle.contains(#"gateway_upstream_connections{upstream="backend",state="idle"} 1"#) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(idle.contains(#"gateway_upstream_connections{upstream="backend",state="idle"} 1"#), "\(idle)")

        await gateway.stop()
        await a.stop()
        await b.stop()
    }
}
