import GatewayConfig

/// Picks the target of an upstream for each request. One per upstream per event
/// loop (inside `UpstreamPool`), so it needs no lock; balancing is exact per loop
/// and, with the accept spread across loops, close to exact overall.
struct LoadBalancer {
    private let weights: [Int]
    private let totalWeight: Int
    private let algorithm: LoadBalancingAlgorithm
    /// Smooth weighted round robin state (nginx's): each pick adds every weight
    /// and takes the largest, then subtracts the total from it.
    private var current: [Int]
    private var random: Xoshiro256

    init(weights: [Int], algorithm: LoadBalancingAlgorithm) {
        precondition(!weights.isEmpty && weights.allSatisfy { $0 > 0 }, "the decoder checks targets and weights")
        self.weights = weights
        self.totalWeight = weights.reduce(0, +)
        self.algorithm = algorithm
        self.current = Array(repeating: 0, count: weights.count)
        self.random = Xoshiro256()
    }

    /// The index of the target for the next request; `inFlight[i]` is the number
    /// of requests target `i` is serving on this loop (used by least-request).
    mutating func pick(inFlight: [Int]) -> Int {
        if self.weights.count == 1 { return 0 }
        switch self.algorithm {
        case .roundRobin, .consistentHash:
            // consistent_hash without a key (no header) is balanced round robin.
            return self.pickRoundRobin()
        case .leastRequest:
            return self.pickLeastRequest(inFlight: inFlight)
        }
    }

    /// The pick among the targets for which `eligible` is true (some target is
    /// out of rotation, or a retry avoids those already tried); nil when none is.
    /// Round robin runs nginx's smooth algorithm over the eligible targets only,
    /// so the others' shares are spread by weight.
    mutating func pick(inFlight: [Int], where eligible: (Int) -> Bool) -> Int? {
        var candidates: [Int] = []
        candidates.reserveCapacity(self.weights.count)
        for index in self.weights.indices where eligible(index) { candidates.append(index) }
        guard candidates.count > 1 else { return candidates.first }
        switch self.algorithm {
        case .roundRobin, .consistentHash:
            var best = candidates[0]
            var total = 0
            for index in candidates {
                self.current[index] += self.weights[index]
                total += self.weights[index]
                if self.current[index] > self.current[best] { best = index }
            }
            self.current[best] -= total
            return best
        case .leastRequest:
            let count = UInt64(candidates.count)
            let first = Int(self.random.next() % count)
            var second = Int(self.random.next() % (count - 1))
            if second >= first { second += 1 }
            return self.lessLoaded(candidates[first], candidates[second], inFlight: inFlight)
        }
    }

    private mutating func pickRoundRobin() -> Int {
        var best = 0
        for index in self.weights.indices {
            self.current[index] += self.weights[index]
            if self.current[index] > self.current[best] { best = index }
        }
        self.current[best] -= self.totalWeight
        return best
    }

    /// Power of two choices: two distinct random targets, the one with fewer
    /// requests in flight per unit of weight wins; ties go by weight.
    private mutating func pickLeastRequest(inFlight: [Int]) -> Int {
        let count = UInt64(self.weights.count)
        let first = Int(self.random.next() % count)
        var second = Int(self.random.next() % (count - 1))
        if second >= first { second += 1 }
        return self.lessLoaded(first, second, inFlight: inFlight)
    }

    private func lessLoaded(_ first: Int, _ second: Int, inFlight: [Int]) -> Int {
        // Compare inFlight[a] / weight[a] with inFlight[b] / weight[b] without dividing.
        let a = (inFlight[first] + 1) * self.weights[second]
        let b = (inFlight[second] + 1) * self.weights[first]
        if a != b { return a < b ? first : second }
        return self.weights[first] >= self.weights[second] ? first : second
    }
}

/// The consistent-hash ring of an upstream: 100 virtual nodes per unit of
/// weight, placed by a stable hash of the target's `host:port` (not Swift's
/// per-process `Hasher`), so every gateway process maps a key to the same
/// target and removing a target moves only the keys that were on it.
public struct HashRing: Sendable {
    private let points: [(point: UInt64, target: Int)]
    private let targetCount: Int

    static let virtualNodesPerWeight = 100

    init(labels: [String], weights: [Int]) {
        var points: [(UInt64, Int)] = []
        for (target, label) in labels.enumerated() {
            for replica in 0..<(weights[target] * Self.virtualNodesPerWeight) {
                points.append((Self.hash(label + "#" + String(replica)), target))
            }
        }
        self.points = points.sorted { $0.0 < $1.0 }
        self.targetCount = labels.count
    }

    /// The target owning `key`: the first point at or after the key's hash,
    /// walking on past targets that are not `eligible`; nil when none is.
    func target(for key: UInt64, where eligible: (Int) -> Bool = { _ in true }) -> Int? {
        guard !self.points.isEmpty else { return nil }
        var low = 0
        var high = self.points.count
        while low < high {
            let middle = (low + high) / 2
            if self.points[middle].point < key { low = middle + 1 } else { high = middle }
        }
        // The owner is usually eligible: only a walk past ineligible targets needs to track them.
        let owner = self.points[low % self.points.count].target
        if eligible(owner) { return owner }
        var seen: Set<Int> = [owner]
        for offset in 1..<max(1, self.points.count) {
            let target = self.points[(low + offset) % self.points.count].target
            if seen.contains(target) { continue }
            if eligible(target) { return target }
            seen.insert(target)
            if seen.count == self.targetCount { return nil }
        }
        return nil
    }

    /// FNV-1a 64 with a final mix (splitmix64's), stable across processes and runs.
    public static func hash(_ text: some StringProtocol) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01B3
        }
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
