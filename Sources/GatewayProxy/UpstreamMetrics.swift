public import Prometheus

/// Where the proxy gets its metric instances. `GatewayMetrics` (GatewayCore)
/// implements it with registered names and help texts; each `UpstreamPool`
/// asks once per label set and keeps what it got, so requests never look a
/// metric up by name.
public protocol UpstreamMetricsSource: Sendable {
    /// `gateway_upstream_requests_total{upstream,target,code}`.
    func upstreamRequests(upstream: String, target: String, code: String) -> Counter
    /// `gateway_upstream_request_duration_seconds{upstream}`.
    func upstreamRequestDuration(upstream: String) -> DurationHistogram
    /// `gateway_upstream_connections{upstream,state}`, state `idle` or `active`.
    func upstreamConnections(upstream: String, state: String) -> Gauge
    /// `gateway_upstream_target_healthy{upstream,target}`: 1 in rotation, 0 out.
    func upstreamTargetHealthy(upstream: String, target: String) -> Gauge
    /// `gateway_upstream_retries_total{upstream}`.
    func upstreamRetries(upstream: String) -> Counter
    /// `gateway_upstream_ejections_total{upstream,target}`.
    func upstreamEjections(upstream: String, target: String) -> Counter
}

/// The metric instances of one pool (one upstream on one event loop).
struct UpstreamPoolMetrics {
    private let source: any UpstreamMetricsSource
    private let upstream: String
    private let targetNames: [String]
    let duration: DurationHistogram
    let idleConnections: Gauge
    let activeConnections: Gauge
    let retries: Counter
    /// Per target, made on a target's first ejection on this loop.
    private var ejections: [Counter?]
    /// Per target: status code (or failure kind) → counter.
    private var requests: [[String: Counter]]
    /// The common codes by number, so the hot path formats no string.
    private var byCode: [[Int: Counter]]

    init(source: any UpstreamMetricsSource, upstream: String, targetNames: [String]) {
        self.source = source
        self.upstream = upstream
        self.targetNames = targetNames
        self.duration = source.upstreamRequestDuration(upstream: upstream)
        self.idleConnections = source.upstreamConnections(upstream: upstream, state: "idle")
        self.activeConnections = source.upstreamConnections(upstream: upstream, state: "active")
        self.retries = source.upstreamRetries(upstream: upstream)
        self.ejections = Array(repeating: nil, count: targetNames.count)
        self.requests = Array(repeating: [:], count: targetNames.count)
        self.byCode = Array(repeating: [:], count: targetNames.count)
    }

    mutating func recordRequest(target: Int, status: Int, duration: Duration) {
        let counter: Counter
        if let cached = self.byCode[target][status] {
            counter = cached
        } else {
            counter = self.source.upstreamRequests(
                upstream: self.upstream, target: self.targetNames[target], code: String(status))
            self.byCode[target][status] = counter
        }
        counter.increment()
        self.duration.record(duration)
    }

    /// A request that got no response: `code` is `error` or `timeout`.
    mutating func recordFailure(target: Int, code: String, duration: Duration) {
        let counter: Counter
        if let cached = self.requests[target][code] {
            counter = cached
        } else {
            counter = self.source.upstreamRequests(
                upstream: self.upstream, target: self.targetNames[target], code: code)
            self.requests[target][code] = counter
        }
        counter.increment()
        self.duration.record(duration)
    }

    mutating func recordEjection(target: Int) {
        if let counter = self.ejections[target] {
            counter.increment()
            return
        }
        let counter = self.source.upstreamEjections(upstream: self.upstream, target: self.targetNames[target])
        self.ejections[target] = counter
        counter.increment()
    }
}
