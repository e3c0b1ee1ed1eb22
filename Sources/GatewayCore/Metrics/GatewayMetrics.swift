import NIOConcurrencyHelpers
public import GatewayProxy
public import Prometheus

/// Every metric the gateway exports, registered in one Prometheus registry with
/// its help text. The admin listener renders the registry; per-request code uses
/// `RequestMetricsCache` so that it never looks a metric up by name.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    /// Buckets for request and handshake durations: 0.5 ms to 10 s.
    static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    let connectionsActive: Gauge
    let upstreamRequestSeries = NIOLockedValueBox<Set<UpstreamRequestSeries>>([])
    let tlsHandshakeDuration: DurationHistogram

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.connectionsActive = registry.makeGauge(descriptor: Self.connectionsActiveDescriptor)
        self.tlsHandshakeDuration = registry.makeDurationHistogram(
            descriptor: Self.tlsHandshakeDurationDescriptor, buckets: Self.durationBuckets)
        self.tls13Handshakes = registry.makeCounter(
            descriptor: Self.tlsHandshakesDescriptor, labels: [("result", "success"), ("version", "TLSv1.3")])
        self.tls12Handshakes = registry.makeCounter(
            descriptor: Self.tlsHandshakesDescriptor, labels: [("result", "success"), ("version", "TLSv1.2")])
    }

    /// Successful handshakes of the two versions served, made once: a new connection then
    /// takes no registry lock.
    private let tls13Handshakes: Counter
    private let tls12Handshakes: Counter

    func successfulTLSHandshakes(version: String) -> Counter {
        switch version {
        case "TLSv1.3": self.tls13Handshakes
        case "TLSv1.2": self.tls12Handshakes
        default: self.tlsHandshakes(result: "success", version: version)
        }
    }

    /// Looked up once per (route, method, status) per event loop, see `RequestMetricsCache`.
    func requestsTotal(route: String, method: String, code: String) -> Counter {
        self.registry.makeCounter(
            descriptor: Self.requestsTotalDescriptor, labels: [("route", route), ("method", method), ("code", code)])
    }

    func requestDuration(route: String) -> DurationHistogram {
        self.registry.makeDurationHistogram(
            descriptor: Self.requestDurationDescriptor, labels: [("route", route)], buckets: Self.durationBuckets)
    }

    func tlsHandshakes(result: String, version: String) -> Counter {
        self.registry.makeCounter(
            descriptor: Self.tlsHandshakesDescriptor, labels: [("result", result), ("version", version)])
    }

    func certificateExpiry(name: String) -> Gauge {
        self.registry.makeGauge(descriptor: Self.certificateExpiryDescriptor, labels: [("name", name)])
    }

    // MARK: Upstreams (asked once per label set by each loop's `UpstreamPool`)

    public func upstreamRequests(upstream: String, target: String, code: String) -> Counter {
        // Remembered so a reload can remove a removed target's series (see removeUpstreamSeries).
        self.upstreamRequestSeries.withLockedValue { _ = $0.insert(UpstreamRequestSeries(upstream, target, code)) }
        return self.registry.makeCounter(
            descriptor: Self.upstreamRequestsDescriptor,
            labels: [("upstream", upstream), ("target", target), ("code", code)])
    }

    /// The label sets of `gateway_upstream_requests_total` made so far.
    struct UpstreamRequestSeries: Hashable {
        let upstream: String
        let target: String
        let code: String
        init(_ upstream: String, _ target: String, _ code: String) {
            self.upstream = upstream
            self.target = target
            self.code = code
        }
    }

    public func upstreamRequestDuration(upstream: String) -> DurationHistogram {
        self.registry.makeDurationHistogram(
            descriptor: Self.upstreamRequestDurationDescriptor, labels: [("upstream", upstream)],
            buckets: Self.durationBuckets)
    }

    public func upstreamConnections(upstream: String, state: String) -> Gauge {
        self.registry.makeGauge(
            descriptor: Self.upstreamConnectionsDescriptor, labels: [("upstream", upstream), ("state", state)])
    }

    /// Renders the Prometheus text exposition.
    public func render() -> [UInt8] {
        self.registry.emitToBuffer()
    }

    // MARK: Names and help

    static var requestsTotalDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "gateway", subsystem: "http", metricName: "requests", unitName: "total",
        helpText: "HTTP requests answered, by route name, method and status code.")
    }
    static var requestDurationDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "gateway", subsystem: "http", metricName: "request_duration", unitName: "seconds",
        helpText: "Time from a request's head arriving to its response being written, by route name.")
    }
    static var connectionsActiveDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "gateway", subsystem: "connections", metricName: "active", unitName: "",
        helpText: "Client connections currently open on traffic listeners.")
    }
    static var tlsHandshakesDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "gateway", subsystem: "tls", metricName: "handshakes", unitName: "total",
        helpText: "TLS handshakes by result (success, failure, timeout) and negotiated protocol version.")
    }
    static var tlsHandshakeDurationDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "gateway", subsystem: "tls", metricName: "handshake_duration", unitName: "seconds",
        helpText: "Time from connection accept to a completed TLS handshake.")
    }
    static var upstreamRequestsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "gateway", subsystem: "upstream", metricName: "requests", unitName: "total",
        helpText:
            "Requests sent to upstreams, by upstream, target and status code (error or timeout when no response came).")
    }
    static var upstreamRequestDurationDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "gateway", subsystem: "upstream", metricName: "request_duration", unitName: "seconds",
        helpText: "Time from a proxied request starting to its upstream response ending, by upstream.")
    }
    static var upstreamConnectionsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "gateway", subsystem: "upstream", metricName: "connections", unitName: "",
        helpText:
            "Connections to upstreams, by upstream and state (idle in the pool, or active: serving or connecting).")
    }
    static var certificateExpiryDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "gateway", subsystem: "tls", metricName: "certificate_expiry_timestamp", unitName: "seconds",
        helpText: "When each served certificate expires, as a Unix timestamp, by certificate name.")
    }
}

