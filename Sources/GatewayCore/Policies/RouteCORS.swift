import GatewayConfig
import NIOHTTP1

/// A route's `cors`, compiled once per configuration: origin lookups, the
/// joined header values, and the upstream response rules that drop the
/// upstream's own `Access-Control-*` fields. Per request it only compares
/// strings; a route without `cors` has `CompiledRoute.cors == nil`.
struct RouteCORS: Sendable {
    /// `"*"` in `allow_origins`.
    let anyOrigin: Bool
    let origins: Set<String>
    /// `https://*.example.com` as (`https://`, `.example.com`).
    let subdomains: [(prefix: String, suffix: String)]
    let credentials: Bool
    /// `Access-Control-Expose-Headers`, nil when nothing is exposed.
    let exposeHeaders: String?
    /// Methods a preflight may ask for; nil for any (the requested method is echoed).
    let methods: HTTPMethodSet?
    let methodsValue: String?
    /// `"*"` in `allow_headers`: the requested headers are echoed.
    let anyHeader: Bool
    /// Lowercased allowed request headers, the safelisted ones included.
    let headers: Set<String>
    let headersValue: String
    let maxAge: String
    /// The route's response rules plus removal of the upstream's `Access-Control-*` fields (proxied routes).
    let upstreamResponseRules: HeaderRules

    /// Always allowed, as Starlette's `CORSMiddleware` does: a JSON API needs `Content-Type`.
    static let safelistedHeaders = ["Accept", "Accept-Language", "Content-Language", "Content-Type"]
    /// Response fields that only the gateway decides on a `cors` route.
    static let responseFieldNames = [
        "access-control-allow-origin", "access-control-allow-credentials", "access-control-expose-headers",
        "access-control-allow-methods", "access-control-allow-headers", "access-control-max-age",
        "access-control-allow-private-network",
    ]
    static let preflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

    init(_ configuration: CORSConfiguration, routeMethods: [String]?, responseRules: HeaderRules = HeaderRules()) {
        var origins: Set<String> = []
        var subdomains: [(String, String)] = []
        var anyOrigin = false
        for origin in configuration.allowOrigins {
            switch origin {
            case .any: anyOrigin = true
            case .exact(let text): origins.insert(text)
            case .subdomains(let scheme, let suffix): subdomains.append((scheme + "://", suffix))
            }
        }
        self.anyOrigin = anyOrigin
        self.origins = origins
        self.subdomains = subdomains
        self.credentials = configuration.allowCredentials
        self.exposeHeaders =
            configuration.exposeHeaders.isEmpty ? nil : configuration.exposeHeaders.joined(separator: ", ")
        let methods = configuration.allowMethods ?? routeMethods
        if let methods, methods != ["*"] {
            self.methods = HTTPMethodSet(methods)
            self.methodsValue = methods.joined(separator: ", ")
        } else {
            self.methods = nil
            self.methodsValue = nil
        }
        self.anyHeader = configuration.allowHeaders == ["*"]
        var listed = self.anyHeader ? [] : configuration.allowHeaders
        for name in Self.safelistedHeaders where !listed.contains(where: { $0.lowercased() == name.lowercased() }) {
            listed.append(name)
        }
        self.headers = Set(listed.map { $0.lowercased() })
        self.headersValue = listed.joined(separator: ", ")
        self.maxAge = String(configuration.maxAge.components.seconds)
        var rules = responseRules
        rules.remove = Self.responseFieldNames + rules.remove
        self.upstreamResponseRules = rules
    }

    /// Whether `origin` (the `Origin` field as sent) may read the route's answers.
    func allows(origin: String) -> Bool {
        if self.anyOrigin || self.origins.contains(origin) { return true }
        for (prefix, suffix) in self.subdomains where origin.hasPrefix(prefix) && origin.hasSuffix(suffix) {
            // What `*` stands for: one or more DNS labels, nothing that could end the host early.
            let utf8 = origin.utf8
            let labels = utf8.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
            guard let first = labels.first, let last = labels.last, first != UInt8(ascii: "."),
                last != UInt8(ascii: ".")
            else { continue }
            if labels.allSatisfy({ byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: ".")
            }) {
                return true
            }
        }
        return false
    }

    /// The fields of an answer to a request that is not a preflight: the allow
    /// fields when its `Origin` is allowed, and `Vary: Origin` always, since the
    /// answer depends on it (a cache must not give one origin's answer to another).
    func responseHeaders(origin: String?) -> [(name: String, value: String)] {
        guard let origin, self.allows(origin: origin) else { return [("vary", "Origin")] }
        var fields: [(name: String, value: String)] = [
            ("access-control-allow-origin", self.anyOrigin && !self.credentials ? "*" : origin)
        ]
        if self.credentials { fields.append(("access-control-allow-credentials", "true")) }
        if let exposeHeaders { fields.append(("access-control-expose-headers", exposeHeaders)) }
        fields.append(("vary", "Origin"))
        return fields
    }

    /// The fields of the gateway's answer to a preflight. A refused preflight
    /// (origin, method or a header not allowed) gets only `Vary`: the browser then
    /// refuses the actual request, as with Envoy, which never fails a preflight itself.
    func preflightHeaders(origin: String, method: String, requestHeaders: [Substring]) -> [(name: String, value: String)]
    {
        let vary = ("vary", Self.preflightVary)
        guard self.allows(origin: origin) else { return [vary] }
        if let methods, !methods.contains(HTTPMethod(rawValue: method)) { return [vary] }
        var requested: [Substring] = []
        for field in requestHeaders {
            for element in field.split(separator: ",") {
                let name = element.trimmingHTTPWhitespace()
                guard !name.isEmpty else { continue }
                if !self.anyHeader && !self.headers.contains(name.lowercased()) { return [vary] }
                requested.append(name)
            }
        }
        var fields: [(name: String, value: String)] = [
            ("access-control-allow-origin", self.anyOrigin && !self.credentials ? "*" : origin)
        ]
        if self.credentials { fields.append(("access-control-allow-credentials", "true")) }
        fields.append(("access-control-allow-methods", self.methodsValue ?? method))
        if self.anyHeader {
            if !requested.isEmpty { fields.append(("access-control-allow-headers", requested.joined(separator: ", "))) }
        } else {
            fields.append(("access-control-allow-headers", self.headersValue))
        }
        fields.append(("access-control-max-age", self.maxAge))
        fields.append(vary)
        return fields
    }
}
