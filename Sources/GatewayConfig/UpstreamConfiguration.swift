/// One entry of the top-level `upstreams` object: a named pool of servers that
/// routes proxy to, like an nginx `upstream` block or an Envoy cluster.
public struct UpstreamConfiguration: Sendable, Equatable, Hashable {
    /// The key in `upstreams`; used by routes and as the `upstream` metric label.
    public var name: String
    /// At least one, without duplicates, in file order.
    public var targets: [UpstreamTargetConfiguration]
    public var scheme: UpstreamScheme
    /// How HTTPS connections are made: set exactly when `scheme` is `.https`.
    public var tls: UpstreamTLSConfiguration?
    /// How long opening a TCP connection to a target may take; slower answers 504.
    public var connectTimeout: Duration
    /// How long an unused keep-alive connection stays in the pool.
    public var idleTimeout: Duration
    /// Connections (busy and idle) to this upstream that one event loop may hold.
    public var maxConnectionsPerLoop: Int
    public var loadBalancing: LoadBalancingAlgorithm
    /// Active checks: nil when the upstream has no `health_check`.
    public var healthCheck: HealthCheckConfiguration?
    /// Passive ejection: nil when the upstream has no `outlier_detection`.
    public var outlierDetection: OutlierDetectionConfiguration?
    /// Retries against another target: nil when the upstream has no `retries`.
    public var retries: RetryConfiguration?
    /// What `consistent_hash` hashes (`hash_on`, `hash_header`); client IP by default.
    public var hashOn: HashKeySource

    public init(
        name: String,
        targets: [UpstreamTargetConfiguration],
        scheme: UpstreamScheme = .http,
        connectTimeout: Duration = UpstreamConfiguration.defaultConnectTimeout,
        idleTimeout: Duration = UpstreamConfiguration.defaultIdleTimeout,
        maxConnectionsPerLoop: Int = UpstreamConfiguration.defaultMaxConnectionsPerLoop,
        loadBalancing: LoadBalancingAlgorithm = .roundRobin,
        healthCheck: HealthCheckConfiguration? = nil,
        outlierDetection: OutlierDetectionConfiguration? = nil,
        retries: RetryConfiguration? = nil,
        tls: UpstreamTLSConfiguration? = nil,
        hashOn: HashKeySource = .clientIP
    ) {
        self.name = name
        self.targets = targets
        self.scheme = scheme
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.maxConnectionsPerLoop = maxConnectionsPerLoop
        self.loadBalancing = loadBalancing
        self.healthCheck = healthCheck
        self.outlierDetection = outlierDetection
        self.retries = retries
        self.hashOn = hashOn
        self.tls = tls ?? (scheme == .https ? UpstreamTLSConfiguration() : nil)
    }

    public static let defaultConnectTimeout = Duration.seconds(2)
    public static let defaultIdleTimeout = Duration.seconds(60)
    public static let defaultMaxConnectionsPerLoop = 64
}

/// One server of an upstream.
public struct UpstreamTargetConfiguration: Sendable, Equatable, Hashable {
    /// Where to connect; the port is never 0.
    public var address: SocketAddressConfiguration
    /// Relative share of requests, at least 1.
    public var weight: Int

    public init(address: SocketAddressConfiguration, weight: Int = 1) {
        self.address = address
        self.weight = weight
    }
}

/// How the gateway talks to an upstream.
public enum UpstreamScheme: String, Sendable, Equatable, Hashable, CaseIterable {
    /// Plain HTTP/1.1.
    case http
    /// HTTP/1.1 over TLS (see `UpstreamTLSConfiguration`).
    case https
}

/// The `tls` object of an HTTPS upstream.
public struct UpstreamTLSConfiguration: Sendable, Equatable, Hashable {
    /// `ca_file`, absolute: the PEM file of CAs trusted for this upstream; nil trusts the system's roots.
    public var caFile: String?
    /// `verify`: check the certificate chain and name. Only an explicit `false` turns it off.
    public var verify: Bool
    /// `server_name`: sent as SNI and checked against the certificate; nil uses the target's host.
    public var serverName: String?

    public init(caFile: String? = nil, verify: Bool = true, serverName: String? = nil) {
        self.caFile = caFile
        self.verify = verify
        self.serverName = serverName
    }
}

/// How a request picks a target of its upstream.
public enum LoadBalancingAlgorithm: String, Sendable, Equatable, Hashable, CaseIterable {
    /// Smooth weighted round robin (nginx's), per event loop.
    case roundRobin = "round_robin"
    /// Power of two choices: of two random targets, the one with fewer requests in flight per weight.
    case leastRequest = "least_request"
    /// A ring of weighted virtual nodes: one key (`hash_on`) always reaches the same target while it
    /// is in rotation, and removing a target moves only its own keys.
    case consistentHash = "consistent_hash"
}

/// What `consistent_hash` hashes.
public enum HashKeySource: Sendable, Equatable, Hashable {
    /// The client's IP (the peer, or with a trusted proxy the client it names).
    case clientIP
    /// A request header's value; a request without it is balanced round robin.
    case header(String)
}

/// What a route does with a request it matched when it proxies: the `upstream`
/// key of a route and the keys that only make sense with it.
public struct RouteProxyConfiguration: Sendable, Equatable {
    /// The name of an entry in `upstreams`.
    public var upstream: String
    public var pathRewrite: PathRewrite
    /// How long the upstream may keep the gateway waiting for the response head,
    /// or for more of the response body; the first answers 504.
    public var requestTimeout: Duration
    public var requestHeaders: HeaderRules
    public var responseHeaders: HeaderRules

    public init(
        upstream: String,
        pathRewrite: PathRewrite = .none,
        requestTimeout: Duration = RouteProxyConfiguration.defaultRequestTimeout,
        requestHeaders: HeaderRules = HeaderRules(),
        responseHeaders: HeaderRules = HeaderRules()
    ) {
        self.upstream = upstream
        self.pathRewrite = pathRewrite
        self.requestTimeout = requestTimeout
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
    }

    public static let defaultRequestTimeout = Duration.seconds(60)
}

/// How the path sent upstream is made from the request's path.
public enum PathRewrite: Sendable, Equatable {
    /// The path as the client sent it.
    case none
    /// `strip_prefix`: the route's prefix is removed (`/api/users` → `/users`).
    case stripPrefix
    /// `rewrite`: the matched part (the prefix, or the whole path of a `path`
    /// route) is replaced by this text (`/api/users` → `/v2/users`).
    case replace(String)
}

/// `headers.request` or `headers.response` of a route, applied in the order
/// remove, set, add. Header names are lowercased.
public struct HeaderRules: Sendable, Equatable {
    /// Replace every field of the name with one field of the value.
    public var set: [HeaderField]
    /// Add a field, keeping those already there.
    public var add: [HeaderField]
    /// Drop every field of the name.
    public var remove: [String]

    public init(set: [HeaderField] = [], add: [HeaderField] = [], remove: [String] = []) {
        self.set = set
        self.add = add
        self.remove = remove
    }

    public var isEmpty: Bool { self.set.isEmpty && self.add.isEmpty && self.remove.isEmpty }
}

public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
