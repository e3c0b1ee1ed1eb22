import GatewayConfig
import NIOHTTP1

/// The client's IP for rate limiting. The peer's address, unless the peer is one
/// of `trusted_proxies`: then `X-Forwarded-For` is read from the right, skipping
/// trusted addresses, and the first untrusted one is the client (nginx's
/// `real_ip_recursive on`, Envoy's trusted hops). A client cannot choose its key
/// by sending its own `X-Forwarded-For`: only what trusted proxies appended counts.
enum ClientAddress {
    static func isTrusted(_ address: String, in trusted: [IPAddressRange]) -> Bool {
        guard !trusted.isEmpty, let bytes = IPAddressRange.parseAddress(address) else { return false }
        return trusted.contains { $0.contains(bytes) }
    }

    /// `peer` must be trusted already. When every forwarded address is trusted,
    /// the leftmost is the client; an entry that is not an IP address stops the
    /// walk, and the last trusted hop (or the peer) is the client.
    static func forwardedClient(headers: HTTPHeaders, peer: String, trusted: [IPAddressRange]) -> String {
        let values = headers[canonicalForm: "x-forwarded-for"]
        guard !values.isEmpty else { return peer }
        var client = peer
        for value in values.reversed() {
            for entry in value.split(separator: ",").reversed() {
                let address = String(entry.trimmingASCIISpaces)
                guard let bytes = IPAddressRange.parseAddress(address) else { return client }
                client = address
                if !trusted.contains(where: { $0.contains(bytes) }) { return client }
            }
        }
        return client
    }
}

extension Substring {
    fileprivate var trimmingASCIISpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
