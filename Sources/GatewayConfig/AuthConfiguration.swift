/// One entry of the top-level `api_keys` object: a key's name and where its
/// secret comes from. The name is the request's identity once the key is
/// presented (access log, rate-limit key); the secret never appears in logs,
/// errors, `canonicalJSON` or the fingerprint.
public struct APIKeyConfiguration: Sendable, Equatable {
    public var name: String
    public var source: Source

    public enum Source: Sendable, Equatable {
        /// Written in the file, usually as `${VAR}` so the secret stays in the environment.
        case inline(String)
        /// A file holding the key alone (a Kubernetes or Docker secret), absolute;
        /// read when the configuration is compiled, surrounding whitespace ignored.
        case file(String)
    }

    public init(name: String, source: Source) {
        self.name = name
        self.source = source
    }

    /// What `canonicalJSON` shows instead of an inline key.
    public static let redacted = "<redacted>"

    /// Keys travel in a header or a query parameter: visible ASCII only, and
    /// long enough not to be guessed.
    public static let minimumLength = 16

    /// Why `key` cannot be an API key, or nil. Never quotes the key.
    public static func problem(with key: [UInt8]) -> String? {
        guard key.count >= minimumLength else {
            return "an API key must be at least \(minimumLength) characters long (it has \(key.count))"
        }
        guard key.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return "an API key may only contain visible ASCII characters (no spaces or control characters)"
        }
        return nil
    }
}

/// One entry of the top-level `jwks` object: a named JWKS file that JWT routes verify against.
public struct JWKSConfiguration: Sendable, Equatable {
    public var name: String
    /// Absolute path, read and turned into keys each time the configuration is compiled.
    public var file: String

    public init(name: String, file: String) {
        self.name = name
        self.file = file
    }
}

/// A route's `auth`: how a request proves who it is, before rate limits and
/// everything after them.
public struct RouteAuthConfiguration: Sendable, Equatable {
    public var method: Method
    /// The `realm` of `WWW-Authenticate`.
    public var realm: String
    /// Whether the credential (API key header or query parameter, `Authorization`)
    /// is removed before the request is proxied, as Kong's `hide_credentials`.
    public var hideCredentials: Bool

    public enum Method: Sendable, Equatable {
        case apiKey(APIKeyAuthConfiguration)
        case jwt(JWTAuthConfiguration)
    }

    public init(method: Method, realm: String = RouteAuthConfiguration.defaultRealm, hideCredentials: Bool = false) {
        self.method = method
        self.realm = realm
        self.hideCredentials = hideCredentials
    }

    public static let defaultRealm = "gateway"
}

/// `auth.api_key`: where the key is read and which keys may pass.
public struct APIKeyAuthConfiguration: Sendable, Equatable {
    /// The header carrying the key, as written (matched case-insensitively).
    public var header: String?
    /// The query parameter carrying the key; the header wins when both are set and sent.
    public var query: String?
    /// Names from `api_keys` allowed on the route; nil allows every key.
    public var allow: [String]?

    public init(header: String? = nil, query: String? = nil, allow: [String]? = nil) {
        self.header = header
        self.query = query
        self.allow = allow
    }

    /// The header when neither `header` nor `query` is given.
    public static let defaultHeader = "X-API-Key"
}

/// `auth.jwt`: which tokens a route accepts.
public struct JWTAuthConfiguration: Sendable, Equatable {
    /// The name of an entry of the top-level `jwks`.
    public var jwks: String
    /// `HS256`, `RS256`, `ES256`, in file order.
    public var algorithms: [String]
    /// Accepted `iss` values; empty means not checked.
    public var issuers: [String]
    /// Accepted `aud` values; empty means not checked.
    public var audiences: [String]
    public var clockSkew: Duration
    /// Claims (and values) a valid token must carry, else 403; in file order.
    public var required: [RequiredClaim]
    public var maxTokenBytes: Int

    public struct RequiredClaim: Sendable, Equatable {
        public var name: String
        public var values: [String]

        public init(name: String, values: [String]) {
            self.name = name
            self.values = values
        }
    }

    public init(
        jwks: String, algorithms: [String] = JWTAuthConfiguration.supportedAlgorithms, issuers: [String] = [],
        audiences: [String] = [], clockSkew: Duration = JWTAuthConfiguration.defaultClockSkew,
        required: [RequiredClaim] = [], maxTokenBytes: Int = JWTAuthConfiguration.defaultMaxTokenBytes
    ) {
        self.jwks = jwks
        self.algorithms = algorithms
        self.issuers = issuers
        self.audiences = audiences
        self.clockSkew = clockSkew
        self.required = required
        self.maxTokenBytes = maxTokenBytes
    }

    /// Every algorithm the gateway verifies; a key is only ever used with its own family.
    public static let supportedAlgorithms = ["HS256", "RS256", "ES256"]
    public static let defaultClockSkew = Duration.seconds(60)
    public static let defaultMaxTokenBytes = 8192
}
