import GatewayConfig
import NIOCore
import Prometheus
import Synchronization

/// Which targets of one upstream are in rotation, shared by every event loop.
///
/// A target leaves rotation when it fails its active checks (`HealthChecker`)
/// or is ejected after consecutive failures (`UpstreamPool.recordOutcome`).
/// The request path only reads atomics: one load of `outOfRotation` while every
/// target is in, one load per target otherwise. Changes are rare and take a lock.
final class UpstreamHealth: Sendable {
    /// Bits of a target's state; 0 means in rotation.
    static let failingChecks: UInt8 = 1
    static let ejected: UInt8 = 2

    private let flags: [TargetFlags]
    /// Targets with any bit set.
    private let outOfRotation = Atomic<Int>(0)
    private let ejections: Mutex<[EjectionBackoff]>
    /// The `target_healthy` gauges, while the group serves (see `UpstreamGroup.activate`).
    private let gauges = Mutex<[Gauge]?>(nil)

    private final class TargetFlags: Sendable {
        let value = Atomic<UInt8>(0)
    }

    init(targetCount: Int, outlierDetection: OutlierDetectionConfiguration?) {
        self.flags = (0..<targetCount).map { _ in TargetFlags() }
        let backoff = EjectionBackoff(
            base: outlierDetection?.ejectionTime ?? .seconds(30), cap: outlierDetection?.maxEjectionTime ?? .seconds(300))
        self.ejections = Mutex(Array(repeating: backoff, count: targetCount))
    }

    // MARK: Read on the request path

    /// True while no target is out: the balancer then needs no other check.
    var allInRotation: Bool { self.outOfRotation.load(ordering: .relaxed) == 0 }

    func isInRotation(_ target: Int) -> Bool { self.flags[target].value.load(ordering: .relaxed) == 0 }

    /// Out of rotation only by ejection, if at all: panic mode may still use it.
    func passesChecks(_ target: Int) -> Bool {
        self.flags[target].value.load(ordering: .relaxed) & Self.failingChecks == 0
    }

    var targetCount: Int { self.flags.count }

    // MARK: Changes

    /// The active checker's verdict.
    func setFailingChecks(_ target: Int, _ failing: Bool) {
        if failing { self.set(Self.failingChecks, on: target) } else { self.clear(Self.failingChecks, on: target) }
    }

    /// Ejects `target` at `now`; returns how long for, or nil when it already was ejected.
    func eject(_ target: Int, now: NIODeadline) -> Duration? {
        let time = self.ejections.withLock { $0[target].eject(now: now) }
        if time != nil { self.set(Self.ejected, on: target) }
        return time
    }

    /// The ejection of `target` is over.
    func endEjection(_ target: Int, now: NIODeadline) {
        self.ejections.withLock { $0[target].returned(now: now) }
        self.clear(Self.ejected, on: target)
    }

    private func set(_ bit: UInt8, on target: Int) {
        let (old, new) = self.flags[target].value.bitwiseOr(bit, ordering: .relaxed)
        if old == 0 && new != 0 { self.outOfRotation.add(1, ordering: .relaxed) }
        if old != new { self.publish(target) }
    }

    private func clear(_ bit: UInt8, on target: Int) {
        let (old, new) = self.flags[target].value.bitwiseAnd(~bit, ordering: .relaxed)
        if old != 0 && new == 0 { self.outOfRotation.subtract(1, ordering: .relaxed) }
        if old != new { self.publish(target) }
    }

    // MARK: Metrics

    /// From now on `gauges[i]` follows target `i` (1 in rotation, 0 out).
    func attach(gauges: [Gauge]) {
        self.gauges.withLock { current in
            current = gauges
            for (target, gauge) in gauges.enumerated() { gauge.set(to: self.isInRotation(target) ? 1 : 0) }
        }
    }

    /// The group stopped serving: another group may own the same series now.
    func detach() {
        self.gauges.withLock { $0 = nil }
    }

    private func publish(_ target: Int) {
        self.gauges.withLock { gauges in
            gauges?[target].set(to: self.isInRotation(target) ? 1 : 0)
        }
    }
}
