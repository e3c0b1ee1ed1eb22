import GatewayConfig
import GatewayRateLimit
import Logging
import NIOCore
import Prometheus
import Synchronization

/// One `rate_limits` policy, compiled: its GCRA and the store that holds its
/// counters. Kept across reloads while its name and definition are unchanged
/// (see `RateLimitStores.compile`), so its counters survive them.
final class RateLimitPolicy: Sendable {
    let configuration: RateLimitPolicyConfiguration
    var name: String { self.configuration.name }
    let gcra: GCRA
    let backend: Backend
    /// This policy's member of `RateLimit-Policy`, e.g. `"per-ip";q=10;w=1`.
    let policyItem: String
    /// The policy's member of `RateLimit` starts with this: `"per-ip";r=`.
    let itemPrefix: String

    enum Backend: Sendable {
        /// In this process; the policy's own store, so its key count is its own.
        case memory(LocalRateLimitStore, MemoryStoreMetrics)
        /// In Redis, under `keyPrefix`, which names the definition: a changed
        /// definition starts from fresh keys, and old ones expire by themselves.
        case redis(RedisRateLimitBackend, keyPrefix: String)
    }

    init(configuration: RateLimitPolicyConfiguration, backend: Backend) {
        self.configuration = configuration
        self.gcra = GCRA(
            limit: configuration.limit.count, period: .seconds(configuration.limit.period.seconds),
            burst: configuration.burst)
        self.backend = backend
        let quoted = RateLimitHeaders.quoted(configuration.name)
        self.policyItem = "\(quoted);q=\(configuration.limit.count);w=\(configuration.limit.period.seconds)"
        self.itemPrefix = "\(quoted);r="
    }

    /// The Redis key prefix of a policy: its name and every part of its definition.
    static func redisKeyPrefix(_ policy: RateLimitPolicyConfiguration) -> String {
        let key: String
        switch policy.key {
        case .clientIP: key = "client_ip"
        case .route: key = "route"
        case .identity: key = "identity"
        case .header(let name): key = "header=" + name
        }
        return "\(policy.name):\(policy.limit):\(policy.burst):\(key):"
    }
}

/// The sweep's view of a memory-store policy's metrics.
final class MemoryStoreMetrics: Sendable {
    let keys: Gauge
    let evictions: Counter
    /// Evictions already added to the counter (the store counts them itself).
    private let evictionsSeen = Atomic<Int>(0)

    init(keys: Gauge, evictions: Counter) {
        self.keys = keys
        self.evictions = evictions
    }

    func update(from store: LocalRateLimitStore) {
        self.keys.set(Double(store.keyCount))
        let total = store.evictions
        let previous = self.evictionsSeen.exchange(total, ordering: .relaxed)
        if total > previous { self.evictions.increment(by: Int64(total - previous)) }
    }
}

/// `rate_limit_store.redis`: the shared `RedisRateLimitStore` (one connection
/// per event loop), its failure mode, and the error counter and log, which
/// says once when Redis fails (then at most every 10 s) and once when it is back.
final class RedisRateLimitBackend: Sendable {
    let configuration: RedisStoreConfiguration
    /// Nil when compiled without event loops (`gateway check`).
    let store: RedisRateLimitStore?
    private let errors: Counter
    private let logger: Logger
    private let failing = Atomic<Bool>(false)
    private let lastLogged = Atomic<Int64>(.min)
    private let unlogged = Atomic<Int>(0)
    static let logInterval: Int64 = 10_000_000_000

    init(
        configuration: RedisStoreConfiguration, group: (any EventLoopGroup)?, metrics: GatewayMetrics, logger: Logger
    ) throws {
        self.configuration = configuration
        self.store = try group.map {
            try RedisRateLimitStore(url: configuration.url, group: $0, timeout: TimeAmount(configuration.timeout))
        }
        self.errors = metrics.rateLimitStoreErrors(store: "redis")
        self.logger = logger
    }

    func decide(key: String, limit: GCRA, on eventLoop: any EventLoop) -> EventLoopFuture<GCRA.Decision> {
        guard let store = self.store else {
            return eventLoop.makeFailedFuture(RedisError.connectionClosed)
        }
        return store.decide(key: key, limit: limit, on: eventLoop)
    }

    func recordSuccess() {
        guard self.failing.load(ordering: .relaxed) else { return }
        if self.failing.exchange(false, ordering: .relaxed) {
            self.logger.notice(
                "Redis rate-limit store answers again",
                metadata: ["url": .string(self.configuration.url)])
        }
    }

    func recordFailure(_ error: any Error, now: Int64) {
        self.errors.increment()
        let wasFailing = self.failing.exchange(true, ordering: .relaxed)
        let last = self.lastLogged.load(ordering: .relaxed)
        guard !wasFailing || now - last >= Self.logInterval,
            self.lastLogged.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged
        else {
            self.unlogged.add(1, ordering: .relaxed)
            return
        }
        let suppressed = self.unlogged.exchange(0, ordering: .relaxed)
        self.logger.warning(
            "Redis rate-limit store failed; requests are \(self.configuration.failureMode == .open ? "allowed" : "refused with 503")",
            metadata: [
                "url": .string(self.configuration.url), "error": .string("\(error)"),
                "failure_mode": .string(self.configuration.failureMode.rawValue),
                "errors_not_logged": .stringConvertible(suppressed),
            ])
    }

    func shutdown() {
        _ = self.store?.shutdown()
    }
}
