#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One entry of `trusted_proxies`: an IPv4 or IPv6 network in CIDR notation
/// (`10.0.0.0/8`, `fd00::/8`), or a single address (`192.0.2.7`).
public struct IPAddressRange: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The network address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let network: [UInt8]
    public let prefixLength: Int

    public init?(network: [UInt8], prefixLength: Int) {
        guard network.count == 4 || network.count == 16, (0...network.count * 8).contains(prefixLength) else {
            return nil
        }
        self.network = network
        self.prefixLength = prefixLength
    }

    /// Whether `address` (4 or 16 bytes) is in the range. An IPv4-mapped IPv6
    /// address (`::ffff:10.0.0.1`) matches IPv4 ranges.
    public func contains(_ address: some Collection<UInt8>) -> Bool {
        var bytes = Array(address)
        if bytes.count == 16, self.network.count == 4, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF,
            bytes[11] == 0xFF
        {
            bytes = Array(bytes[12...])
        }
        guard bytes.count == self.network.count else { return false }
        var remaining = self.prefixLength
        for index in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if bytes[index] & mask != self.network[index] { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        let full = self.network.count * 8
        let address = Self.format(self.network)
        return self.prefixLength == full ? address : "\(address)/\(self.prefixLength)"
    }

    /// Parses `address` or `address/length`; a range with host bits set is refused.
    static func parse(_ text: String) throws(InvalidValue) -> IPAddressRange {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let expected = "expected an IP address or a CIDR range such as \"10.0.0.0/8\" or \"fd00::/8\""
        guard (1...2).contains(parts.count), let bytes = Self.parseAddress(String(parts[0])) else {
            throw InvalidValue("invalid trusted proxy \"\(text)\" (\(expected))")
        }
        var length = bytes.count * 8
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy(\.isASCIIDigit),
                let value = Int(parts[1]), value <= bytes.count * 8
            else {
                throw InvalidValue(
                    "invalid prefix length \"\(parts[1])\" in \"\(text)\" (expected 0-\(bytes.count * 8))")
            }
            length = value
        }
        let range = IPAddressRange(network: bytes, prefixLength: length)!
        var masked = bytes
        var remaining = length
        for index in 0..<masked.count {
            let bits = max(0, min(8, remaining))
            masked[index] &= bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            remaining -= 8
        }
        guard masked == bytes else {
            let suggestion = IPAddressRange(network: masked, prefixLength: length)!
            throw InvalidValue("\"\(text)\" has host bits set (did you mean \"\(suggestion)\"?)")
        }
        return range
    }

    /// The bytes of an IPv4 or IPv6 literal (no brackets, no zone), or nil.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        if !text.contains(":") {
            var address = in_addr()
            guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
            return withUnsafeBytes(of: &address) { Array($0) }
        }
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    private static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        var copy = bytes
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = copy.withUnsafeMutableBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
