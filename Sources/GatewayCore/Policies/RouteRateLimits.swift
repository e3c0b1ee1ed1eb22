import GatewayConfig
import GatewayRateLimit
import NIOCore
import NIOHTTP1
import Prometheus

/// The rate-limit step of one route: its policies in file order, each decided
/// for the request's key; the first that refuses answers 429 and the later ones
/// are not charged. Compiled once per `GatewayState`, with the decision counters
/// already looked up, so a request pays one store decision per policy (a shard
/// lock for the memory store) and no registry lookup. Routes without
/// `rate_limits` have no `RouteRateLimits` at all.
final class RouteRateLimits: Sendable {
    let routeName: String
    let policies: [RateLimitPolicy]
    private let counters: [DecisionCounters]
    /// Whether responses carry `RateLimit-Policy` and `RateLimit`.
    let headersEnabled: Bool
    /// The route's `RateLimit-Policy` value: every policy's item, comma-separated.
    let policyHeader: String
    /// Whether any policy may key by client IP (a header policy falls back to it).
    let needsClientIP: Bool
    /// Put before the identity in `identity` keys: the route's kind of credential.
    let identityKeyPrefix: String
    /// Whether any policy keys by identity (only then is the key built).
    let usesIdentity: Bool

    struct DecisionCounters: Sendable {
        let allowed: Counter
        let limited: Counter
        let error: Counter
    }

    init(route: RouteConfiguration, stores: RateLimitStores, metrics: GatewayMetrics, identityKeyPrefix: String = "") {
        self.routeName = route.name
        self.policies = route.rateLimits.compactMap { stores.policies[$0] }
        self.counters = self.policies.map { policy in
            DecisionCounters(
                allowed: metrics.rateLimitDecisions(route: route.name, policy: policy.name, result: "allowed"),
                limited: metrics.rateLimitDecisions(route: route.name, policy: policy.name, result: "limited"),
                error: metrics.rateLimitDecisions(route: route.name, policy: policy.name, result: "error"))
        }
        self.headersEnabled = route.rateLimitHeaders
        self.policyHeader = self.policies.map(\.policyItem).joined(separator: ", ")
        self.needsClientIP = self.policies.contains {
            $0.configuration.key != .route && $0.configuration.key != .identity
        }
        self.identityKeyPrefix = identityKeyPrefix
        self.usesIdentity = self.policies.contains { $0.configuration.key == .identity }
    }

    /// What the step decided for one request.
    struct Outcome: Sendable {
        enum Verdict: Sendable, Equatable {
            case allowed
            /// Refused: answer 429 with `Retry-After` (whole seconds, at least 1).
            case limited(retryAfter: Int)
            /// A store failed and its failure mode is closed: answer 503.
            case unavailable
        }

        var verdict = Verdict.allowed
        /// The `RateLimit` value so far: one item per policy decided (empty with headers off).
        var items = ""
    }

    enum Evaluation {
        case decided(Outcome)
        /// A Redis policy is deciding; the future completes on the request's event loop.
        case pending(EventLoopFuture<Outcome>)
    }

    /// Decides the request. `clientIP` is used by client-IP policies and by
    /// header policies whose header is missing; `identity` (who authenticated)
    /// by identity policies; `now` is nanoseconds on NIO's monotonic clock.
    /// Call on `eventLoop`.
    func evaluate(
        headers: HTTPHeaders, clientIP: String, identity: String? = nil, now: Int64, eventLoop: any EventLoop
    ) -> Evaluation {
        self.evaluate(
            from: 0, outcome: Outcome(), headers: headers, clientIP: clientIP,
            identity: self.usesIdentity ? identity.map { self.identityKeyPrefix + $0 } : nil, now: now,
            eventLoop: eventLoop)
    }

