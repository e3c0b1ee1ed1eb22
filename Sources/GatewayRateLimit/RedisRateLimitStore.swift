public import NIOCore

/// Rate-limit state shared by every gateway that uses the same Redis: the same
/// GCRA as `GCRA.decide`, run inside Redis as one Lua script (atomic, on Redis's
/// clock, so gateways on different machines agree), loaded once and called with
/// EVALSHA (reloaded when Redis answers NOSCRIPT).
///
/// Each event loop has its own connection, so a decision never leaves the
/// request's thread; commands from one loop are pipelined on it. When Redis is
/// unreachable, `decide` fails quickly (a failed connect is retried at most once
/// per `reconnectInterval`) and the caller applies its fail-open/closed policy.
public final class RedisRateLimitStore: Sendable {
    public let host: String
    public let port: Int
    public let timeout: TimeAmount
    private let reconnectInterval: TimeAmount
    private let keyPrefix: String
    private let loops: [ObjectIdentifier: LoopState]

    /// `url` is `redis://host[:port]`.
    public init(
        url: String, group: any EventLoopGroup, timeout: TimeAmount = .milliseconds(50),
        reconnectInterval: TimeAmount = .seconds(1), keyPrefix: String = "gateway:ratelimit:"
    ) throws {
        guard let (host, port) = Self.parse(url: url) else {
            throw RedisError(description: "invalid Redis URL \"\(url)\" (expected redis://host[:port])")
        }
        self.host = host
        self.port = port
        self.timeout = timeout
        self.reconnectInterval = reconnectInterval
        self.keyPrefix = keyPrefix
        var loops: [ObjectIdentifier: LoopState] = [:]
        for loop in group.makeIterator() {
            loops[ObjectIdentifier(loop)] = LoopState(eventLoop: loop)
        }
        self.loops = loops
    }

    /// Decides one request for `key` on the caller's event loop (which must belong to the group).
    public func decide(key: String, limit: GCRA, on eventLoop: any EventLoop) -> EventLoopFuture<GCRA.Decision> {
        guard let state = self.loops[ObjectIdentifier(eventLoop)] else {
            return eventLoop.makeFailedFuture(RedisError(description: "event loop not in the store's group"))
        }
        guard eventLoop.inEventLoop else {
            // Requests call from their loop; anything else (tests, tools) hops there first.
            return eventLoop.flatSubmit { self.decide(key: key, limit: limit, on: eventLoop) }
        }
        let interval = max(1, limit.emissionInterval / 1000)
        let tolerance = limit.tolerance / 1000
        return self.connection(state).flatMap { connection in
            self.evaluate(
                on: connection, state: state, key: self.keyPrefix + key, interval: interval, tolerance: tolerance,
                reloadOnMissingScript: true)
        }
    }

    /// Closes the connections.
    public func shutdown() -> EventLoopFuture<Void> {
        let futures = self.loops.values.map { state in
            state.eventLoop.flatSubmit {
                let connection = state.connection
                state.connection = nil
                return connection?.close() ?? state.eventLoop.makeSucceededVoidFuture()
            }.recover { _ in }
        }
        guard let first = self.loops.values.first else {
            fatalError("an event loop group has at least one loop")
        }
        return EventLoopFuture.andAllComplete(futures, on: first.eventLoop)
    }

    // MARK: Script

    /// The GCRA in Redis: times in microseconds from Redis's own clock.
    static let script = """
        local interval = tonumber(ARGV[1])
        local tolerance = tonumber(ARGV[2])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local tat = tonumber(redis.call('GET', KEYS[1]) or now)
        if tat < now then tat = now end
        local earliest = tat - tolerance
        if now < earliest then
          return {0, 0, earliest - now, tat - now}
        end
        local new_tat = tat + interval
        redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
        return {1, math.floor((tolerance + interval - (new_tat - now)) / interval), 0, new_tat - now}
        """

