/// One entry of `routes`: which requests it takes and what answers them, a
/// built-in handler or an upstream.
public struct RouteConfiguration: Sendable, Equatable {
    /// Unique; letters, digits, `_`, `.` and `-` only, since it is a Prometheus label value.
    public var name: String
    public var match: RouteMatchConfiguration
    public var action: RouteAction
    /// Names of `rate_limits` policies, all enforced, in file order (or `default_rate_limits`).
    public var rateLimits: [String]
    /// Whether responses carry the `RateLimit-Policy` and `RateLimit` headers.
    public var rateLimitHeaders: Bool
    /// Response compression (gzip), or `nil` when the route sends bodies as they are.
    public var compression: CompressionConfiguration?
    /// This route's request body limit; nil uses `http.max_body_bytes`.
    public var maxBodyBytes: Int?
    /// Inflating gzip request bodies, or `nil` when bodies pass through untouched.
    public var requestDecompression: RequestDecompressionConfiguration?
    /// Typed parameters and a JSON body checked before dispatch, or `nil`.
    public var validation: ValidationConfiguration?
    /// Authentication (API key or JWT), or nil for a route anyone may call.
    public var auth: RouteAuthConfiguration?
    /// Cross-origin access for browsers, or `nil` when the route adds no CORS headers.
    public var cors: CORSConfiguration?

    public init(
        name: String, match: RouteMatchConfiguration, action: RouteAction, rateLimits: [String] = [],
        rateLimitHeaders: Bool = true, compression: CompressionConfiguration? = nil, maxBodyBytes: Int? = nil,
        requestDecompression: RequestDecompressionConfiguration? = nil, validation: ValidationConfiguration? = nil,
        auth: RouteAuthConfiguration? = nil, cors: CORSConfiguration? = nil
    ) {
        self.name = name
        self.match = match
        self.action = action
        self.rateLimits = rateLimits
        self.rateLimitHeaders = rateLimitHeaders
        self.compression = compression
        self.maxBodyBytes = maxBodyBytes
        self.requestDecompression = requestDecompression
        self.validation = validation
        self.auth = auth
        self.cors = cors
    }

    public init(name: String, match: RouteMatchConfiguration, handler: BuiltInHandlerName) {
        self.init(name: name, match: match, action: .handler(handler))
    }

    /// The built-in handler, or `nil` for a proxied route.
    public var handler: BuiltInHandlerName? {
        if case .handler(let name) = self.action { name } else { nil }
    }

    /// How the route proxies, or `nil` for a built-in handler.
    public var proxy: RouteProxyConfiguration? {
        if case .upstream(let proxy) = self.action { proxy } else { nil }
    }
}

/// What answers a route's requests: exactly one of `handler` or `upstream` in the file.
public enum RouteAction: Sendable, Equatable {
    case handler(BuiltInHandlerName)
    case upstream(RouteProxyConfiguration)
}

/// The `match` object of a route.
public struct RouteMatchConfiguration: Sendable, Equatable {
    public var path: PathPattern
    /// Uppercase method tokens without duplicates, in file order; `nil` matches every method.
    public var methods: [String]?
    /// Lowercased host name, optionally `*.`-prefixed; `nil` matches every host.
    public var host: String?

    public init(path: PathPattern, methods: [String]? = nil, host: String? = nil) {
        self.path = path
        self.methods = methods
        self.host = host
    }
}

/// The handlers built into the gateway that a route can name in `handler`.
public enum BuiltInHandlerName: String, Sendable, Equatable, Hashable, CaseIterable {
    /// The items API (`/items/…`).
    case items
}
