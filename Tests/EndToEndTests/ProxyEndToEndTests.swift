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
        let post = try curl(
            gateway, "/api/items", ["-X", "POST", "-H", "content-type: application/json", "--data", #"{"a":1}"#])
        #expect(post.code == 200)
        let posted = try json(post.body)
        #expect(posted["method"] as? String == "POST")
        #expect(posted["body_bytes"] as? Int == 7)
        // The built-in routes still answer next to the proxied ones.
        #expect(try curl(gateway, "/items/42").body == #"{"item_id":42,"q":null}"#)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func hopByHopRemovedAndForwardingHeadersSet() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let rules: [String: Any] = [
            "headers": [
                "request": ["set": ["x-api-version": "2"], "remove": ["cookie"]],
                "response": ["add": ["x-served-by": "gateway"]],
            ]
        ]
        // The test client (127.0.0.1) is a trusted proxy here, so its X-Forwarded-For chain is continued.
        var extra = upstreams([upstream.address])
        extra["trusted_proxies"] = ["127.0.0.1"]
        let gateway = try await TestGateway.start(routes: proxyRoutes(rules), extra: extra)
        let result = try curl(
            gateway, "/api/echo",
            [
                "-H", "Connection: keep-alive, x-custom", "-H", "x-custom: 1", "-H", "Keep-Alive: timeout=5",
                "-H", "TE: trailers", "-H", "Upgrade: websocket", "-H", "Proxy-Connection: keep-alive",
                "-H", "X-Forwarded-For: 203.0.113.9", "-H", "x-request-id: req-42", "-H", "cookie: a=b",
                "-H", "x-kept: yes",
            ])
        #expect(result.code == 200)
        let headers = try #require(try json(result.body)["headers"] as? [String: [String]])
        for name in ["connection", "keep-alive", "te", "upgrade", "proxy-connection", "x-custom", "cookie", "expect"] {
            #expect(headers[name] == nil, "\(name) must not reach the upstream")
        }
        #expect(headers["x-kept"] == ["yes"])
        #expect(headers["host"] == ["localhost:\(gateway.httpsPort)"])
        #expect(headers["x-forwarded-for"] == ["203.0.113.9, 127.0.0.1"])
        #expect(headers["x-forwarded-proto"] == ["https"])
        #expect(headers["x-forwarded-host"] == ["localhost:\(gateway.httpsPort)"])
        #expect(headers["forwarded"] == ["for=127.0.0.1;proto=https;host=\"localhost:\(gateway.httpsPort)\""])
        #expect(headers["x-request-id"] == ["req-42"])
        #expect(headers["x-api-version"] == ["2"])
        // No traceparent from the client: the gateway starts a trace.
        let started = try #require(headers["traceparent"]?.first)
        #expect(headers["traceparent"]?.count == 1 && started.hasPrefix("00-") && started.utf8.count == 55)
        let traced = try curl(
            gateway, "/api/echo", ["-H", "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
        let tracedHeaders = try #require(try json(traced.body)["headers"] as? [String: [String]])
        #expect(tracedHeaders["traceparent"] == ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])

        // The response loses the upstream's hop-by-hop fields and carries the request id.
        let hop = try curl(gateway, "/api/hop", ["-i", "-H", "x-request-id: req-43"])
        let head = hop.body.lowercased()
        #expect(head.contains("x-upstream: a"))
        #expect(!head.contains("x-hop"))
        #expect(!head.contains("keep-alive"))
        #expect(head.contains("x-request-id: req-43"))
        #expect(head.contains("x-served-by: gateway"))
        // Without a client id the gateway makes one and sends it both ways.
        let generated = try curl(gateway, "/api/echo", ["-i"])
        let id = try #require(
            generated.body.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-request-id: ") }?.dropFirst(14)
        )
        #expect(generated.body.contains(#""x-request-id":["\#(id)"]"#))
        await gateway.stop()
        await upstream.stop()
    }

    @Test func keepAliveConnectionsAreReused() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await TestGateway.start(routes: proxyRoutes(), extra: upstreams([upstream.address]))
        // Several clients, each sending many requests on its connection.
        for _ in 0..<3 {
            var arguments = ["-sS", "--cacert", gateway.caPath, "-w", "%{http_code}\n"]
            for index in 0..<100 { arguments += ["-o", "/dev/null", gateway.url("/api/echo?n=\(index)")] }
            let result = try run("/usr/bin/curl", arguments)
            #expect(result.stdout.split(separator: "\n").allSatisfy { $0 == "200" })
        }
        #expect(upstream.requests == 300)
        #expect(upstream.connections <= 3, "300 requests took \(upstream.connections) upstream connections")
        await gateway.stop()
        await upstream.stop()
    }

    @Test func weightedRoundRobinOverTwoTargets() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        let gateway = try await TestGateway.start(
            routes: proxyRoutes(),
            extra: [
                "upstreams": ["backend": ["targets": [["address": a.address, "weight": 3], ["address": b.address]]]]
            ])
        var arguments = ["-sS", "--cacert", gateway.caPath]
        for _ in 0..<100 { arguments += [gateway.url("/api/echo"), "-w", "\n"] }
        _ = try run("/usr/bin/curl", arguments)
        // One event loop: smooth weighted round robin is exact.
        #expect(a.requests == 75)
        #expect(b.requests == 25)
        await gateway.stop()
        await a.stop()
        await b.stop()
    }

    /// `consistent_hash` on a header: each user always reaches the same target, and users spread.
    @Test func consistentHashKeepsEachKeyOnOneTarget() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        let gateway = try await TestGateway.start(
            routes: proxyRoutes(),
            extra: [
                "upstreams": [
                    "backend": [
                        "targets": [["address": a.address], ["address": b.address]],
                        "load_balancing": "consistent_hash", "hash_on": "header", "hash_header": "X-User",
                    ]
                ]
            ])
        var served: [String: Set<String>] = [:]
        for round in 0..<3 {
            // `--next` starts a new set of options, so each request carries its own X-User.
            var arguments: [String] = []
            for user in 0..<20 {
                if user > 0 { arguments.append("--next") }
                arguments += [
                    "-sS", "--cacert", gateway.caPath, "-H", "X-User: user-\(user)",
                    gateway.url("/api/echo?u=\(user)&r=\(round)"), "-w", "\n",
                ]
            }
            let command = arguments
            let output = try await offThePool { try run("/usr/bin/curl", command).stdout }
            for line in output.split(separator: "\n") where line.hasPrefix("{") {
                let answer = try json(String(line))
                let uri = try #require(answer["uri"] as? String)
                let user = String(uri.split(separator: "u=")[1].prefix { $0 != "&" })
                served[user, default: []].insert(try #require(answer["upstream"] as? String))
            }
        }
        #expect(served.count == 20)
        #expect(served.values.allSatisfy { $0.count == 1 }, "each user on one target: \(served)")
        let perTarget = Dictionary(grouping: served.values.compactMap(\.first), by: { $0 }).mapValues(\.count)
        #expect((perTarget["a"] ?? 0) >= 3 && (perTarget["b"] ?? 0) >= 3, "users spread: \(perTarget)")
        await gateway.stop()
        await a.stop()
        await b.stop()
    }

    @Test func leastRequestSpreadsOverTargets() async throws {
        let a = try await ProxyTestUpstream.start(name: "a")
        let b = try await ProxyTestUpstream.start(name: "b")
        let gateway = try await TestGateway.start(
            routes: proxyRoutes(), extra: upstreams([a.address, b.address], ["load_balancing": "least_request"]))
        var arguments = ["-sS", "--cacert", gateway.caPath]
        for _ in 0..<60 { arguments += [gateway.url("/api/echo"), "-o", "/dev/null"] }
        _ = try run("/usr/bin/curl", arguments)
        // Sequential requests tie on load, so the pick is random: both get some.
        #expect(a.requests + b.requests == 60)
        #expect(a.requests > 10 && b.requests > 10)
        await gateway.stop()
        await a.stop()
        await b.stop()
    }

    @Test func refusedUpstreamIs502AndTheClientConnectionSurvives() async throws {
        let port = try await ProxyTestUpstream.closedPort()
        let gateway = try await TestGateway.start(routes: proxyRoutes(), extra: upstreams(["127.0.0.1:\(port)"]))
        let result = try run(
            "/usr/bin/curl",
            [
                "-sS", "--cacert", gateway.caPath, "-H", "x-request-id: r-502",
                "-w", "\n%{http_code} %{num_connects}\n", gateway.url("/api/x"), gateway.url("/items/1"),
            ])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(
            lines.first
                == #"{"error":{"status":502,"code":"bad_gateway","message":"The upstream could not be reached.","request_id":"r-502"}}"#
        )
        #expect(lines.dropFirst().first == "502 1")
        #expect(lines.last == "200 0", "the second request reuses the client connection")
        await gateway.stop()
    }

    @Test func slowUpstreamIs504AndTheClientConnectionSurvives() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await TestGateway.start(
            routes: proxyRoutes(["request_timeout": "300ms"]), extra: upstreams([upstream.address]))
        let result = try run(
            "/usr/bin/curl",
            [
                "-sS", "--cacert", gateway.caPath, "-H", "x-request-id: r-504",
                "-w", "\n%{http_code} %{num_connects}\n", gateway.url("/api/slow?ms=3000"), gateway.url("/api/echo"),
            ])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.first
                == #"{"error":{"status":504,"code":"gateway_timeout","message":"The upstream did not answer in time.","request_id":"r-504"}}"#
        )
        #expect(lines.dropFirst().first == "504 1")
        #expect(lines.last == "200 0")
        await gateway.stop()
        await upstream.stop()
    }

    @Test func unreachableTargetAnswersInTheErrorShape() async throws {
        // 192.0.2.0/24 is TEST-NET-1: nothing answers, so the connect hangs until its timeout (504).
        let gateway = try await TestGateway.start(
            routes: proxyRoutes(), extra: upstreams(["192.0.2.1:9"], ["connect_timeout": "200ms"]))
        let result = try curl(gateway, "/api/x")
        // Without a route to TEST-NET the connect fails at once instead: 502.
        #expect(result.code == 504 || result.code == 502)
        #expect(result.body.contains(result.code == 504 ? #""code":"gateway_timeout""# : #""code":"bad_gateway""#))
        await gateway.stop()
    }

    @Test func chunkedResponseAndChunkedUpload() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await TestGateway.start(
            routes: proxyRoutes(),
            extra: upstreams([upstream.address]).merging(["http": ["max_body_bytes": 4_000_000]]) { $1 })
        let chunked = try curl(gateway, "/api/chunked?parts=50", ["-i"])
        #expect(chunked.body.lowercased().contains("transfer-encoding: chunked"))
        #expect(chunked.body.hasSuffix((0..<50).map { "part-\($0);" }.joined()))

        let file = gateway.directory.appendingPathComponent("upload.bin")
        try Data(repeating: 0x61, count: 3_000_000).write(to: file)
        let upload = try curl(
            gateway, "/api/upload",
            ["-X", "POST", "-H", "transfer-encoding: chunked", "--data-binary", "@\(file.path)"])
        #expect(upload.code == 200)
        let echoed = try json(upload.body)
        #expect(echoed["body_bytes"] as? Int == 3_000_000)
        let headers = try #require(echoed["headers"] as? [String: [String]])
        #expect(headers["transfer-encoding"] == ["chunked"])

        // Expect: 100-continue is answered by the gateway and not forwarded.
        let expecting = try curl(
            gateway, "/api/upload", ["-H", "Expect: 100-continue", "--data-binary", "@\(file.path)"])
        #expect(expecting.code == 200)
        let expected = try json(expecting.body)
        #expect(expected["body_bytes"] as? Int == 3_000_000)
        #expect((expected["headers"] as? [String: [String]])?["expect"] == nil)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await TestGateway.start(
            routes: proxyRoutes(), plainListener: true, extra: upstreams([upstream.address]))
        let connection = try RawConnection(port: try #require(gateway.httpPort))
        connection.send(
            "GET /api/slow?ms=200 HTTP/1.1\r\nHost: a\r\n\r\n" + "GET /items/5 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /api/chunked?parts=2 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /items/6 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let text = connection.readToEnd()
        let slow = try #require(text.range(of: "slow?ms=200"))
        let five = try #require(text.range(of: #"{"item_id":5,"q":null}"#))
        let chunks = try #require(text.range(of: "part-0;"))
        let six = try #require(text.range(of: #"{"item_id":6,"q":null}"#))
        #expect(slow.lowerBound < five.lowerBound)
        #expect(five.lowerBound < chunks.lowerBound)
        #expect(chunks.lowerBound < six.lowerBound)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func largeResponseThroughASlowClientKeepsMemoryBounded() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await TestGateway.start(routes: proxyRoutes(), extra: upstreams([upstream.address]))
        _ = try curl(gateway, "/api/big?bytes=1000000", ["-o", "/dev/null"])  // warm up
        let before = residentKilobytes()
        let peak = PeakSampler()
        peak.start()
        let size = 50 * 1024 * 1024
        // curl reads at 10 MB/s: far slower than loopback, so without backpressure the
        // gateway would hold most of the 50 MB.
        let result = try run(
            "/usr/bin/curl",
            [
                "-sS", "--cacert", gateway.caPath, "--limit-rate", "10M", "-o", "/dev/null", "-w",
                "%{http_code} %{size_download}",
                gateway.url("/api/big?bytes=\(size)"),
            ], timeout: 60)
        let highest = peak.stop()
        #expect(result.stdout == "200 \(size)")
        let growthMB = Double(highest - before) / 1024
        // Bound: 8 MB over the resident size before the transfer (a buffered body would be 50 MB).
        #expect(growthMB < 8, "RSS grew by \(growthMB) MB while streaming 50 MB")
        await gateway.stop()
        await upstream.stop()
    }

    @Test func httpsUpstreamIsVerifiedAgainstItsCAAndName() async throws {
        let certificates = try ProxyTestUpstream.makeTLSCertificates()
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        let upstream = try await ProxyTestUpstream.start(tls: certificates.context)
        func answer(_ tls: [String: Any]?) async throws -> (code: Int, body: String, second: Int) {
            var extra: [String: Any] = ["scheme": "https"]
            if let tls { extra["tls"] = tls }
            let gateway = try await TestGateway.start(
                routes: proxyRoutes(), extra: upstreams([upstream.address], extra))
            let result = try run(
                "/usr/bin/curl",
                [
                    "-sS", "--cacert", gateway.caPath, "-H", "x-request-id: r-tls",
                    "-w", "\n%{http_code}\n", gateway.url("/api/x"), gateway.url("/items/1"),
                ])
            await gateway.stop()
            let lines = result.stdout.split(separator: "\n").map(String.init)
            try #require(lines.count == 4, "curl: \(result.stdout) \(result.stderr)")
            return (Int(lines[1]) ?? 0, lines[0], Int(lines[3]) ?? 0)
        }
        // Trusted CA, name from the target (127.0.0.1, an IP SAN): proxied over TLS.
        let trusted = try await answer(["ca_file": certificates.caPath])
        #expect(trusted.code == 200)
        #expect(try json(trusted.body)["uri"] as? String == "/x")
        // The system's roots do not know the development CA: 502, and the client connection survives.
        let untrusted = try await answer(nil)
        #expect(untrusted.code == 502)
        #expect(
            untrusted.body
                == #"{"error":{"status":502,"code":"bad_gateway","message":"The upstream could not be reached.","request_id":"r-tls"}}"#
        )
        #expect(untrusted.second == 200)
        // Verification off: accepted whatever the chain.
        #expect(try await answer(["verify": false]).code == 200)
        // A name the certificate does not carry: 502.
        let wrongName = try await answer(["ca_file": certificates.caPath, "server_name": "api.example.com"])
        #expect(wrongName.code == 502)
        #expect(wrongName.second == 200)
        // A name it carries, sent as SNI and checked instead of the IP.
        #expect(try await answer(["ca_file": certificates.caPath, "server_name": "localhost"]).code == 200)
        #expect(upstream.requests == 3)
        await upstream.stop()
    }

    /// The CA file rewritten with the configuration unchanged: a reload (the watcher's, or
    /// this admin one) reads it again and says so, and new connections are verified with it.
    @Test func aRewrittenUpstreamCAFileIsReadAgainOnReload() async throws {
        let certificates = try ProxyTestUpstream.makeTLSCertificates()
        let stranger = try ProxyTestUpstream.makeTLSCertificates()
        defer {
            try? FileManager.default.removeItem(at: certificates.directory)
            try? FileManager.default.removeItem(at: stranger.directory)
        }
        let upstream = try await ProxyTestUpstream.start(tls: certificates.context)
        let gateway = try await TestGateway.start(
            routes: proxyRoutes(),
            extra: upstreams([upstream.address], ["scheme": "https", "tls": ["ca_file": "upstream-ca.pem"]])
        ) { directory in
            // Another CA first: the upstream's certificate is not trusted.
            try FileManager.default.copyItem(
                atPath: stranger.caPath, toPath: directory.appendingPathComponent("upstream-ca.pem").path)
        }
        #expect(try await offThePool { try curl(gateway, "/api/x").code } == 502)

        let caFile = gateway.directory.appendingPathComponent("upstream-ca.pem")
        try Data(contentsOf: URL(fileURLWithPath: certificates.caPath)).write(to: caFile, options: .atomic)
        let reload = try await gateway.adminReload()
        #expect(reload.code == 200)
        #expect(reload.body.contains("upstreams.backend.tls.ca_file: reloaded"), "\(reload.body)")
        #expect(try await offThePool { try curl(gateway, "/api/x").code } == 200)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func httpsUpstreamIsHealthCheckedOverTLS() async throws {
        let certificates = try ProxyTestUpstream.makeTLSCertificates()
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        let upstream = try await ProxyTestUpstream.start(tls: certificates.context)
        let gateway = try await TestGateway.start(
            routes: proxyRoutes(),
            extra: upstreams(
                [upstream.address],
                [
                    "scheme": "https", "tls": ["ca_file": certificates.caPath],
                    "health_check": ["path": "/healthz", "interval": "50ms"],
                ]))
        var checked = false
        for _ in 0..<100 where !checked {
            checked = upstream.healthChecks >= 2
            if !checked { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(checked, "the checks reach the upstream over TLS")
        #expect(try curl(gateway, "/api/x").code == 200)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func upstreamMetricsAreExported() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await TestGateway.start(routes: proxyRoutes(), extra: upstreams([upstream.address]))
        for _ in 0..<3 { _ = try curl(gateway, "/api/echo") }
        let body = try run("/usr/bin/curl", ["-sS", "http://127.0.0.1:\(gateway.adminPort)/metrics"]).stdout
        #expect(
            body.contains(
                #"gateway_upstream_requests_total{upstream="backend",target="\#(upstream.address)",code="200"} 3"#))
        #expect(body.contains(#"gateway_upstream_request_duration_seconds_count{upstream="backend"} 3"#))
        #expect(body.contains(#"gateway_upstream_connections{upstream="backend",state="idle"} 1"#))
        #expect(body.contains(#"gateway_upstream_connections{upstream="backend",state="active"} 0"#))
        #expect(body.contains(#"gateway_http_requests_total{route="api",method="GET",code="200"} 3"#))
        let check = try run("/usr/bin/promtool", ["check", "metrics"], input: Data(body.utf8))
        #expect(check.status == 0, "promtool: \(check.stdout) \(check.stderr)")
        await gateway.stop()
        await upstream.stop()
    }
}

/// Samples this process's RSS every 50 ms on a thread and keeps the highest.
final class PeakSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var highest = 0
    private var running = true
    private var thread: Thread?

    func start() {
        let thread = Thread { [self] in
            while self.lock.withLock({ self.running }) {
                let now = residentKilobytes()
                self.lock.withLock { self.highest = max(self.highest, now) }
                usleep(50_000)
            }
        }
        self.thread = thread
        thread.start()
    }

    func stop() -> Int {
        self.lock.withLock { self.running = false }
        usleep(100_000)
        return self.lock.withLock { max(self.highest, residentKilobytes()) }
    }
}
