import Foundation
import GatewayTestSupport
import GatewayCore
import Testing

/// The Redis store against a real `redis-server` on a free port.
@Suite(
    "Rate limiting through Redis end to end", .serialized,
    .enabled(if: RedisServer.isInstalled, "needs /usr/bin/redis-server (Debian package redis-server)"))
struct RateLimitRedisEndToEndTests {
    static func extra(redisPort: Int, limit: String, failureMode: String = "open") -> [String: Any] {
        [
            "rate_limit_store": [
                "redis": [
                    "url": "redis://127.0.0.1:\(redisPort)", "timeout": "500ms", "failure_mode": failureMode,
                ]
            ],
            "rate_limits": ["shared": ["limit": limit, "store": "redis"]],
        ]
    }

    @Test func twoGatewaysSharingOneRedisHoldTheCombinedLimit() async throws {
        let redis = try RedisServer()
        try redis.start()
        defer { redis.stop() }
        let extra = Self.extra(redisPort: redis.port, limit: "20/min")
        let first = try await TestGateway.start(routes: limitedItemRoutes(["shared"]), extra: extra)
        let second = try await TestGateway.start(routes: limitedItemRoutes(["shared"]), extra: extra)
        var codes: [Int] = []
        for _ in 0..<3 {
            codes += try curlCodes(first, "/items/1", count: 5)
            codes += try curlCodes(second, "/items/1", count: 5)
        }
        #expect(codes.count == 30)
        #expect(codes.filter { $0 == 200 }.count == 20, "\(codes)")
        #expect(codes.filter { $0 == 429 }.count == 10, "\(codes)")
        #expect(Array(codes.prefix(20)) == Array(repeating: 200, count: 20))
        // Headers come from Redis's answer too.
        let answer = try curlWithHeaders(second, "/items/1")
        #expect(answer.code == 429)
        #expect(answer.headers["ratelimit-policy"] == #""shared";q=20;w=60"#)
        #expect(answer.headers["ratelimit"]?.hasPrefix(#""shared";r=0;t="#) == true)
        #expect((1...3).contains(answer.headers["retry-after"].flatMap { Int($0) } ?? 0))
        await first.stop()
        await second.stop()
    }

    @Test func pipelinedRequestsBehindARedisDecisionStayInOrder() async throws {
        let redis = try RedisServer()
        try redis.start()
        defer { redis.stop() }
        let gateway = try await TestGateway.start(
            routes: limitedItemRoutes(["shared"]), plainListener: true,
            extra: Self.extra(redisPort: redis.port, limit: "100/min"))
        let connection = try RawConnection(port: try #require(gateway.httpPort))
        let body = #"{"name":"a","price":1}"#
        // A limited PUT whose body arrives while Redis decides, a limited GET, then an unlimited POST.
        connection.send(
            "PUT /items/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                + "GET /items/2 HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /items/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        )
        let answers = connection.readToEnd()
        let put = try #require(answers.range(of: #"{"item_id":1,"name":"a""#))
        let get = try #require(answers.range(of: #"{"item_id":2,"q":null}"#))
        let post = try #require(answers.range(of: #"{"name":"a","description":null"#))
        #expect(put.lowerBound < get.lowerBound && get.lowerBound < post.lowerBound, "\(answers)")
        #expect(answers.components(separatedBy: "HTTP/1.1 200 OK").count == 4)
        #expect(answers.components(separatedBy: "ratelimit-policy: ").count == 3)
        await gateway.stop()
    }

    @Test func redisDownFailsOpenCountsAndRecovers() async throws {
        let redis = try RedisServer()
        try redis.start()
        let gateway = try await TestGateway.start(
            routes: limitedItemRoutes(["shared"]), extra: Self.extra(redisPort: redis.port, limit: "2/min"))
        #expect(try curlCodes(gateway, "/items/1", count: 3) == [200, 200, 429])

        redis.stop()
        // Open: every request passes, without a RateLimit item (nobody knows the count).
        for _ in 0..<3 {
            let answer = try curlWithHeaders(gateway, "/items/1")
            #expect(answer.code == 200)
            #expect(answer.headers["ratelimit"] == nil)
            #expect(answer.headers["ratelimit-policy"] == #""shared";q=2;w=60"#)
        }
        let metrics = try gateway.scrape()
        #expect((metricValue(metrics, "gateway_ratelimit_store_errors_total", ["store": "redis"]) ?? 0) >= 3)
        #expect(
            metricValue(
                metrics, "gateway_ratelimit_decisions_total", ["route": "items", "policy": "shared", "result": "error"])
                == 3)

        // A fresh Redis on the same port: the store reconnects by itself and limits again.
        try redis.start()
        defer { redis.stop() }
        var recovered = false
        for _ in 0..<100 {
            if try curlWithHeaders(gateway, "/items/1").headers["ratelimit"] != nil {
                recovered = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(recovered)
        #expect(try curlCodes(gateway, "/items/1", count: 2) == [200, 429])
        await gateway.stop()
    }

    @Test func redisDownFailsClosedWith503AndRecovers() async throws {
        let redis = try RedisServer()
        try redis.start()
        let gateway = try await TestGateway.start(
            routes: limitedItemRoutes(["shared"]),
            extra: Self.extra(redisPort: redis.port, limit: "100/min", failureMode: "closed"))
        #expect(try curlCodes(gateway, "/items/1", count: 2) == [200, 200])

        redis.stop()
        let refused = try curlWithHeaders(gateway, "/items/1", ["-H", "x-request-id: closed-1"])
        #expect(refused.code == 503)
        let error =
            try #require(
                try JSONSerialization.jsonObject(with: Data(refused.body.utf8)) as? [String: Any])["error"]
            as? [String: Any]
        #expect(error?["code"] as? String == "service_unavailable")
        #expect(error?["request_id"] as? String == "closed-1")
        // Pipelined requests behind a paused one are still answered in order.
        #expect(try curlCodes(gateway, "/items/1", count: 3) == [503, 503, 503])

        try redis.start()
        defer { redis.stop() }
        var codes: [Int] = []
        for _ in 0..<100 {
            codes = try curlCodes(gateway, "/items/1", count: 1)
            if codes == [200] { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(codes == [200])
        await gateway.stop()
    }
}