    private func evaluate(
        from start: Int, outcome: Outcome, headers: HTTPHeaders, clientIP: String, identity: String?, now: Int64,
        eventLoop: any EventLoop
    ) -> Evaluation {
        var outcome = outcome
        var index = start
        while index < self.policies.count {
            let policy = self.policies[index]
            let key = Self.key(
                for: policy.configuration.key, headers: headers, clientIP: clientIP, route: self.routeName,
                identity: identity)
            switch policy.backend {
            case .memory(let store, _):
                let decision = store.decide(key: key, limit: policy.gcra, now: now)
                self.record(decision, policy: index, into: &outcome)
                if outcome.verdict != .allowed { return .decided(outcome) }
            case .redis(let backend, let keyPrefix):
                let current = index
                let promise = eventLoop.makePromise(of: Outcome.self)
                let sofar = outcome
                backend.decide(key: keyPrefix + key, limit: policy.gcra, on: eventLoop).whenComplete { result in
                    var outcome = sofar
                    switch result {
                    case .success(let decision):
                        backend.recordSuccess()
                        self.record(decision, policy: current, into: &outcome)
                    case .failure(let error):
                        backend.recordFailure(error, now: Int64(NIODeadline.now().uptimeNanoseconds))
                        self.counters[current].error.increment()
                        if backend.configuration.failureMode == .closed { outcome.verdict = .unavailable }
                    }
                    guard outcome.verdict == .allowed else {
                        promise.succeed(outcome)
                        return
                    }
                    switch self.evaluate(
                        from: current + 1, outcome: outcome, headers: headers, clientIP: clientIP, identity: identity,
                        now: now, eventLoop: eventLoop)
                    {
                    case .decided(let outcome): promise.succeed(outcome)
                    case .pending(let future): future.cascade(to: promise)
                    }
                }
                return .pending(promise.futureResult)
            }
            index += 1
        }
        return .decided(outcome)
    }

    private func record(_ decision: GCRA.Decision, policy index: Int, into outcome: inout Outcome) {
        if decision.allowed {
            self.counters[index].allowed.increment()
        } else {
            self.counters[index].limited.increment()
            outcome.verdict = .limited(retryAfter: max(1, RateLimitHeaders.seconds(decision.retryAfter)))
        }
        guard self.headersEnabled else { return }
        if !outcome.items.isEmpty { outcome.items += ", " }
        outcome.items += self.policies[index].itemPrefix
        outcome.items += String(decision.allowed ? decision.remaining : 0)
        outcome.items += ";t="
        outcome.items += String(RateLimitHeaders.seconds(decision.resetAfter))
    }

    /// A policy's key for the request. A header policy counts a request without
    /// the header by its client IP (as Kong does), so leaving the header out does
    /// not escape the limit; the prefixes keep the two kinds of keys apart.
    /// `identity` is prefixed with the kind of credential (`key:`, `sub:`); a route
    /// with an identity policy always has `auth`, so it is there.
    static func key(
        for kind: RateLimitKey, headers: HTTPHeaders, clientIP: String, route: String, identity: String? = nil
    ) -> String {
        switch kind {
        case .identity:
            return identity ?? ("ip:" + clientIP)
        case .clientIP:
            return clientIP
        case .route:
            return route
        case .header(let name):
            if let value = headers.first(name: name) { return "h:" + value }
            return "ip:" + clientIP
        }
    }

    /// The extra response headers for an outcome, in the order they are written.
    func responseHeaders(for outcome: Outcome) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(3)  // one allocation, not one per field
        if case .limited(let retryAfter) = outcome.verdict {
            fields.append(("retry-after", String(retryAfter)))
        }
        if self.headersEnabled {
            fields.append(("ratelimit-policy", self.policyHeader))
            if !outcome.items.isEmpty { fields.append(("ratelimit", outcome.items)) }
        }
        return fields
    }
}

/// The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers, structured
/// field lists): `RateLimit-Policy: "name";q=10;w=1` and `RateLimit: "name";r=7;t=1`.
enum RateLimitHeaders {
    /// A structured-field string: quoted, with `"` and `\` escaped. Policy names
    /// are letters, digits, `_`, `.` and `-`, so nothing needs escaping today.
    static func quoted(_ name: String) -> String {
        var text = "\""
        for character in name {
            if character == "\"" || character == "\\" { text.append("\\") }
            text.append(character)
        }
        text.append("\"")
        return text
    }

    /// Nanoseconds as whole seconds, rounded up.
    static func seconds(_ nanoseconds: Int64) -> Int {
        nanoseconds <= 0 ? 0 : Int((nanoseconds + 999_999_999) / 1_000_000_000)
    }
}
