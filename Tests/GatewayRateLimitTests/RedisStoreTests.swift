import Foundation
import GatewayTestSupport
import GatewayRateLimit
import NIOCore
import NIOPosix
import Testing

@Suite("Redis store against a real redis-server", .serialized, .enabled(if: RedisServer.isInstalled))
struct RedisStoreTests {
    @Test func connectionPipelinesCommandsInOrder() async throws {
        let redis = try RedisServer()
        try redis.start()
        defer { redis.stop() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let connection = try await RedisConnection.connect(
            host: "127.0.0.1", port: redis.port, on: loop, timeout: .seconds(2)
        ).get()
        #expect(try await connection.send(["PING"], timeout: .seconds(2)).get() == .simpleString("PONG"))
        let replies = try await loop.flatSubmit {
            EventLoopFuture.whenAllSucceed(
                (0..<200).map { _ in connection.send(["INCR", "counter"], timeout: .seconds(2)) }, on: loop)
        }.get()
        #expect(replies == (1...200).map { RESPValue.integer(Int64($0)) })
        let missing = try await connection.send(["GET", "nothing"], timeout: .seconds(2)).get()
        #expect(missing == .bulkString(nil))
        try await connection.close().get()
    }

    @Test func enforcesTheLimitWithTheSameGCRA() async throws {
        let redis = try RedisServer()
        try redis.start()
        defer { redis.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let store = try RedisRateLimitStore(url: "redis://127.0.0.1:\(redis.port)", group: group, timeout: .seconds(1))
        // Per minute, so a loaded machine's pauses between calls don't refill the bucket.
        let limit = GCRA(limit: 10, period: .seconds(60), burst: 10)
        let loop = group.next()
        var decisions: [GCRA.Decision] = []
        for _ in 0..<12 {
            decisions.append(try await store.decide(key: "client-a", limit: limit, on: loop).get())
        }
        #expect(decisions.prefix(10).allSatisfy { $0.allowed })
        #expect(decisions.prefix(10).map(\.remaining) == Array((0..<10).reversed()))
        #expect(!decisions[10].allowed && !decisions[11].allowed)
        #expect(decisions[10].retryAfter > 0 && decisions[10].retryAfter <= 6_000_000_000)
        // Another key is independent.
        #expect(try await store.decide(key: "client-b", limit: limit, on: loop).get().allowed)
        try await store.shutdown().get()
        try await group.shutdownGracefully()
    }

    @Test func reloadsTheScriptAfterNOSCRIPT() async throws {
        let redis = try RedisServer()
        try redis.start()
        defer { redis.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let store = try RedisRateLimitStore(url: "redis://127.0.0.1:\(redis.port)", group: group, timeout: .seconds(1))
        // One per hour with a burst of 100: no refill between the two calls, however slow the machine.
        let limit = GCRA(limit: 1, period: .seconds(3600), burst: 100)
        #expect(try await store.decide(key: "k", limit: limit, on: group.next()).get().allowed)
        let admin = try await RedisConnection.connect(
            host: "127.0.0.1", port: redis.port, on: group.next(), timeout: .seconds(2)
        ).get()
        #expect(try await admin.send(["SCRIPT", "FLUSH"], timeout: .seconds(2)).get() == .simpleString("OK"))
        let after = try await store.decide(key: "k", limit: limit, on: group.next()).get()
        #expect(after.allowed)
        #expect(after.remaining == 98)
        try await admin.close().get()
        try await store.shutdown().get()
        try await group.shutdownGracefully()
    }

    @Test func failsFastWhileRedisIsDownAndRecoversByItself() async throws {
        let port = try freeLoopbackPort()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let store = try RedisRateLimitStore(
            url: "redis://127.0.0.1:\(port)", group: group, timeout: .milliseconds(200),
            reconnectInterval: .seconds(2))
        let limit = GCRA(limit: 5, period: .seconds(1), burst: 5)
        let loop = group.next()
        await #expect(throws: (any Error).self) { try await store.decide(key: "k", limit: limit, on: loop).get() }
        let started = Date()
        await #expect(throws: RedisError.self) { try await store.decide(key: "k", limit: limit, on: loop).get() }
        #expect(Date().timeIntervalSince(started) < 0.5, "a known-down Redis fails at once, without connecting")

        let redis = try RedisServer(port: port)
        try redis.start()
        defer { redis.stop() }
        try await Task.sleep(for: .milliseconds(2100))  // past the reconnect interval
        #expect(try await store.decide(key: "k", limit: limit, on: loop).get().allowed)

        // Killed while connected: the next decision fails, and a restart is picked up again.
        redis.stop()
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: (any Error).self) { try await store.decide(key: "k", limit: limit, on: loop).get() }
        try redis.start()
        try await Task.sleep(for: .milliseconds(2100))  // past the reconnect interval
        #expect(try await store.decide(key: "k", limit: limit, on: loop).get().allowed)
        try await store.shutdown().get()
        try await group.shutdownGracefully()
    }

    @Test func twoGatewaysShareOneLimit() async throws {
        let redis = try RedisServer()
        try redis.start()
        defer { redis.stop() }
        let groupA = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let groupB = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let url = "redis://127.0.0.1:\(redis.port)"
        let storeA = try RedisRateLimitStore(url: url, group: groupA, timeout: .seconds(1))
        let storeB = try RedisRateLimitStore(url: url, group: groupB, timeout: .seconds(1))
        let limit = GCRA(limit: 20, period: .seconds(60), burst: 20)
        var allowed = 0
        for index in 0..<60 {
            let store = index.isMultiple(of: 2) ? storeA : storeB
            let loop = index.isMultiple(of: 2) ? groupA.next() : groupB.next()
            if try await store.decide(key: "shared", limit: limit, on: loop).get().allowed { allowed += 1 }
        }
        // 60 requests in well under the 3 s one request takes to refill: exactly the burst of 20.
        #expect(allowed == 20, "allowed \(allowed)")
        try await storeA.shutdown().get()
        try await storeB.shutdown().get()
        try await groupA.shutdownGracefully()
        try await groupB.shutdownGracefully()
    }
}
