import NIOConcurrencyHelpers

/// Rate-limit state in this process: one TAT per key, in shards that each have
/// their own lock, so concurrent event loops rarely meet on the same lock and
/// never on a global one. Keys whose TAT has passed hold no information (a
/// fresh key behaves the same) and are dropped when a shard needs room; the
/// number of keys is capped, and evictions of live keys are counted.
public final class LocalRateLimitStore: Sendable {
    private final class Shard: @unchecked Sendable {
        let lock = NIOLock()
        var arrivals: [String: Int64] = [:]
        var lastSweep: Int64 = .min
    }

    private let shards: [Shard]
    private let keysPerShard: Int
    private let evictionCounter = NIOLockedValueBox(0)

    /// `maximumKeys` bounds memory: about 100 bytes per key.
    public init(maximumKeys: Int = 1_000_000, shards: Int = 64) {
        self.shards = (0..<max(1, shards)).map { _ in Shard() }
        self.keysPerShard = max(1, maximumKeys / max(1, shards))
    }

    /// Decides a request for `key` at `now` (nanoseconds, monotonic) and records it.
    public func decide(key: String, limit: GCRA, now: Int64) -> GCRA.Decision {
        let shard = self.shards[Int(UInt(bitPattern: key.hashValue) % UInt(self.shards.count))]
        return shard.lock.withLock {
            let decision = limit.decide(now: now, stored: shard.arrivals[key])
            if decision.allowed {
                if shard.arrivals[key] == nil && shard.arrivals.count >= self.keysPerShard {
                    self.makeRoom(in: shard, now: now)
                }
                shard.arrivals[key] = decision.theoreticalArrival
            }
            return decision
        }
    }

    /// Keys currently held (live or not yet swept).
    public var keyCount: Int {
        self.shards.reduce(0) { total, shard in total + shard.lock.withLock { shard.arrivals.count } }
    }

    /// Live keys dropped because the store was full.
    public var evictions: Int { self.evictionCounter.withLockedValue { $0 } }

    /// Drops every expired key; called from a timer so idle keys don't accumulate.
    public func sweep(now: Int64) {
        for shard in self.shards {
            shard.lock.withLock { shard.arrivals = shard.arrivals.filter { $0.value > now } }
        }
    }

    /// Under the shard's lock: drop expired keys (at most once a second, so a
    /// flood of new keys costs O(1) each), or failing that one live key.
    private func makeRoom(in shard: Shard, now: Int64) {
        if shard.lastSweep == .min || now - shard.lastSweep >= 1_000_000_000 {
            shard.lastSweep = now
            shard.arrivals = shard.arrivals.filter { $0.value > now }
            if shard.arrivals.count < self.keysPerShard { return }
        }
        if let victim = shard.arrivals.first {
            shard.arrivals[victim.key] = nil
            self.evictionCounter.withLockedValue { $0 += 1 }
        }
    }
}
