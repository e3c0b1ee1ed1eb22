import NIOCore

/// The per-connection deadlines, checked by one task that reschedules itself
/// rather than a timer per request:
/// - a request head must arrive within `requestHeadTimeout` of its first byte (408);
/// - a request body may not pause for longer than `bodyTimeout` (408);
/// - a keep-alive connection with no request for `idleTimeout` is closed.
struct ConnectionClock {
    let idleTimeout: TimeAmount
    let requestHeadTimeout: TimeAmount
    let bodyTimeout: TimeAmount

    /// When the last response was written (or the connection opened).
    var lastActivity = NIODeadline.now()
    /// When body bytes were last seen arriving (or the body phase began).
    var lastBodyBytes = NIODeadline.now()

    enum Phase {
        /// Between requests.
        case awaitingHead
        /// A routed request's body is arriving.
        case receivingBody
        /// Answered early; the rest of the body is being dropped.
        case discardingBody
        /// Nothing to time here (closed, or a response is on its way).
        case other
    }

    enum Verdict {
        case ok(nextCheck: NIODeadline)
        /// Answer 408 and close.
        case requestTimeout
        /// Close without an answer.
        case close
    }

    init(idleTimeout: TimeAmount, requestHeadTimeout: TimeAmount, bodyTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.requestHeadTimeout = requestHeadTimeout
        self.bodyTimeout = bodyTimeout
    }

    /// The interval between checks: a deadline is noticed at most this late.
    var checkInterval: TimeAmount {
        .nanoseconds(min(self.idleTimeout, self.requestHeadTimeout, self.bodyTimeout).nanoseconds / 2)
    }

    mutating func check(phase: Phase, activity: ReadActivity, now: NIODeadline) -> Verdict {
        defer { activity.sinceLastCheck = false }
        let next = now + self.checkInterval
        switch phase {
        case .awaitingHead:
            if let started = activity.headStartedAt {
                return now - started >= self.requestHeadTimeout ? .requestTimeout : .ok(nextCheck: next)
            }
            return now - self.lastActivity >= self.idleTimeout ? .close : .ok(nextCheck: next)
        case .receivingBody, .discardingBody:
            if activity.sinceLastCheck { self.lastBodyBytes = now }
            guard now - self.lastBodyBytes >= self.bodyTimeout else { return .ok(nextCheck: next) }
            return phase == .receivingBody ? .requestTimeout : .close
        case .other:
            return .ok(nextCheck: next)
        }
    }
}
