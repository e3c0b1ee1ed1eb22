public import GatewayConfig
public import NIOHTTP1

/// Header handling shared by both directions of the proxy (RFC 9110 §7.6.1).
public enum ProxyHeaders {
    /// `.hopByHop`: fields that belong to one connection (connection, keep-alive,
    /// proxy-connection, te, trailer, transfer-encoding, upgrade), never forwarded.
    enum Kind {
        case hopByHop, expect, host, forwardedFor, forwardedProto, forwardedHost, forwarded, requestID, traceparent,
            tracestate, other
    }

    /// What a request field is to the proxy; compares without allocating for the common names.
    static func classify(_ name: String) -> Kind {
        switch name.utf8.count {
        case 2: if name.caseInsensitiveEquals("te") { return .hopByHop }
        case 4: if name.caseInsensitiveEquals("host") { return .host }
        case 6: if name.caseInsensitiveEquals("expect") { return .expect }
        case 7:
            if name.caseInsensitiveEquals("upgrade") { return .hopByHop }
            if name.caseInsensitiveEquals("trailer") { return .hopByHop }
        case 9: if name.caseInsensitiveEquals("forwarded") { return .forwarded }
        case 10:
            if name.caseInsensitiveEquals("connection") { return .hopByHop }
            if name.caseInsensitiveEquals("keep-alive") { return .hopByHop }
            if name.caseInsensitiveEquals("tracestate") { return .tracestate }
        case 11: if name.caseInsensitiveEquals("traceparent") { return .traceparent }
        case 12: if name.caseInsensitiveEquals("x-request-id") { return .requestID }
        case 15: if name.caseInsensitiveEquals("x-forwarded-for") { return .forwardedFor }
        case 16:
            if name.caseInsensitiveEquals("x-forwarded-host") { return .forwardedHost }
            if name.caseInsensitiveEquals("proxy-connection") { return .hopByHop }
        case 17:
            if name.caseInsensitiveEquals("x-forwarded-proto") { return .forwardedProto }
            if name.caseInsensitiveEquals("transfer-encoding") { return .hopByHop }
        default: break
        }
        return .other
    }

    /// Names listed in `Connection` (lowercased), which are hop-by-hop too. The usual
    /// `keep-alive` or `close` allocates nothing.
    static func connectionTokens(_ headers: HTTPHeaders) -> [String] {
        var tokens: [String] = []
        headers.forEachConnectionToken { token in
            if token.caseInsensitiveEquals("close") || token.caseInsensitiveEquals("keep-alive") { return }
            tokens.append(String(decoding: token, as: UTF8.self).lowercased())
        }
        return tokens
    }

    /// RFC 7239 node: IPv6 in brackets and quotes.
    static func forwardedNode(_ ip: String) -> String {
        ip.contains(":") ? "\"[\(ip)]\"" : ip
    }

    static func quotedIfNeeded(_ value: String) -> String {
        let token = value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
        if token { return value }
        return "\"" + value.replacingBackslashesAndQuotes() + "\""
    }

    /// Applies a route's rules in order: remove, set, add.
    public static func apply(_ rules: HeaderRules, to headers: inout HTTPHeaders) {
        for name in rules.remove { headers.remove(name: name) }
        for field in rules.set { headers.replaceOrAdd(name: field.name, value: field.value) }
        for field in rules.add { headers.add(name: field.name, value: field.value) }
    }
}

extension String {
    fileprivate func replacingBackslashesAndQuotes() -> String {
        var result = ""
        for character in self {
            if character == "\\" || character == "\"" { result.append("\\") }
            result.append(character)
        }
        return result
    }
}
