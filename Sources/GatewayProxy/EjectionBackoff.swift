import NIOCore

/// How long a target stays ejected, Envoy style: `base` the first time,
/// doubled on each repeat ejection up to `cap`. The repeat count drops by one
/// for every `base` the target then stays in rotation, so a target that fails
/// once a day is not punished for last week. A pure value: `UpstreamHealth`
/// keeps one per target under its lock.
struct EjectionBackoff: Sendable {
    let base: Duration
    let cap: Duration
    /// Ejections that still count toward the doubling.
    private(set) var repeats = 0
    private(set) var isEjected = false
    private var returnedAt: NIODeadline?

    init(base: Duration, cap: Duration) {
        self.base = base
        self.cap = max(cap, base)
    }

    /// Ejects the target at `now`; returns how long for, or nil if it already is ejected.
    mutating func eject(now: NIODeadline) -> Duration? {
        guard !self.isEjected else { return nil }
        if let returnedAt = self.returnedAt {
            let inRotation = (now - returnedAt).nanoseconds
            let base = max(Self.nanoseconds(self.base), 1)
            self.repeats = max(0, self.repeats - Int(inRotation / base))
        }
        self.isEjected = true
        let time = self.time(forRepeat: self.repeats)
        self.repeats += 1
        return time
    }

    /// The ejection is over: the target is back in rotation at `now`.
    mutating func returned(now: NIODeadline) {
        self.isEjected = false
        self.returnedAt = now
    }

    /// `base · 2^repeat`, at most `cap`.
    func time(forRepeat repeatCount: Int) -> Duration {
        var time = self.base
        for _ in 0..<min(repeatCount, 62) {
            time = time * 2
            if time >= self.cap { return self.cap }
        }
        return min(time, self.cap)
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
