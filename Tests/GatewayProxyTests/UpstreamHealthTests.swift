import GatewayConfig
import NIOCore
import Testing

@testable import GatewayProxy

private func at(seconds: Double) -> NIODeadline {
    .uptimeNanoseconds(UInt64(1_000_000_000_000 + seconds * 1_000_000_000))
}

@Suite("Ejection back-off")
struct EjectionBackoffTests {
    @Test func doublesOnRepeatEjectionsUpToTheCap() {
        var backoff = EjectionBackoff(base: .seconds(30), cap: .seconds(300))
        var times: [Duration] = []
        var now = at(seconds: 0)
        for _ in 0..<6 {
            times.append(backoff.eject(now: now)!)
            now = now + TimeAmount(times.last!)
            backoff.returned(now: now)
        }
        #expect(times == [.seconds(30), .seconds(60), .seconds(120), .seconds(240), .seconds(300), .seconds(300)])
    }

    @Test func anEjectedTargetIsNotEjectedTwice() {
        var backoff = EjectionBackoff(base: .seconds(10), cap: .seconds(100))
        let result1 = backoff.eject(now: at(seconds: 0))
        #expect(result1 == .seconds(10))
        let result2 = backoff.eject(now: at(seconds: 1))
        #expect(result2 == nil)
        #expect(backoff.isEjected)
    }

    @Test func timeInRotationWearsTheRepeatsOff() {
        var backoff = EjectionBackoff(base: .seconds(10), cap: .seconds(1000))
        for _ in 0..<3 {
            _ = backoff.eject(now: at(seconds: 0))
            backoff.returned(now: at(seconds: 0))
        }
        #expect(backoff.repeats == 3)
        // 25 s in rotation: two base periods, two repeats forgiven: 10 s · 2^1.
        let result3 = backoff.eject(now: at(seconds: 25))
        #expect(result3 == .seconds(20))
        backoff.returned(now: at(seconds: 45))
        // A long quiet spell forgets everything.
        let result4 = backoff.eject(now: at(seconds: 10_000))
        #expect(result4 == .seconds(10))
    }

    @Test func aCapBelowTheBaseIsTheBase() {
        var backoff = EjectionBackoff(base: .seconds(30), cap: .seconds(5))
        let result5 = backoff.eject(now: at(seconds: 0))
        #expect(result5 == .seconds(30))
    }
}

@Suite("Retry budget")
struct RetryBudgetTests {
    @Test func allowsAShareOfRecentRequests() {
        var budget = RetryBudget(percent: 20, minPerSecond: 0)
        let now = at(seconds: 0)
        let result6 = budget.withdraw(now: now)
        #expect(!result6, "no requests, no reserve: no retry")
        for _ in 0..<100 { budget.recordRequest(now: now) }
        var granted = 0
        for _ in 0..<100 where budget.withdraw(now: now) { granted += 1 }
        #expect(granted == 20)
    }

    @Test func theReserveCoversAQuietUpstream() {
        var budget = RetryBudget(percent: 20, minPerSecond: 3)
        var granted = 0
        for _ in 0..<100 where budget.withdraw(now: at(seconds: 0)) { granted += 1 }
        #expect(granted == 30, "3 per second over the 10 s window")
    }

    @Test func oldRequestsAndRetriesLeaveTheWindow() {
        var budget = RetryBudget(percent: 50, minPerSecond: 0)
        for _ in 0..<10 { budget.recordRequest(now: at(seconds: 0)) }
        var granted = 0
        for _ in 0..<10 where budget.withdraw(now: at(seconds: 0.5)) { granted += 1 }
        #expect(granted == 5)
        let result7 = budget.withdraw(now: at(seconds: 9.5))
        #expect(!result7)
        // 10 s later the window holds neither the requests nor the retries.
        let result8 = budget.withdraw(now: at(seconds: 10.5))
        #expect(!result8)
        for _ in 0..<4 { budget.recordRequest(now: at(seconds: 10.5)) }
        let result9 = budget.withdraw(now: at(seconds: 10.6))
        #expect(result9)
        let result10 = budget.withdraw(now: at(seconds: 10.7))
        #expect(result10)
        let result11 = budget.withdraw(now: at(seconds: 10.8))
        #expect(!result11)
    }

    @Test func whenMostRequestsFailRetriesStayAShare() {
        // Every request fails and asks for a retry: the retries stay near 20 % of the traffic.
        var budget = RetryBudget(percent: 20, minPerSecond: 1)
        var requests = 0
        var retries = 0
        for tick in 0..<3000 {
            let now = at(seconds: Double(tick) / 100)  // 100 requests a second for 30 s
            budget.recordRequest(now: now)
            requests += 1
            if budget.withdraw(now: now) { retries += 1 }
        }
        // The share, plus the reserve of 1 per second over the 30 s.
        #expect(Double(retries) <= Double(requests) * 0.2 + 30 + 1)
        #expect(Double(retries) >= Double(requests) * 0.15)
    }
}

@Suite("Targets in rotation")
struct UpstreamHealthTests {
    @Test func flagsAndTheOutOfRotationCount() {
        let health = UpstreamHealth(targetCount: 3, outlierDetection: OutlierDetectionConfiguration())
        #expect(health.allInRotation)
        health.setFailingChecks(1, true)
        #expect(!health.allInRotation)
        #expect(!health.isInRotation(1) && !health.passesChecks(1))
        let time = health.eject(2, now: at(seconds: 0))
        #expect(time == .seconds(30))
        #expect(health.eject(2, now: at(seconds: 1)) == nil)
        #expect(!health.isInRotation(2) && health.passesChecks(2), "ejected, not failing checks")
        health.eject(1, now: at(seconds: 0)).map { _ in () }
        health.setFailingChecks(1, false)
        #expect(!health.isInRotation(1), "still ejected")
        health.endEjection(1, now: at(seconds: 30))
        health.endEjection(2, now: at(seconds: 30))
        #expect(health.allInRotation)
    }
}

@Suite("Load balancing around unhealthy targets")
struct LoadBalancerEligibilityTests {
    @Test func roundRobinSkipsIneligibleTargetsKeepingWeights() {
        var balancer = LoadBalancer(weights: [3, 1, 1], algorithm: .roundRobin)
        var counts = [0, 0, 0]
        for _ in 0..<400 { counts[balancer.pick(inFlight: [0, 0, 0], where: { $0 != 2 })!] += 1 }
        #expect(counts == [300, 100, 0])
        let result12 = balancer.pick(inFlight: [0, 0, 0], where: { _ in false })
        #expect(result12 == nil)
        let result13 = balancer.pick(inFlight: [0, 0, 0], where: { $0 == 1 })
        #expect(result13 == 1)
    }

    @Test func leastRequestPicksAmongEligibleTargets() {
        var balancer = LoadBalancer(weights: [1, 1, 1, 1], algorithm: .leastRequest)
        var counts = [0, 0, 0, 0]
        for _ in 0..<400 { counts[balancer.pick(inFlight: [0, 0, 0, 0], where: { $0 >= 2 })!] += 1 }
        #expect(counts[0] == 0 && counts[1] == 0)
        #expect(counts[2] > 100 && counts[3] > 100)
    }
}
