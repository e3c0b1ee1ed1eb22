public import GatewayConfig
public import NIOCore
public import NIOHTTP1

/// A proxied route, compiled once per configuration: its upstream, how the
/// path is rewritten, its timeout and header rules.
public struct ProxyRoute: Sendable {
    public let group: UpstreamGroup
    /// The upstream's position in `GatewayState`'s upstream list, so a connection
    /// can keep this loop's pool in an array instead of asking the group per request.
    public let upstreamIndex: Int
    public let requestTimeout: TimeAmount
    public let requestRules: HeaderRules
    public let responseRules: HeaderRules
    private let rewrite: PathRewrite
    /// The matched prefix (prefix routes); nil for a `path` route.
    private let prefix: String?
    /// `Host` to send when the client sent none (HTTP/1.0): the first target.
    private let defaultHost: String

    public init(configuration: RouteProxyConfiguration, match: PathPattern, group: UpstreamGroup, upstreamIndex: Int) {
        self.group = group
        self.upstreamIndex = upstreamIndex
        self.requestTimeout = TimeAmount(configuration.requestTimeout)
        self.requestRules = configuration.requestHeaders
        self.responseRules = configuration.responseHeaders
        self.rewrite = configuration.pathRewrite
        if case .prefix(let prefix) = match { self.prefix = prefix } else { self.prefix = nil }
        self.defaultHost = group.targets[0].label
    }

    /// The origin-form target sent upstream: the path rewritten as configured,
    /// the query as sent. `path` is the raw path the route matched, or the
    /// decoded one when only that matched.
    public func upstreamTarget(path: Substring, query: Substring?) -> String {
        var result: String
        switch self.rewrite {
        case .none:
            result = String(path)
        case .stripPrefix:
            result = String(self.afterPrefix(path))
            if !result.hasPrefix("/") { result = "/" + result }
        case .replace(let replacement):
            if self.prefix != nil {
                result = replacement + self.afterPrefix(path)
            } else {
                result = replacement
            }
        }
        if let query {
            result += "?"
            result += query
        }
        return result
    }

    private func afterPrefix(_ path: Substring) -> Substring {
        guard let prefix = self.prefix, path.hasPrefix(prefix) else { return path }
        return path.dropFirst(prefix.count)
    }

    /// The request head for the upstream (RFC 9110 §7.6): hop-by-hop fields and
    /// those named in `Connection` removed, `Expect` answered by the gateway and
    /// not forwarded, `X-Forwarded-For` appended, `X-Forwarded-Proto`,
    /// `X-Forwarded-Host` set, a `Forwarded` element appended, `X-Request-Id`
    /// set; `Host` passed through. Then the route's rules: remove, set, add.
    /// `trustForwarded`: whether the peer is a trusted proxy (`trusted_proxies`). Only
    /// then are its `X-Forwarded-For`/`Forwarded` chains continued and its
    /// `X-Forwarded-Proto`/`-Host` passed on; from anyone else they are replaced,
    /// so a client cannot forge them (as Traefik's `forwardedHeaders.trustedIPs`).
    /// `traceparent`: the client's when valid (then its `tracestate` goes on too),
    /// else a new trace (`TraceContext.start`) and no `tracestate`.
    /// The same, for a caller without a connection to keep a `ForwardedElementMemo` on.
    public func upstreamHead(
        client head: HTTPRequestHead, target: String, clientIP: String?, scheme: String, requestID: String,
        trustForwarded: Bool, traceparent: String
    ) -> HTTPRequestHead {
        var memo = ForwardedElementMemo()
        return self.upstreamHead(
            client: head, target: target, clientIP: clientIP, scheme: scheme, requestID: requestID,
            trustForwarded: trustForwarded, traceparent: traceparent, forwarded: &memo)
    }

