import Foundation
import Testing

/// `/api/` (prefix stripped) to the upstream `backend` with `targets` and the upstream keys in `extra`.
private func gatewayDocument(_ targets: [ProxyTestUpstream], _ extra: [String: Any]) -> [String: Any] {
    var backend: [String: Any] = ["targets": targets.map { ["address": $0.address] }]
    backend.merge(extra) { $1 }
    return ["upstreams": ["backend": backend]]
}

private var apiRoute: [[String: Any]] {
    [["name": "api", "match": ["prefix": "/api/"], "upstream": "backend", "strip_prefix": true]]
}

/// The status codes of `count` requests to `path`, sent one after another on one client connection.
private func statusCodes(_ gateway: TestGateway, _ path: String, count: Int) async throws -> [Int] {
    var arguments = ["-sS", "--cacert", gateway.caPath, "-w", "%{http_code}\n", "--max-time", "20"]
    for _ in 0..<count { arguments += ["-o", "/dev/null", gateway.url(path)] }
    let command = arguments
    let result = try await offThePool { try run("/usr/bin/curl", command, timeout: 60) }
    return result.stdout.split(separator: "\n").map { Int($0) ?? 0 }
}

/// The value of the series `name{labels}` in the gateway's metrics, nil when absent.
private func metric(_ gateway: TestGateway, _ series: String) async throws -> Double? {
    let text = try await offThePool { try gateway.scrape() }
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

private func healthy(_ target: ProxyTestUpstream) -> String {
    #"gateway_upstream_target_healthy{upstream="backend",target="\#(target.address)"}"#
}

private let retries = #"gateway_upstream_retries_total{upstream="backend"}"#

/// Polls `condition` every 50 ms until it holds or `seconds` pass; returns whether it held.
private func eventually(within seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

@Suite("Upstream health, ejection and retries end to end", .serialized)
struct HealthEndToEndTests {
    @Test func aStoppedTargetIsEjectedAfterTheConfiguredFailures() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        let gateway = try await TestGateway.start(
            routes: apiRoute,
            extra: gatewayDocument([a, b], ["outlier_detection": ["consecutive_failures": 3, "ejection_time": "60s"]]))
        let codes1 = try await statusCodes(gateway, "/api/echo", count: 10)
        #expect(codes1.allSatisfy { $0 == 200 })
        await b.stop()
        let codes = try await statusCodes(gateway, "/api/echo", count: 60)
        #expect(codes.count == 60)
        let failures = codes.filter { $0 != 200 }
        #expect(failures.count <= 3, "failures after b stopped: \(failures)")
        #expect(failures.allSatisfy { $0 == 502 })
        #expect(codes.suffix(50).allSatisfy { $0 == 200 }, "b is out of rotation")
        #expect(
            try await metric(gateway, #"gateway_upstream_ejections_total{upstream="backend",target="\#(b.address)"}"#) == 1)
        #expect(try await metric(gateway, healthy(b)) == 0)
        #expect(try await metric(gateway, healthy(a)) == 1)
        // Panic mode: with every target ejected (and none failing active checks) requests
        // still go out, and fail as the targets do (502), not with 503.
        await a.stop()
        let panic = try await statusCodes(gateway, "/api/echo", count: 8)
        #expect(panic == Array(repeating: 502, count: 8))
        #expect(try await metric(gateway, healthy(a)) == 0)
        await gateway.stop()
    }

    @Test func withRetriesATargetStoppedUnderLoadCostsNoRequest() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        let gateway = try await TestGateway.start(
            routes: apiRoute,
            extra: gatewayDocument(
                [a, b],
                [
                    "outlier_detection": ["consecutive_failures": 3, "ejection_time": "60s"],
                    "retries": ["attempts": 1, "on": ["connect-failure", "reset"]],
                ]))
        // Three clients, each sending requests that take a few milliseconds upstream; b stops
        // once it has served some (polled, so a busy test machine only shifts the moment).
        let loads = (0..<3).map { _ in
            Task { try await statusCodes(gateway, "/api/slow?ms=5", count: 400) }
        }
        #expect(try await eventually { b.requests >= 10 })
        await b.stop()
        let servedByAAtStop = a.requests
        var codes: [Int] = []
        for load in loads { codes += try await load.value }
        #expect(codes.count == 1200)
        #expect(codes.allSatisfy { $0 == 200 }, "codes other than 200: \(codes.filter { $0 != 200 })")
        #expect(a.requests - servedByAAtStop >= 10, "the load went on after b stopped")
        #expect(try await metric(gateway, retries) ?? 0 >= 1)
        #expect(try await metric(gateway, healthy(b)) == 0)
        await gateway.stop()
        await a.stop()
    }

    @Test func activeChecksTakeATargetOutAndBringItBackWithThresholds() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        let gateway = try await TestGateway.start(
            routes: apiRoute,
            extra: gatewayDocument(
                [a, b],
                [
                    "health_check": [
                        "path": "/healthz", "interval": "300ms", "timeout": "300ms", "healthy_threshold": 2,
                        "unhealthy_threshold": 3,
                    ]
                ]))
        #expect(try await eventually { b.healthChecks >= 2 })
        #expect(try await metric(gateway, healthy(b)) == 1)

        b.healthStatus = 503
        let checksWhenFailing = b.healthChecks
        #expect(try await eventually { try await metric(gateway, healthy(b)) == 0 })
        #expect(b.healthChecks - checksWhenFailing >= 3, "out only after unhealthy_threshold failed checks")
        let servedWhileHealthy = b.requests
        let codes2 = try await statusCodes(gateway, "/api/echo", count: 20)
        #expect(codes2.allSatisfy { $0 == 200 })
        #expect(b.requests == servedWhileHealthy, "no request reaches a target that fails its checks")
        #expect(a.requests == 20)

        b.healthStatus = 200
        let checksWhenRecovering = b.healthChecks
        #expect(try await eventually { try await metric(gateway, healthy(b)) == 1 })
        #expect(b.healthChecks - checksWhenRecovering >= 2, "back only after healthy_threshold good checks")
        let codes3 = try await statusCodes(gateway, "/api/echo", count: 20)
        #expect(codes3.allSatisfy { $0 == 200 })
        #expect(b.requests == servedWhileHealthy + 10)
        // The checker keeps its connection alive: a handful of connections for all its checks.
        #expect(b.healthChecks >= 6)
        #expect(b.connections <= 4, "\(b.connections) connections for \(b.healthChecks) checks and 10 requests")
        await gateway.stop()
        await a.stop()
        await b.stop()
    }

    @Test func noHealthyTargetAnswers503AtOnce() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        a.healthStatus = 500
        b.healthStatus = 404
        let gateway = try await TestGateway.start(
            routes: apiRoute,
            extra: gatewayDocument([a, b], ["health_check": ["path": "/healthz", "interval": "200ms"]]))
        // The first check's verdict counts at once.
        #expect(
            try await eventually {
                let a = try await metric(gateway, healthy(a))
                let b = try await metric(gateway, healthy(b))
                return a == 0 && b == 0
            })
        let started = Date()
        let result = try await offThePool { try curl(gateway, "/api/echo", ["-H", "x-request-id: r-503"]) }
        #expect(Date().timeIntervalSince(started) < 3, "no connect or request timeout was waited for")
        #expect(result.code == 503)
        #expect(
            result.body
                == #"{"error":{"status":503,"code":"no_healthy_upstream","message":"No target of the upstream passes its health checks.","request_id":"r-503"}}"#
        )
        #expect(a.requests == 0 && b.requests == 0)
        // A body the client sends with it is read and dropped; the connection stays usable.
        let post = try await offThePool {
            try run(
                "/usr/bin/curl",
                [
                    "-sS", "--cacert", gateway.caPath, "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\n",
                    "--data", "abc", gateway.url("/api/x"), "-o", "/dev/null", gateway.url("/api/y"),
                ])
        }
        #expect(post.stdout == "503 1\n503 0\n")
        // One target recovers: traffic flows again.
        b.healthStatus = 200
        #expect(try await eventually { try await metric(gateway, healthy(b)) == 1 })
        #expect(try await offThePool { try curl(gateway, "/api/echo") }.code == 200)
        await gateway.stop()
        await a.stop()
        await b.stop()
    }

    @Test func retriesGoToAnotherTargetAndAreCounted() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        a.forcedStatus = 503
        let gateway = try await TestGateway.start(
            routes: apiRoute,
            extra: gatewayDocument(
                [a, b], ["retries": ["attempts": 1, "on": ["503"], "min_retries_per_second": 10]]))
        let codes = try await statusCodes(gateway, "/api/echo", count: 20)
        #expect(codes == Array(repeating: 200, count: 20))
        // Round robin sends every other request to a; each of those is retried on b.
        #expect(a.requests == 10)
        #expect(b.requests == 20)
        #expect(try await metric(gateway, retries) == 10)
        #expect(
            try await metric(
                gateway, #"gateway_upstream_requests_total{upstream="backend",target="\#(a.address)",code="503"}"#)
                == 10)
        let text = try await offThePool { try gateway.scrape() }
        let check = try await offThePool { try run("/usr/bin/promtool", ["check", "metrics"], input: Data(text.utf8)) }
        #expect(check.status == 0, "promtool: \(check.stdout) \(check.stderr)")
        #expect(text.contains("# HELP gateway_upstream_retries_total"))
        #expect(text.contains("# HELP gateway_upstream_target_healthy"))
        await gateway.stop()
        await a.stop()
        await b.stop()
    }

    @Test func theBudgetStopsRetriesWhenMostRequestsFail() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        a.forcedStatus = 503
        b.forcedStatus = 503
        let gateway = try await TestGateway.start(
            routes: apiRoute,
            extra: gatewayDocument(
                [a, b],
                ["retries": ["attempts": 2, "on": ["503"], "budget_percent": 20, "min_retries_per_second": 0]]))
        let codes = try await statusCodes(gateway, "/api/echo", count: 50)
        #expect(codes == Array(repeating: 503, count: 50))
        let retried = Int(try await metric(gateway, retries) ?? -1)
        // 20 % of 50 requests: at most 10 retries, where two per request would have been 100.
        #expect(retried >= 5 && retried <= 10, "\(retried) retries")
        #expect(a.requests + b.requests == 50 + retried)
        await gateway.stop()
        await a.stop()
        await b.stop()
    }

    @Test func aRequestWhoseBodyWasStreamedIsNotRetried() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        let gateway = try await TestGateway.start(
            routes: apiRoute,
            extra: gatewayDocument(
                [a, b], ["retries": ["attempts": 2, "on": ["connect-failure", "reset"], "min_retries_per_second": 10]]))
        let body = String(repeating: "x", count: 2000)
        // /reset closes the connection once the request (body included) is read.
        let post = try await offThePool { try curl(gateway, "/api/reset", ["-X", "POST", "--data", body]) }
        #expect(post.code == 502)
        let put = try await offThePool { try curl(gateway, "/api/reset", ["-X", "PUT", "--data", body]) }
        #expect(put.code == 502)
        #expect(try await metric(gateway, retries) == 0)
        #expect(a.requests + b.requests == 2, "each went upstream once")
        // The same without a body is retried, on the other target first.
        let get = try await offThePool { try curl(gateway, "/api/reset") }
        #expect(get.code == 502)
        #expect(try await metric(gateway, retries) == 2)
        #expect(a.requests + b.requests == 5)
        #expect(a.requests >= 2 && b.requests >= 2)
        await gateway.stop()
        await a.stop()
        await b.stop()
    }

    @Test func seriesOfRemovedTargetsDisappearAfterAReload() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        let keys: [String: Any] = [
            "health_check": ["path": "/healthz", "interval": "200ms"],
            "outlier_detection": ["consecutive_failures": 1],
            "retries": [:] as [String: Any],
        ]
        let gateway = try await TestGateway.start(routes: apiRoute, extra: gatewayDocument([a, b], keys))
        let codes4 = try await statusCodes(gateway, "/api/echo", count: 2)
        #expect(codes4 == [200, 200])
        #expect(try await metric(gateway, healthy(a)) == 1)
        #expect(try await metric(gateway, healthy(b)) == 1)
        #expect(try await metric(gateway, retries) == 0)
        let requestsToB = #"gateway_upstream_requests_total{upstream="backend",target="\#(b.address)",code="200"}"#
        #expect(try await metric(gateway, requestsToB) == 1, "round robin sent one of the two to b")

        try gateway.rewrite { $0.merge(gatewayDocument([a], keys)) { $1 } }
        #expect(try await gateway.adminReload().code == 200)
        #expect(try await metric(gateway, healthy(b)) == nil)
        #expect(try await metric(gateway, requestsToB) == nil, "a removed target's request series go too")
        #expect(try await metric(gateway, healthy(a)) == 1)
        #expect(try await metric(gateway, retries) == 0)
        #expect(b.healthChecks > 0)
        // The old group's checker stopped with it: b gets no more checks.
        let checksAfterReload = b.healthChecks
        try await Task.sleep(for: .milliseconds(600))
        #expect(b.healthChecks <= checksAfterReload + 1)

        try gateway.rewrite { $0["upstreams"] = [:] as [String: Any]; $0["routes"] = TestGateway.itemRoutes }
        #expect(try await gateway.adminReload().code == 200)
        #expect(try await metric(gateway, healthy(a)) == nil)
        #expect(try await metric(gateway, retries) == nil)
        let durations = #"gateway_upstream_request_duration_seconds_count{upstream="backend"}"#
        #expect(try await metric(gateway, durations) == nil)
        await gateway.stop()
        await a.stop()
        await b.stop()
    }
}