extension GatewayMetrics: UpstreamMetricsSource {}

/// Per-connection cache of the counters and histograms a connection's requests
/// update, so the hot path does one small dictionary lookup and an atomic
/// increment instead of a registry lookup under its lock.
struct RequestMetricsCache {
    private struct Key: Hashable {
        var route: Int
        var method: String
        var code: Int
    }

    private var counters: [Key: Counter] = [:]
    private var histograms: [Int: DurationHistogram] = [:]
    /// The last series used: a connection's requests mostly repeat it, and comparing
    /// three small values is cheaper than hashing them.
    private var last: (key: Key, counter: Counter, histogram: DurationHistogram)?
    /// The route names the cache was filled for. A reload can give an index another
    /// name; comparing is one pointer check while the state is unchanged.
    private var routeNames: [String] = []

    /// `route` is an index into `routeNames`, or -1 for a request that matched no route.
    mutating func record(
        metrics: GatewayMetrics, routeNames: [String], route: Int, method: String, code: Int, duration: Duration
    ) {
        if routeNames != self.routeNames {
            self.counters.removeAll()
            self.histograms.removeAll()
            self.last = nil
            self.routeNames = routeNames
        }
        let key = Key(route: route, method: method, code: code)
        if let last = self.last, last.key == key {
            last.counter.increment()
            last.histogram.record(duration)
            return
        }
        let counter: Counter
        if let cached = self.counters[key] {
            counter = cached
        } else {
            counter = metrics.requestsTotal(route: Self.name(route, routeNames), method: method, code: String(code))
            self.counters[key] = counter
        }
        counter.increment()

        let histogram: DurationHistogram
        if let cached = self.histograms[route] {
            histogram = cached
        } else {
            histogram = metrics.requestDuration(route: Self.name(route, routeNames))
            self.histograms[route] = histogram
        }
        histogram.record(duration)
        self.last = (key, counter, histogram)
    }

    private static func name(_ route: Int, _ names: [String]) -> String {
        route >= 0 && route < names.count ? names[route] : "none"
    }
}

// MARK: Configuration reloads

extension GatewayMetrics {
    func configReloads(result: String) -> Counter {
        self.registry.makeCounter(descriptor: Self.configReloadsDescriptor, labels: [("result", result)])
    }

    func configLastReloadSuccessful() -> Gauge {
        self.registry.makeGauge(descriptor: Self.configLastReloadSuccessfulDescriptor)
    }

    func configLastReloadSuccessTimestamp() -> Gauge {
        self.registry.makeGauge(descriptor: Self.configLastReloadSuccessTimestampDescriptor)
    }

    func configInfo(fingerprint: String) -> Gauge {
        self.registry.makeGauge(descriptor: Self.configInfoDescriptor, labels: [("fingerprint", fingerprint)])
    }

    static var configReloadsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "config", metricName: "reloads", unitName: "total",
            helpText: "Configuration reloads by result (success, failure), whatever triggered them.")
    }
    static var configLastReloadSuccessfulDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "config", metricName: "last_reload_successful", unitName: "",
            helpText: "1 if the last configuration reload succeeded (or none was tried since start), 0 if it failed.")
    }
    static var configLastReloadSuccessTimestampDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "config", metricName: "last_reload_success_timestamp", unitName: "seconds",
            helpText: "When the configuration serving now was loaded (at start or by the last successful reload), as a Unix timestamp.")
    }
    static var configInfoDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "config", metricName: "info", unitName: "",
            helpText: "Always 1; the fingerprint label identifies the configuration serving now.")
    }
}

// MARK: Rate limiting (looked up when a state is compiled, never per request)

extension GatewayMetrics {
    func rateLimitDecisions(route: String, policy: String, result: String) -> Counter {
        self.registry.makeCounter(
            descriptor: Self.rateLimitDecisionsDescriptor,
            labels: [("route", route), ("policy", policy), ("result", result)])
    }

    func rateLimitKeys(policy: String) -> Gauge {
        self.registry.makeGauge(descriptor: Self.rateLimitKeysDescriptor, labels: [("policy", policy)])
    }

    func rateLimitEvictions(policy: String) -> Counter {
        self.registry.makeCounter(descriptor: Self.rateLimitEvictionsDescriptor, labels: [("policy", policy)])
    }

    func rateLimitStoreErrors(store: String) -> Counter {
        self.registry.makeCounter(descriptor: Self.rateLimitStoreErrorsDescriptor, labels: [("store", store)])
    }

    static var rateLimitDecisionsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "ratelimit", metricName: "decisions", unitName: "total",
            helpText:
                "Rate-limit decisions by route, policy and result (allowed, limited, error: the store could not decide).")
    }
    static var rateLimitKeysDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "ratelimit", metricName: "keys", unitName: "",
            helpText: "Keys (clients, header values) held by each memory-store policy, as of the last sweep.")
    }
    static var rateLimitEvictionsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "ratelimit", metricName: "evictions", unitName: "total",
            helpText: "Live keys a memory-store policy dropped because it held max_keys, by policy.")
    }
    static var rateLimitStoreErrorsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "ratelimit", metricName: "store_errors", unitName: "total",
            helpText: "Rate-limit decisions the store failed to make (unreachable, timeout, error reply), by store.")
    }
}
