import Foundation
import GatewayCore
import Testing

/// One answer with its header fields (names lowercased).
struct HTTPAnswer {
    var code: Int
    var headers: [String: String]
    var body: String
}

/// `curl -i` against the gateway: status, header fields and body.
func curlWithHeaders(_ gateway: TestGateway, _ path: String, _ extra: [String] = []) throws -> HTTPAnswer {
    let result = try run(
        "/usr/bin/curl", ["-sS", "-i", "--cacert", gateway.caPath, "--max-time", "10"] + extra + [gateway.url(path)])
    guard let split = result.stdout.range(of: "\r\n\r\n") else {
        return HTTPAnswer(code: 0, headers: [:], body: result.stderr)
    }
    let lines = result.stdout[..<split.lowerBound].components(separatedBy: "\r\n")
    let code = lines.first.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return HTTPAnswer(code: code, headers: headers, body: String(result.stdout[split.upperBound...]))
}

/// `count` GETs of `path` from one curl process over one keep-alive connection: the status codes in order.
func curlCodes(_ gateway: TestGateway, _ path: String, count: Int, _ extra: [String] = []) throws -> [Int] {
    var arguments = ["-sS", "--cacert", gateway.caPath, "--max-time", "20"] + extra
    for _ in 0..<count { arguments += ["-o", "/dev/null", "-w", "%{http_code}\n", gateway.url(path)] }
    return try run("/usr/bin/curl", arguments).stdout.split(separator: "\n").compactMap { Int($0) }
}

private func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

/// The items routes, with `rate_limits` on `items` (GET /items/{id}).
func limitedItemRoutes(_ policies: [String], headers: Bool? = nil) -> [[String: Any]] {
    var routes = TestGateway.itemRoutes
    routes[0]["rate_limits"] = policies
    if let headers { routes[0]["rate_limit_headers"] = headers }
    return routes
}

/// A metric line with these labels (in any order), or nil.
func metricValue(_ text: String, _ name: String, _ labels: [String: String]) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") {
        guard labels.allSatisfy({ line.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
        return line.split(separator: " ").last.flatMap { Double($0) }
    }
    return nil
}

@Suite("Rate limiting end to end", .serialized)
struct RateLimitEndToEndTests {
    static var perMinute: [String: Any] { ["rate_limits": ["per-min": ["limit": "5/min", "burst": 5]]] }

    @Test func fiveAllowedThen429WithRetryAfterJSONAndRateLimitHeaders() async throws {
        let gateway = try await TestGateway.start(routes: limitedItemRoutes(["per-min"]), extra: Self.perMinute)
        var remaining: [String] = []
        for _ in 0..<5 {
            let answer = try curlWithHeaders(gateway, "/items/1")
            #expect(answer.code == 200)
            #expect(answer.headers["ratelimit-policy"] == #""per-min";q=5;w=60"#)
            #expect(answer.headers["retry-after"] == nil)
            remaining.append(answer.headers["ratelimit"] ?? "")
        }
        // 5/min with a burst of 5: one request per 12 s refills, the fifth leaves 0 and a full reset 60 s away.
        #expect(
            remaining == [
                #""per-min";r=4;t=12"#, #""per-min";r=3;t=24"#, #""per-min";r=2;t=36"#, #""per-min";r=1;t=48"#,
                #""per-min";r=0;t=60"#,
            ])
        let refused = try curlWithHeaders(gateway, "/items/1", ["-H", "x-request-id: limited-1"])
        #expect(refused.code == 429)
        let retryAfter = try #require(refused.headers["retry-after"].flatMap { Int($0) })
        #expect((11...12).contains(retryAfter))
        #expect(refused.headers["ratelimit-policy"] == #""per-min";q=5;w=60"#)
        #expect(refused.headers["ratelimit"]?.hasPrefix(#""per-min";r=0;t="#) == true)
        #expect(refused.headers["content-type"] == "application/json")
        let error = try #require(try json(refused.body)["error"] as? [String: Any])
        #expect(error["status"] as? Int == 429)
        #expect(error["code"] as? String == "rate_limited")
        #expect(error["request_id"] as? String == "limited-1")
        #expect(refused.headers["x-request-id"] == "limited-1")

