import NIOHTTP1

/// Finding a credential in a request head or its raw query, and taking it out
/// again (for `hide_credentials`, and so that the access log never shows one).
enum CredentialLocation {
    /// What a request carries where a credential is expected.
    enum Found: Equatable {
        case none
        /// Sent more than once: refused, since the gateway and the upstream
        /// might not read the same one.
        case ambiguous
        case value(Substring)
    }

    /// The value of header `name` (case-insensitive), by scanning the fields once.
    static func header(_ name: String, in headers: HTTPHeaders) -> Found {
        var found = Found.none
        for field in headers where Self.equalsIgnoringCase(field.name, name) {
            guard found == .none else { return .ambiguous }
            found = .value(Substring(field.value))
        }
        return found
    }

    /// The value of query parameter `name` (compared as sent), `%XX` escapes decoded.
    /// A value with a broken escape is returned as sent, so it matches no key.
    static func query(_ name: String, in query: Substring?) -> Found {
        guard var rest = query else { return .none }
        var found = Found.none
        // Pair by pair, without splitting the query into an array.
        while !rest.isEmpty {
            let end = rest.firstIndex(of: "&") ?? rest.endIndex
            let (key, value) = Self.split(rest[..<end])
            if key == name {
                guard found == .none else { return .ambiguous }
                found = .value(Self.percentDecoded(value))
            }
            rest = end < rest.endIndex ? rest[rest.index(after: end)...] : rest[end...]
        }
        return found
    }

    /// The query without parameter `name`; nil when nothing is left.
    static func removing(_ name: String, from query: Substring) -> Substring? {
        let kept = query.split(separator: "&", omittingEmptySubsequences: true).filter { Self.split($0).key != name }
        return kept.isEmpty ? nil : Substring(kept.joined(separator: "&"))
    }

    /// `uri` with the value of query parameter `name` replaced by `REDACTED`, for the access log.
    static func redacting(_ name: String, in uri: String) -> String {
        guard let mark = uri.firstIndex(of: "?") else { return uri }
        let pairs = uri[uri.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false).map {
            pair -> Substring in Self.split(pair).key == name ? Substring(name + "=REDACTED") : pair
        }
        return String(uri[...mark]) + pairs.joined(separator: "&")
    }

    private static func split(_ pair: Substring) -> (key: Substring, value: Substring) {
        guard let equals = pair.firstIndex(of: "=") else { return (pair, "") }
        return (pair[..<equals], pair[pair.index(after: equals)...])
    }

    private static func percentDecoded(_ value: Substring) -> Substring {
        guard value.utf8.contains(UInt8(ascii: "%")) else { return value }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count)
        var iterator = value.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return value
            }
            bytes.append(high << 4 | low)
        }
        return Substring(String(decoding: bytes, as: UTF8.self))
    }

    /// The token of `Bearer <token>` (RFC 6750 §2.1; the scheme is case-insensitive), or nil for another scheme.
    static func bearerToken(_ value: Substring) -> Substring? {
        let scheme = "bearer".utf8
        var index = value.utf8.startIndex
        for expected in scheme {
            guard index < value.utf8.endIndex, value.utf8[index] | 0x20 == expected else { return nil }
            value.utf8.formIndex(after: &index)
        }
        guard index < value.utf8.endIndex, value.utf8[index] == UInt8(ascii: " ") else { return nil }
        let token = value[index...].drop { $0 == " " }
        return token.isEmpty ? nil : token
    }

    static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        return zip(a.utf8, b.utf8).allSatisfy { x, y in
            x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= UInt8(ascii: "a") && (x | 0x20) <= UInt8(ascii: "z"))
        }
    }
}
