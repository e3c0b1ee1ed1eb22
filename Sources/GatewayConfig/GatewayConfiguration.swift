/// The whole of `gateway.json`, decoded and validated: an immutable snapshot.
///
/// Build one with ``GatewayConfigurationLoader``; the memberwise initialisers exist
/// for tests and tools that assemble a configuration in code (they do not validate).
public struct GatewayConfiguration: Sendable, Equatable {
    /// The traffic listeners, at least one when loaded from a file.
    public var listeners: [ListenerConfiguration]
    /// The admin listener (metrics, health, reload); loopback by default.
    public var admin: AdminConfiguration
    /// Limits and timeouts of the HTTP/1.1 server.
    public var http: HTTPConfiguration
    public var accessLog: AccessLogConfiguration
    public var shutdown: ShutdownConfiguration
    /// How the gateway follows changes to its files.
    public var reload: ReloadConfiguration
    /// Number of event loops; 0 means one per CPU core.
    public var eventLoops: Int
    /// Routes in file order.
    public var routes: [RouteConfiguration]
    /// Named upstreams that routes proxy to, sorted by name.
    public var upstreams: [UpstreamConfiguration]
    /// Named rate-limit policies that routes list, sorted by name.
    public var rateLimits: [RateLimitPolicyConfiguration]
    /// Where policies keep their state: memory bounds, and Redis for `"store": "redis"`.
    public var rateLimitStore: RateLimitStoreConfiguration
    /// Peers whose `X-Forwarded-For` is believed when a policy keys by client IP.
    public var trustedProxies: [IPAddressRange]
    /// The operational log (not the access log).
    public var log: LogConfiguration
    /// Named API keys that routes' `auth.api_key` accept, sorted by name.
    public var apiKeys: [APIKeyConfiguration]
    /// Named JWKS files that routes' `auth.jwt` verify against, sorted by name.
    public var jwks: [JWKSConfiguration]
    /// The OpenAPI document and Swagger UI page, or `nil` when the gateway serves neither.
    public var openAPI: OpenAPIConfiguration?

    public init(
        listeners: [ListenerConfiguration],
        admin: AdminConfiguration = AdminConfiguration(),
        http: HTTPConfiguration = HTTPConfiguration(),
        accessLog: AccessLogConfiguration = AccessLogConfiguration(),
        shutdown: ShutdownConfiguration = ShutdownConfiguration(),
        reload: ReloadConfiguration = ReloadConfiguration(),
        eventLoops: Int = GatewayConfiguration.defaultEventLoops,
        routes: [RouteConfiguration],
        upstreams: [UpstreamConfiguration] = [],
        rateLimits: [RateLimitPolicyConfiguration] = [],
        rateLimitStore: RateLimitStoreConfiguration = RateLimitStoreConfiguration(),
        trustedProxies: [IPAddressRange] = [],
        log: LogConfiguration = LogConfiguration(),
        apiKeys: [APIKeyConfiguration] = [],
        jwks: [JWKSConfiguration] = [],
        openAPI: OpenAPIConfiguration? = nil
    ) {
        self.listeners = listeners
        self.admin = admin
        self.http = http
        self.accessLog = accessLog
        self.shutdown = shutdown
        self.reload = reload
        self.eventLoops = eventLoops
        self.routes = routes
        self.upstreams = upstreams
        self.rateLimits = rateLimits
        self.rateLimitStore = rateLimitStore
        self.trustedProxies = trustedProxies
        self.log = log
        self.apiKeys = apiKeys
        self.jwks = jwks
        self.openAPI = openAPI
    }

    /// `event_loops` when absent: one event loop per core.
    public static let defaultEventLoops = 0
}

/// The `admin` section.
public struct AdminConfiguration: Sendable, Equatable {
    public var address: SocketAddressConfiguration

    public init(address: SocketAddressConfiguration = AdminConfiguration.defaultAddress) {
        self.address = address
    }

    /// `127.0.0.1:9901`, loopback only, the port Envoy operators know.
    public static let defaultAddress = SocketAddressConfiguration(host: "127.0.0.1", port: 9901)
}

/// The `http` section: limits and timeouts of the HTTP/1.1 server.
public struct HTTPConfiguration: Sendable, Equatable {
    /// Largest request head (request line + headers) in bytes; larger answers 431.
    public var maxHeaderBytes: Int
    /// Largest request body in bytes; larger answers 413.
    public var maxBodyBytes: Int
    /// How long a keep-alive connection may sit idle between requests.
    public var idleTimeout: Duration
    /// How long a client may take to send a complete request head; slower answers 408.
    public var requestHeadTimeout: Duration
    /// How long a client may pause while sending a request body; longer answers 408.
    public var bodyTimeout: Duration

    public init(
        maxHeaderBytes: Int = 16384,
        maxBodyBytes: Int = 1_048_576,
        idleTimeout: Duration = .seconds(60),
        requestHeadTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(60)
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        self.requestHeadTimeout = requestHeadTimeout
        self.bodyTimeout = bodyTimeout
    }
}

/// The `log` section: the operational log's level, which a reload changes live.
public struct LogConfiguration: Sendable, Equatable {
    /// swift-log's levels, by their names.
    public enum Level: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    public var level: Level

    public init(level: Level = .info) {
        self.level = level
    }
}

/// The `access_log` section.
public struct AccessLogConfiguration: Sendable, Equatable {
    public var enabled: Bool

    public init(enabled: Bool = true) {
        self.enabled = enabled
    }
}

/// The `shutdown` section.
public struct ShutdownConfiguration: Sendable, Equatable {
    /// How long in-flight requests may finish after SIGTERM before connections are closed.
    public var drainTimeout: Duration

    public init(drainTimeout: Duration = .seconds(10)) {
        self.drainTimeout = drainTimeout
    }
}

/// The `reload` section: whether the gateway watches its files.
///
/// SIGHUP and `POST /-/reload` always reload; `watch` adds a file watcher on the
/// configuration file and on every certificate and key it names.
public struct ReloadConfiguration: Sendable, Equatable {
    /// Reload when the configuration file, a certificate or a key changes on disk.
    public var watch: Bool
    /// How long the files must stay quiet after a change before the reload starts,
    /// so a file written in several steps is read once, complete.
    public var debounce: Duration

    public init(watch: Bool = true, debounce: Duration = .milliseconds(200)) {
        self.watch = watch
        self.debounce = debounce
    }
}
