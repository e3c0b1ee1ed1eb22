/// A `host:port` address to bind, as written in `listeners[].address` and `admin.address`.
///
/// `host` is an IPv4 literal, an IPv6 literal (stored without brackets) or a host
/// name (stored lowercased); `port` is 0–65535, where 0 asks the OS for a free port.
public struct SocketAddressConfiguration: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[ipv6]:port`; `nil` when the text is not a valid address.
    public init?(parsing text: String) {
        guard let address = try? Self.parse(text) else { return nil }
        self = address
    }

    /// `host:port`, with brackets around an IPv6 host: the form the file uses.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func parse(_ text: String) throws(InvalidValue) -> SocketAddressConfiguration {
        let expected = "expected host:port (e.g. \"0.0.0.0:8443\" or \"[::1]:8443\"), got \"\(text)\""
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let closing = text.firstIndex(of: "]") else {
                throw InvalidValue(expected)
            }
            host = text[text.index(after: text.startIndex)..<closing]
            let rest = text[text.index(after: closing)...]
            guard rest.hasPrefix(":") else {
                throw InvalidValue(expected)
            }
            portText = rest.dropFirst()
            guard HostSyntax.isIPv6Literal(host) else {
                throw InvalidValue("invalid IPv6 address \"[\(host)]\" in \"\(text)\"")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw InvalidValue(expected)
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                throw InvalidValue(expected + " (write IPv6 addresses in brackets, e.g. \"[::1]:8443\")")
            }
            if host == "*" || host.isEmpty {
                throw InvalidValue(expected + " (use \"0.0.0.0\" or \"[::]\" for all interfaces)")
            }
            guard HostSyntax.isIPv4Literal(host) || HostSyntax.isHostName(host) else {
                throw InvalidValue(
                    "invalid host \"\(host)\" in \"\(text)\" (expected an IPv4 or IPv6 address or a host name)"
                )
            }
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCIIDigit),
            let port = Int(portText), port <= 65535
        else {
            throw InvalidValue("invalid port \"\(portText)\" in \"\(text)\" (expected 0-65535)")
        }
        return SocketAddressConfiguration(host: host.lowercased(), port: port)
    }
}