    private func evaluate(
        on connection: RedisConnection, state: LoopState, key: String, interval: Int64, tolerance: Int64,
        reloadOnMissingScript: Bool
    ) -> EventLoopFuture<GCRA.Decision> {
        let sha: EventLoopFuture<String>
        if let loaded = state.scriptSHA {
            sha = state.eventLoop.makeSucceededFuture(loaded)
        } else {
            sha = connection.send(["SCRIPT", "LOAD", Self.script], timeout: self.timeout).flatMapThrowing { reply in
                guard let sha = reply.string else { throw RedisError.unexpectedReply(reply) }
                state.scriptSHA = sha
                return sha
            }
        }
        return sha.flatMap { sha in
            connection.send(
                ["EVALSHA", sha, "1", key, String(interval), String(tolerance)], timeout: self.timeout)
        }.flatMap { reply -> EventLoopFuture<GCRA.Decision> in
            if case .error(let message) = reply, message.hasPrefix("NOSCRIPT"), reloadOnMissingScript {
                state.scriptSHA = nil
                return self.evaluate(
                    on: connection, state: state, key: key, interval: interval, tolerance: tolerance,
                    reloadOnMissingScript: false)
            }
            return state.eventLoop.makeCompletedFuture { try Self.decision(from: reply) }
        }
    }

    static func decision(from reply: RESPValue) throws -> GCRA.Decision {
        if case .error(let message) = reply { throw RedisError.server(message) }
        guard case .array(let elements?) = reply, elements.count == 4 else { throw RedisError.unexpectedReply(reply) }
        var numbers: [Int64] = []
        for element in elements {
            guard case .integer(let number) = element else { throw RedisError.unexpectedReply(reply) }
            numbers.append(number)
        }
        return GCRA.Decision(
            allowed: numbers[0] == 1, theoreticalArrival: 0, remaining: Int(numbers[1]),
            retryAfter: numbers[2] * 1000, resetAfter: numbers[3] * 1000)
    }

    // MARK: Connections

    /// What one event loop holds; touched only on that loop.
    final class LoopState: @unchecked Sendable {
        let eventLoop: any EventLoop
        var connection: RedisConnection?
        var connecting: EventLoopFuture<RedisConnection>?
        var lastFailedConnect: NIODeadline?
        var scriptSHA: String?

        init(eventLoop: any EventLoop) {
            self.eventLoop = eventLoop
        }
    }

    private func connection(_ state: LoopState) -> EventLoopFuture<RedisConnection> {
        state.eventLoop.assertInEventLoop()
        if let connection = state.connection, connection.isActive {
            return state.eventLoop.makeSucceededFuture(connection)
        }
        if let connecting = state.connecting {
            return connecting
        }
        if let failed = state.lastFailedConnect, NIODeadline.now() - failed < self.reconnectInterval {
            return state.eventLoop.makeFailedFuture(RedisError(description: "Redis at \(self.host):\(self.port) is unreachable"))
        }
        state.connection = nil
        state.scriptSHA = nil
        let connecting = RedisConnection.connect(
            host: self.host, port: self.port, on: state.eventLoop, timeout: self.timeout)
        state.connecting = connecting
        connecting.whenComplete { result in
            state.connecting = nil
            switch result {
            case .success(let connection):
                state.connection = connection
                state.lastFailedConnect = nil
            case .failure:
                state.lastFailedConnect = .now()
            }
        }
        return connecting
    }

    private static func unbracketed(_ host: Substring) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : String(host)
    }

    static func parse(url: String) -> (String, Int)? {
        guard url.hasPrefix("redis://") else { return nil }
        var rest = url.dropFirst("redis://".count)
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard !rest.isEmpty else { return nil }
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("]") {
            guard let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else { return nil }
            return (Self.unbracketed(rest[..<colon]), port)
        }
        return (Self.unbracketed(rest), 6379)
    }
}
