/// A route's `cors` object: which browser origins may call the route, and what
/// they may send and read. The gateway answers preflights for the route itself.
public struct CORSConfiguration: Sendable, Equatable {
    /// At least one; `[.any]` alone, or exact origins and subdomain patterns.
    public var allowOrigins: [CORSOrigin]
    /// Methods a preflight may ask for; nil: the route's `methods` (every method when it lists none).
    /// `["*"]` allows any method.
    public var allowMethods: [String]?
    /// Request headers a preflight may ask for, as written; `["*"]` allows any. The CORS-safelisted
    /// `Accept`, `Accept-Language`, `Content-Language` and `Content-Type` are always allowed.
    public var allowHeaders: [String]
    /// Response headers a page may read besides the safelisted ones; `["*"]` for all (not with credentials).
    public var exposeHeaders: [String]
    /// Whether browsers may send cookies and HTTP auth and read the answer (`Access-Control-Allow-Credentials`).
    public var allowCredentials: Bool
    /// How long a browser may cache a preflight's answer (`Access-Control-Max-Age`, whole seconds).
    public var maxAge: Duration

    /// FastAPI's (Starlette's `CORSMiddleware`) default: 600 seconds.
    public static let defaultMaxAge = Duration.seconds(600)

    public init(
        allowOrigins: [CORSOrigin], allowMethods: [String]? = nil, allowHeaders: [String] = [],
        exposeHeaders: [String] = [], allowCredentials: Bool = false, maxAge: Duration = Self.defaultMaxAge
    ) {
        self.allowOrigins = allowOrigins
        self.allowMethods = allowMethods
        self.allowHeaders = allowHeaders
        self.exposeHeaders = exposeHeaders
        self.allowCredentials = allowCredentials
        self.maxAge = maxAge
    }
}

/// One entry of `allow_origins`.
public enum CORSOrigin: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// `"*"`: every origin.
    case any
    /// `"https://app.example.com"` or `"http://localhost:3000"`, lowercased, compared exactly
    /// with the `Origin` header (browsers send it lowercased, without a default port).
    case exact(String)
    /// `"https://*.example.com"`: the scheme, and the rest after `*` (`.example.com`, or
    /// `.example.com:8443` with a port); one or more labels stand for the `*`.
    case subdomains(scheme: String, suffix: String)

    public var description: String {
        switch self {
        case .any: "*"
        case .exact(let origin): origin
        case .subdomains(let scheme, let suffix): scheme + "://*" + suffix
        }
    }

    /// Parses an origin as an operator writes it: `scheme://host[:port]`, no path.
    static func parse(_ text: String) throws(InvalidValue) -> CORSOrigin {
        if text == "*" { return .any }
        let invalid = InvalidValue(
            "expected an origin such as \"https://app.example.com\", \"https://*.example.com\" or \"*\", got \"\(text)\"")
        let lowered = text.lowercased()
        guard let separator = lowered.firstRange(of: "://") else { throw invalid }
        let scheme = lowered[..<separator.lowerBound]
        let authority = lowered[separator.upperBound...]
        guard let first = scheme.first, first.isASCII, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { throw invalid }
        if let slash = authority.firstIndex(where: { "/?#".contains($0) }) {
            throw InvalidValue(
                "an origin has no path: use \"\(scheme)://\(authority[..<slash])\" (got \"\(text)\")")
        }
        guard !authority.contains("@") else { throw invalid }
        // Split host and port; an IPv6 literal is bracketed.
        var host = authority
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid }
            host = authority[...close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw invalid }
                port = rest.dropFirst()
            }
            guard HostSyntax.isIPv6Literal(host.dropFirst().dropLast()) else { throw invalid }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCIIDigit), port.first != "0",
                let number = Int(port), number <= 65535
            else { throw InvalidValue("invalid port in origin \"\(text)\"") }
            if (scheme == "https" && number == 443) || (scheme == "http" && number == 80) {
                throw InvalidValue(
                    "browsers leave the default port out of an origin: use \"\(scheme)://\(host)\" (got \"\(text)\")")
            }
        }
        let portSuffix = port.map { ":" + $0 } ?? ""
        if host.hasPrefix("*.") {
            guard HostSyntax.isHostName(host.dropFirst(2)) else { throw invalid }
            return .subdomains(scheme: String(scheme), suffix: String(host.dropFirst()) + portSuffix)
        }
        guard host.hasPrefix("[") || HostSyntax.isHostName(host) else { throw invalid }
        return .exact(String(scheme) + "://" + String(host) + portSuffix)
    }
}
