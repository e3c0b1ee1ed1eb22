import Foundation
import Testing

@Suite("Admin listener end to end", .serialized)
struct AdminEndToEndTests {
    @Test func metricsAreScrapedAndPassPromtool() async throws {
        let gateway = try await TestGateway.start()
        _ = try curl(gateway, "/items/1")
        _ = try curl(gateway, "/items/abc")
        _ = try curl(gateway, "/missing")
        let scrape = try run("/usr/bin/curl", ["-sS", "-i", "http://127.0.0.1:\(gateway.adminPort)/metrics"]).stdout
        #expect(scrape.contains("text/plain; version=0.0.4"))
        let body = String(scrape[scrape.range(of: "\r\n\r\n")!.upperBound...])
        #expect(body.contains(#"gateway_http_requests_total{route="items",method="GET",code="200"} 1"#))
        #expect(body.contains(#"gateway_http_requests_total{route="items",method="GET",code="422"} 1"#))
        #expect(body.contains(#"gateway_http_requests_total{route="none",method="GET",code="404"} 1"#))
        #expect(body.contains("gateway_http_request_duration_seconds_bucket{route=\"items\""))
        #expect(body.contains("gateway_connections_active"))
        #expect(body.contains("gateway_tls_handshake_duration_seconds_count"))
        #expect(!body.contains("/items/1"), "the route label is the route's name, never the path")

        let promtool = "/usr/bin/promtool"
        try #require(FileManager.default.isExecutableFile(atPath: promtool), "promtool (Debian package prometheus) is needed")
        let check = try run(promtool, ["check", "metrics"], input: Data(body.utf8))
        #expect(check.status == 0, "promtool: \(check.stdout) \(check.stderr)")
        await gateway.stop()
    }

    @Test func healthAndReadiness() async throws {
        let gateway = try await TestGateway.start()
        let health = try run("/usr/bin/curl", ["-sS", "http://127.0.0.1:\(gateway.adminPort)/healthz"]).stdout
        #expect(health == #"{"status":"ok"}"#)
        let ready = try run("/usr/bin/curl", ["-sS", "http://127.0.0.1:\(gateway.adminPort)/readyz"]).stdout
        #expect(ready == #"{"status":"ready"}"#)
        let unknown = try run(
            "/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(gateway.adminPort)/x"]).stdout
        #expect(unknown == "404")
        await gateway.stop()
    }
}
