import GatewayConfig
import Testing

@testable import GatewayProxy

@Suite("Load balancing")
struct LoadBalancerTests {
    @Test func smoothWeightedRoundRobinInterleaves() {
        // nginx's example: weights 5, 1, 1 give a a b a c a a, not a a a a a b c.
        var balancer = LoadBalancer(weights: [5, 1, 1], algorithm: .roundRobin)
        let picks = (0..<7).map { _ in balancer.pick(inFlight: [0, 0, 0]) }
        #expect(picks == [0, 0, 1, 0, 2, 0, 0])
    }

    @Test func roundRobinSharesByWeight() {
        var balancer = LoadBalancer(weights: [3, 1], algorithm: .roundRobin)
        var counts = [0, 0]
        for _ in 0..<400 { counts[balancer.pick(inFlight: [0, 0])] += 1 }
        #expect(counts == [300, 100])
    }

    @Test func leastRequestAvoidsTheBusyTarget() {
        var balancer = LoadBalancer(weights: [1, 1], algorithm: .leastRequest)
        // With two targets both are always chosen: the idle one must win every time.
        for _ in 0..<100 { #expect(balancer.pick(inFlight: [5, 0]) == 1) }
        var balancer3 = LoadBalancer(weights: [1, 1, 1], algorithm: .leastRequest)
        var counts = [0, 0, 0]
        for _ in 0..<300 { counts[balancer3.pick(inFlight: [9, 0, 0])] += 1 }
        #expect(counts[0] == 0, "the busiest target loses every pair it is in")
        #expect(counts[1] > 50 && counts[2] > 50)
    }

    @Test func leastRequestWeighsLoadByWeight() {
        var balancer = LoadBalancer(weights: [4, 1], algorithm: .leastRequest)
        // 3 in flight on weight 4 is lighter than 1 on weight 1.
        for _ in 0..<20 { #expect(balancer.pick(inFlight: [3, 1]) == 0) }
    }

    @Test func oneTargetIsAlwaysPicked() {
        var balancer = LoadBalancer(weights: [7], algorithm: .leastRequest)
        #expect(balancer.pick(inFlight: [100]) == 0)
    }
}

@Suite("Consistent-hash ring")
struct HashRingTests {
    private let labels = ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]

    @Test func aKeyAlwaysReachesTheSameTargetAndWeightsShareTheRing() throws {
        let ring = HashRing(labels: self.labels, weights: [1, 1, 2])
        var counts = [0, 0, 0]
        for user in 0..<12_000 {
            let key = HashRing.hash("user-\(user)")
            let target = try #require(ring.target(for: key))
            #expect(ring.target(for: key) == target)
            counts[target] += 1
        }
        // Weight 2 gets about half; 100 virtual nodes per weight keep shares within a few percent.
        #expect(abs(Double(counts[2]) / 12_000 - 0.5) < 0.06, "\(counts)")
        #expect(abs(Double(counts[0]) / 12_000 - 0.25) < 0.06, "\(counts)")
    }

    @Test func removingATargetMovesOnlyItsKeys() throws {
        let three = HashRing(labels: self.labels, weights: [1, 1, 1])
        let two = HashRing(labels: Array(self.labels.prefix(2)), weights: [1, 1])
        var moved = 0
        for user in 0..<6_000 {
            let key = HashRing.hash("user-\(user)")
            let before = try #require(three.target(for: key))
            let after = try #require(two.target(for: key))
            if before != 2 {
                #expect(after == before, "a key not on the removed target stays put")
            } else {
                moved += 1
            }
        }
        #expect(moved > 1_000 && moved < 3_000, "about a third moved: \(moved)")
    }

    @Test func ineligibleTargetsAreSkippedToTheNextOwner() throws {
        let ring = HashRing(labels: self.labels, weights: [1, 1, 1])
        for user in 0..<500 {
            let key = HashRing.hash("user-\(user)")
            let owner = try #require(ring.target(for: key))
            let next = try #require(ring.target(for: key) { $0 != owner })
            #expect(next != owner)
        }
        #expect(ring.target(for: 42) { _ in false } == nil)
        // Stable across processes: a fixed input, a fixed hash.
        #expect(HashRing.hash("10.0.0.1:80#0") == HashRing.hash("10.0.0.1:80#0"))
    }
}
