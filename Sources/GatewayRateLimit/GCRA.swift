/// The generic cell rate algorithm: one theoretical arrival time (TAT) per key
/// decides exactly whether a request fits a rate with a burst, in O(1) time and
/// memory, with no counters to reset and no window edges to game.
///
/// `burst` is how many requests may arrive at the same instant (the bucket
/// size); after that they are admitted one per emission interval
/// (`period / limit`). A burst below 1 counts as 1 (nginx's `burst=0`).
public struct GCRA: Sendable, Hashable {
    /// Nanoseconds between two admitted requests at the steady rate.
    public let emissionInterval: Int64
    /// How far ahead of now the TAT may run before requests are refused.
    public let tolerance: Int64
    public let limit: Int
    public let period: Duration
    public let burst: Int

    public init(limit: Int, period: Duration, burst: Int) {
        precondition(limit > 0, "a rate limit admits at least one request per period")
        let periodNanoseconds = Self.nanoseconds(period)
        self.limit = limit
        self.period = period
        self.burst = max(burst, 1)
        self.emissionInterval = max(1, periodNanoseconds / Int64(limit))
        self.tolerance = self.emissionInterval * Int64(self.burst - 1)
    }

    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        /// The key's new TAT (unchanged when refused).
        public var theoreticalArrival: Int64
        /// Requests that would still be admitted right now after this one.
        public var remaining: Int
        /// Nanoseconds until a refused request would be admitted (0 when allowed).
        public var retryAfter: Int64
        /// Nanoseconds until the key is back to a full burst.
        public var resetAfter: Int64
    }

    /// Decides one request at `now` for a key whose stored TAT is `stored`
    /// (nil for a key never seen or expired). Times are nanoseconds on one
    /// monotonic clock.
    public func decide(now: Int64, stored: Int64?) -> Decision {
        let tat = max(stored ?? now, now)
        let earliest = tat - self.tolerance
        if now < earliest {
            return Decision(
                allowed: false, theoreticalArrival: tat, remaining: 0, retryAfter: earliest - now,
                resetAfter: tat - now)
        }
        let newTAT = tat + self.emissionInterval
        let headroom = self.tolerance + self.emissionInterval - (newTAT - now)
        return Decision(
            allowed: true, theoreticalArrival: newTAT, remaining: Int(headroom / self.emissionInterval),
            retryAfter: 0, resetAfter: newTAT - now)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