    /// `forwarded`: the connection's memo of its last `Forwarded` element (client IP, scheme
    /// and Host rarely change on one connection, so the element is built once).
    public func upstreamHead(
        client head: HTTPRequestHead, target: String, clientIP: String?, scheme: String, requestID: String,
        trustForwarded: Bool, traceparent: String, forwarded forwardedMemo: inout ForwardedElementMemo
    ) -> HTTPRequestHead {
        let continuesTrace = head.headers.first(name: "traceparent") == traceparent
        let dropped = ProxyHeaders.connectionTokens(head.headers)
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 6)
        var forwardedFor: String?
        var forwarded: String?
        var forwardedProto: String?
        var forwardedHost: String?
        var host: String?
        var chunked = false
        for (name, value) in head.headers {
            switch ProxyHeaders.classify(name) {
            case .hopByHop:
                if name.caseInsensitiveEquals("transfer-encoding") { chunked = true }
                continue
            case .expect, .requestID, .traceparent:
                continue
            case .tracestate:
                if !continuesTrace { continue }
            case .forwardedHost:
                if trustForwarded && forwardedHost == nil { forwardedHost = value }
                continue
            case .forwardedProto:
                if trustForwarded && forwardedProto == nil { forwardedProto = value }
                continue
            case .forwardedFor:
                if trustForwarded { forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value }
                continue
            case .forwarded:
                if trustForwarded { forwarded = forwarded.map { $0 + ", " + value } ?? value }
                continue
            case .host:
                if host == nil { host = value }
            case .other:
                if !dropped.isEmpty, dropped.contains(name.lowercased()) { continue }
            }
            headers.add(name: name, value: value)
        }
        if host == nil { headers.add(name: "host", value: self.defaultHost) }
        let ip = clientIP ?? "unknown"
        headers.add(name: "x-forwarded-for", value: forwardedFor.map { $0 + ", " + ip } ?? ip)
        headers.add(name: "x-forwarded-proto", value: forwardedProto ?? scheme)
        if let originalHost = forwardedHost ?? host { headers.add(name: "x-forwarded-host", value: originalHost) }
        let element = forwardedMemo.element(ip: ip, scheme: scheme, host: host)
        headers.add(name: "forwarded", value: forwarded.map { $0 + ", " + element } ?? element)
        headers.add(name: "x-request-id", value: requestID)
        headers.add(name: "traceparent", value: traceparent)
        // NIO's encoder frames a body by these: keep the client's chunked body chunked.
        if chunked && !headers.contains(name: "content-length") {
            headers.add(name: "transfer-encoding", value: "chunked")
        }
        if !self.requestRules.isEmpty { ProxyHeaders.apply(self.requestRules, to: &headers) }
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: target, headers: headers)
    }

    /// Reframes an upstream head for a body the gateway collected whole (and
    /// may have inflated): the body goes up with its own `Content-Length`, never
    /// chunked, and without the `Content-Encoding` it no longer has once `decoded`.
    /// A request without a body keeps having none.
    public static func frameWholeBody(_ head: inout HTTPRequestHead, length: Int, decoded: Bool, clientSentBody: Bool) {
        head.headers.remove(name: "transfer-encoding")
        if decoded { head.headers.remove(name: "content-encoding") }
        if length > 0 || clientSentBody {
            head.headers.replaceOrAdd(name: "content-length", value: String(length))
        } else {
            head.headers.remove(name: "content-length")
        }
    }
}

/// The RFC 7239 element the gateway appends to `Forwarded` (`for=…;proto=…;host=…`),
/// kept per client connection and rebuilt only when one of its parts changes.
public struct ForwardedElementMemo: Sendable {
    private var ip = ""
    private var scheme = ""
    private var host: String?
    private var value = ""

    public init() {}

    mutating func element(ip: String, scheme: String, host: String?) -> String {
        if self.value.isEmpty || ip != self.ip || scheme != self.scheme || host != self.host {
            var element = "for=" + ProxyHeaders.forwardedNode(ip) + ";proto=" + scheme
            if let host { element += ";host=" + ProxyHeaders.quotedIfNeeded(host) }
            (self.ip, self.scheme, self.host, self.value) = (ip, scheme, host, element)
        }
        return self.value
    }
}
