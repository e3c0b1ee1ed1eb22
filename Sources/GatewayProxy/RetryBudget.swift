import NIOCore

/// Finagle's retry budget: retries may be `percent` of the requests of the
/// last 10 seconds, plus `minPerSecond` per second of that window so a quiet
/// upstream can still retry. When most requests fail, retries stay a small
/// share of the traffic instead of multiplying it.
///
/// One per upstream per event loop (in `UpstreamPool`), like the balancer, so
/// it needs no lock; counts are kept in ten one-second buckets.
struct RetryBudget {
    static let windowSeconds = 10
    let percent: Int
    let minPerSecond: Int
    private var requests = [Int](repeating: 0, count: RetryBudget.windowSeconds)
    private var retries = [Int](repeating: 0, count: RetryBudget.windowSeconds)
    /// The second (of uptime) the newest bucket is for.
    private var second: Int64 = 0

    init(percent: Int, minPerSecond: Int) {
        self.percent = percent
        self.minPerSecond = minPerSecond
    }

    /// A first attempt started at `now`.
    mutating func recordRequest(now: NIODeadline) {
        self.advance(to: now)
        self.requests[self.bucket] += 1
    }

    /// Takes one retry from the budget if there is one left.
    mutating func withdraw(now: NIODeadline) -> Bool {
        self.advance(to: now)
        let requests = self.requests.reduce(0, +)
        let retries = self.retries.reduce(0, +)
        let allowed = requests * self.percent / 100 + self.minPerSecond * Self.windowSeconds
        guard retries < allowed else { return false }
        self.retries[self.bucket] += 1
        return true
    }

    private var bucket: Int { Int(self.second % Int64(Self.windowSeconds)) }

    /// Clears the buckets of the seconds that passed since the last call.
    private mutating func advance(to now: NIODeadline) {
        let second = Int64(now.uptimeNanoseconds / 1_000_000_000)
        guard second != self.second else { return }
        let passed = min(max(second - self.second, 0), Int64(Self.windowSeconds))
        for step in 0..<passed {
            let index = Int((self.second + step + 1) % Int64(Self.windowSeconds))
            self.requests[index] = 0
            self.retries[index] = 0
        }
        self.second = max(second, self.second)
    }
}
