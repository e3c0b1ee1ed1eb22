import Foundation
import GatewayTestSupport
import Testing

/// Issue 5's acceptance test: two gateway processes sharing one redis-server hold the
/// combined limit within 2 % over 10 s, with clients hammering both all the time.
@Suite(
    "Rate limit shared by two gateway processes", .serialized,
    .enabled(if: RedisServer.isInstalled, "needs /usr/bin/redis-server (Debian package redis-server)"))
struct RateLimitTwoProcessesTests {
    @Test func twoProcessesHoldTheCombinedLimitWithinTwoPercentOverTenSeconds() async throws {
        // Ten seconds of blocking clients: off Swift concurrency's threads, which other suites need.
        try await offThePool { try Self.run() }
    }

    private static func run() throws {
        let redis = try RedisServer()
        try redis.start()
        defer { redis.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rl2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        // 20/s with a burst of 20, keyed by route: every client of both gateways shares one budget.
        var gateways: [(process: Process, port: Int)] = []
        defer { for gateway in gateways where gateway.process.isRunning { gateway.process.terminate() } }
        for index in 0..<2 {
            let port = try freeLoopbackPort()
            let config = """
                {"listeners":[{"name":"http","address":"127.0.0.1:\(port)"}],
                 "admin":{"address":"127.0.0.1:\(try freeLoopbackPort())"},
                 "access_log":{"enabled":false}, "event_loops":1, "reload":{"watch":false},
                 "rate_limit_store":{"redis":{"url":"redis://127.0.0.1:\(redis.port)","timeout":"500ms"}},
                 "rate_limits":{"shared":{"limit":"20/s","burst":20,"key":"route","store":"redis"}},
                 "routes":[{"name":"items","match":{"path":"/items/{item_id}","methods":["GET"]},
                            "handler":"items","rate_limits":["shared"]}]}
                """
            let path = directory.appendingPathComponent("gateway-\(index).json").path
            try Data(config.utf8).write(to: URL(fileURLWithPath: path))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: GatewayBinary.path)
            process.arguments = ["run", "--config", path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            gateways.append((process, port))
        }
        for gateway in gateways {
            var up = false
            for _ in 0..<200 where !up {
                up = (try? RawConnection(port: gateway.port)) != nil
                if !up { usleep(25_000) }
            }
            try #require(up, "gateway on port \(gateway.port) started")
        }

        // Two keep-alive clients per gateway, as fast as they can, for 10 s.
        let tally = Tally()
        let start = Date()
        let end = start.addingTimeInterval(10)
        let group = DispatchGroup()
        for gateway in gateways {
            for _ in 0..<2 {
                group.enter()
                Thread {
                    defer { group.leave() }
                    guard let connection = try? RawConnection(port: gateway.port) else { return }
                    var mine = (0, 0, 0)
                    while Date() < end {
                        connection.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n")
                        let response = connection.readResponse()
                        if response.hasPrefix("HTTP/1.1 200") {
                            mine.0 += 1
                        } else if response.hasPrefix("HTTP/1.1 429") {
                            mine.1 += 1
                        } else {
                            mine.2 += 1
                            break
                        }
                    }
                    tally.add(allowed: mine.0, limited: mine.1, other: mine.2)
                }.start()
            }
        }
        group.wait()
        let elapsed = Date().timeIntervalSince(start)
        let (allowed, limited, other) = tally.totals

        #expect(other == 0)
        #expect(limited > allowed, "the clients kept the limit saturated")
        // GCRA admits the burst at once, then one request per 50 ms.
        let expected = 20 + 20 * elapsed
        let deviation = abs(Double(allowed) - expected) / expected
        #expect(deviation <= 0.02, "allowed \(allowed), expected \(expected) over \(elapsed) s")
    }
}

/// Answers counted by the client threads.
private final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts = (allowed: 0, limited: 0, other: 0)

    func add(allowed: Int, limited: Int, other: Int) {
        self.lock.withLock {
            self.counts.allowed += allowed
            self.counts.limited += limited
            self.counts.other += other
        }
    }

    var totals: (Int, Int, Int) { self.lock.withLock { (self.counts.allowed, self.counts.limited, self.counts.other) } }
}
