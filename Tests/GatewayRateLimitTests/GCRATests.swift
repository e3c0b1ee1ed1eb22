import GatewayRateLimit
import Testing

@Suite("GCRA")
struct GCRATests {
    /// A token bucket in integer nanoseconds of credit: the textbook model GCRA must equal.
    struct ReferenceBucket {
        let capacity: Int64
        let cost: Int64
        var level: Int64
        var last: Int64

        init(limit: GCRA, start: Int64) {
            self.cost = limit.emissionInterval
            self.capacity = limit.emissionInterval * Int64(limit.burst)
            self.level = self.capacity
            self.last = start
        }

        mutating func take(at now: Int64) -> (allowed: Bool, remaining: Int) {
            self.level = min(self.capacity, self.level + (now - self.last))
            self.last = now
            guard self.level >= self.cost else { return (false, 0) }
            self.level -= self.cost
            return (true, Int(self.level / self.cost))
        }
    }

    /// A small deterministic generator, so a failure can be replayed from its seed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: 1...40)
    func agreesWithATokenBucketOnRandomArrivals(seed: Int) {
        var random = SplitMix(state: UInt64(seed))
        let limit = GCRA(
            limit: Int.random(in: 1...50, using: &random),
            period: [.seconds(1), .milliseconds(250), .seconds(60)].randomElement(using: &random)!,
            burst: Int.random(in: 0...20, using: &random))
        var now: Int64 = 1_000_000_000
        var reference = ReferenceBucket(limit: limit, start: now)
        var stored: Int64? = nil
        for step in 0..<2_000 {
            // Gaps around the emission interval, including bursts of simultaneous arrivals and exact boundaries.
            let gap: Int64
            switch Int.random(in: 0..<5, using: &random) {
            case 0: gap = 0
            case 1: gap = limit.emissionInterval
            case 2: gap = limit.emissionInterval - 1
            case 3: gap = Int64.random(in: 0...(limit.emissionInterval * 3), using: &random)
            default: gap = Int64.random(in: 0...(limit.emissionInterval / 4 + 1), using: &random)
            }
            now += gap
            let decision = limit.decide(now: now, stored: stored)
            let expected = reference.take(at: now)
            #expect(decision.allowed == expected.allowed, "seed \(seed) step \(step)")
            #expect(decision.remaining == expected.remaining, "seed \(seed) step \(step)")
            if decision.allowed { stored = decision.theoreticalArrival }
        }
    }

    @Test func exactAtTheBoundaries() {
        // 10 per second, burst 10: ten at once, the eleventh waits exactly 100 ms.
        let limit = GCRA(limit: 10, period: .seconds(1), burst: 10)
        var stored: Int64? = nil
        let start: Int64 = 5_000_000_000
        for expectedRemaining in (0..<10).reversed() {
            let decision = limit.decide(now: start, stored: stored)
            #expect(decision.allowed)
            #expect(decision.remaining == expectedRemaining)
            stored = decision.theoreticalArrival
        }
        let refused = limit.decide(now: start, stored: stored)
        #expect(!refused.allowed)
        #expect(refused.retryAfter == 100_000_000)
        #expect(refused.resetAfter == 1_000_000_000)
        #expect(!limit.decide(now: start + 99_999_999, stored: stored).allowed)
        let admitted = limit.decide(now: start + 100_000_000, stored: stored)
        #expect(admitted.allowed)
        #expect(admitted.remaining == 0)
    }

    @Test func burstZeroMeansOneAtATime() {
        let limit = GCRA(limit: 2, period: .seconds(1), burst: 0)
        let first = limit.decide(now: 0, stored: nil)
        #expect(first.allowed && first.remaining == 0)
        #expect(!limit.decide(now: 499_999_999, stored: first.theoreticalArrival).allowed)
        #expect(limit.decide(now: 500_000_000, stored: first.theoreticalArrival).allowed)
    }

    @Test func localStoreSharesStateAcrossCallsAndCapsKeys() {
        let store = LocalRateLimitStore(maximumKeys: 4, shards: 1)
        let limit = GCRA(limit: 1, period: .seconds(60), burst: 1)
        #expect(store.decide(key: "a", limit: limit, now: 0).allowed)
        #expect(!store.decide(key: "a", limit: limit, now: 1).allowed)
        for key in ["b", "c", "d", "e", "f"] {
            #expect(store.decide(key: key, limit: limit, now: 2).allowed)
        }
        #expect(store.keyCount == 4)
        #expect(store.evictions == 2)
        store.sweep(now: 120_000_000_000)
        #expect(store.keyCount == 0)
    }
}