        // Another route pays nothing and carries no headers.
        let other = try curlWithHeaders(
            gateway, "/items/",
            ["-X", "POST", "-H", "content-type: application/json", "--data", #"{"name":"a","price":1}"#])
        #expect(other.code == 200)
        #expect(other.headers["ratelimit-policy"] == nil)

        gateway.server.maintainRateLimits()
        let metrics = try gateway.scrape()
        let labels = ["route": "items", "policy": "per-min"]
        #expect(
            metricValue(metrics, "gateway_ratelimit_decisions_total", labels.merging(["result": "allowed"]) { $1 }) == 5
        )
        #expect(
            metricValue(metrics, "gateway_ratelimit_decisions_total", labels.merging(["result": "limited"]) { $1 }) == 1
        )
        #expect(metricValue(metrics, "gateway_ratelimit_keys", ["policy": "per-min"]) == 1)
        #expect(metricValue(metrics, "gateway_http_requests_total", ["route": "items", "code": "429"]) == 1)
        let check = try run("/usr/bin/promtool", ["check", "metrics"], input: Data(metrics.utf8))
        #expect(check.status == 0, "promtool: \(check.stdout) \(check.stderr)")
        await gateway.stop()
    }

    @Test func headersSwitchedOffStillRetryAfter() async throws {
        let gateway = try await TestGateway.start(
            routes: limitedItemRoutes(["per-min"], headers: false), extra: Self.perMinute)
        #expect(try curlCodes(gateway, "/items/1", count: 5) == [200, 200, 200, 200, 200])
        let refused = try curlWithHeaders(gateway, "/items/1")
        #expect(refused.code == 429)
        #expect(refused.headers["retry-after"] != nil)
        #expect(refused.headers["ratelimit-policy"] == nil)
        #expect(refused.headers["ratelimit"] == nil)
        await gateway.stop()
    }

    @Test func severalPoliciesAreAllEnforcedAndListed() async throws {
        let extra: [String: Any] = [
            "rate_limits": [
                "per-sec": ["limit": "100/s", "burst": 10], "per-min": ["limit": "3/min", "key": "route"],
            ]
        ]
        let gateway = try await TestGateway.start(routes: limitedItemRoutes(["per-min", "per-sec"]), extra: extra)
        let first = try curlWithHeaders(gateway, "/items/1")
        #expect(first.headers["ratelimit-policy"] == #""per-min";q=3;w=60, "per-sec";q=100;w=1"#)
        #expect(first.headers["ratelimit"] == #""per-min";r=2;t=20, "per-sec";r=9;t=1"#)
        // The per-minute route budget refuses the fourth, whatever the per-second burst says.
        #expect(try curlCodes(gateway, "/items/1", count: 3) == [200, 200, 429])
        await gateway.stop()
    }

    @Test func keyByHeaderFallsBackToTheClientIP() async throws {
        let extra: [String: Any] = [
            "rate_limits": ["per-key": ["limit": "2/min", "key": ["header": "X-API-Key"]]]
        ]
        let gateway = try await TestGateway.start(routes: limitedItemRoutes(["per-key"]), extra: extra)
        #expect(try curlCodes(gateway, "/items/1", count: 3, ["-H", "X-API-Key: alpha"]) == [200, 200, 429])
        #expect(try curlCodes(gateway, "/items/1", count: 3, ["-H", "X-API-Key: beta"]) == [200, 200, 429])
        #expect(try curlCodes(gateway, "/items/1", count: 3) == [200, 200, 429])
        await gateway.stop()
    }

    @Test func forwardedForCountsOnlyFromTrustedProxies() async throws {
        var extra: [String: Any] = ["rate_limits": ["per-ip": ["limit": "1/min"]]]
        let trusted = try await TestGateway.start(
            routes: limitedItemRoutes(["per-ip"]), extra: extra.merging(["trusted_proxies": ["127.0.0.0/8"]]) { $1 })
        // The peer is a trusted proxy: the rightmost untrusted forwarded address is the client.
        #expect(try curlCodes(trusted, "/items/1", count: 2, ["-H", "X-Forwarded-For: 203.0.113.1"]) == [200, 429])
        #expect(
            try curlCodes(
                trusted, "/items/1", count: 2, ["-H", "X-Forwarded-For: 203.0.113.1, 203.0.113.2, 127.0.0.9"])
                == [200, 429])
        await trusted.stop()

        extra["trusted_proxies"] = ["10.0.0.0/8"]
        let untrusted = try await TestGateway.start(routes: limitedItemRoutes(["per-ip"]), extra: extra)
        // The peer is not trusted: X-Forwarded-For is ignored, every request is the peer's.
        #expect(try curlCodes(untrusted, "/items/1", count: 1, ["-H", "X-Forwarded-For: 203.0.113.1"]) == [200])
        #expect(try curlCodes(untrusted, "/items/1", count: 1, ["-H", "X-Forwarded-For: 203.0.113.2"]) == [429])
        await untrusted.stop()
    }

    @Test func proxiedResponsesCarryTheHeaders() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let routes: [[String: Any]] = [
            ["name": "api", "match": ["prefix": "/api/"], "upstream": "backend", "rate_limits": ["per-min"]]
        ]
        var extra = Self.perMinute
        extra["upstreams"] = ["backend": ["targets": [["address": upstream.address]]]]
        let gateway = try await TestGateway.start(routes: routes, extra: extra)
        let answer = try curlWithHeaders(gateway, "/api/echo")
        #expect(answer.code == 200)
        #expect(answer.headers["ratelimit-policy"] == #""per-min";q=5;w=60"#)
        #expect(answer.headers["ratelimit"] == #""per-min";r=4;t=12"#)
        // The policy step runs before the upstream: refused requests never reach it.
        #expect(try curlCodes(gateway, "/api/echo", count: 5) == [200, 200, 200, 200, 429])
        #expect(upstream.requests == 5)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func countersSurviveAReloadUnlessThePolicyChanges() async throws {
        // No watcher: only the reloads below apply the file. They are awaited rather than asked
        // over the admin socket, so no test thread blocks on the control plane's tasks.
        let gateway = try await TestGateway.start(
            routes: limitedItemRoutes(["per-min"]),
            extra: ["rate_limits": ["per-min": ["limit": "3/min"]], "reload": ["watch": false]])
        #expect(try curlCodes(gateway, "/items/1", count: 2) == [200, 200])
        // An unrelated change: the policy keeps its counters.
        try gateway.rewrite { document in
            var routes = document["routes"] as! [[String: Any]]
            routes.append(["name": "other", "match": ["path": "/other/{item_id}"], "handler": "items"])
            document["routes"] = routes
        }
        let kept = await gateway.server.reload(trigger: .admin)
        #expect(kept.isOK, "\(kept)")
        #expect(try curlCodes(gateway, "/items/1", count: 2) == [200, 429])
        // A changed definition starts over.
        try gateway.rewrite { $0["rate_limits"] = ["per-min": ["limit": "3/min", "burst": 4]] }
        let changed = await gateway.server.reload(trigger: .admin)
        guard case .ok(_, let changes, _) = changed else {
            Issue.record("reload failed: \(changed)")
            return
        }
        #expect(changes.contains(#"rate_limits "per-min": changed; its counters start over"#))
        #expect(try curlCodes(gateway, "/items/1", count: 5) == [200, 200, 200, 200, 429])
        await gateway.stop()
    }
}
