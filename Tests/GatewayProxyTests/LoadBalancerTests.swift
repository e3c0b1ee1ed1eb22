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
