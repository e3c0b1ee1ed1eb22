public import NIOHTTP1

extension HTTPHeaders {
    /// Calls `body` with each non-empty token listed in the `Connection` fields, whitespace
    /// trimmed. Scans the values in place: NIO's `headers[canonicalForm:]` and
    /// `isKeepAlive(version:)` (on headers it did not parse) build several arrays per call.
    public func forEachConnectionToken(_ body: (Substring.UTF8View) -> Void) {
        for (name, value) in self where name.utf8.count == 10 && name.caseInsensitiveEquals("connection") {
            let bytes = value.utf8
            var start = bytes.startIndex
            while start < bytes.endIndex {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: ",")) ?? bytes.endIndex
                var first = start
                var last = end
                while first < last, bytes[first] == 0x20 || bytes[first] == 0x09 { first = bytes.index(after: first) }
                while last > first {
                    let before = bytes.index(before: last)
                    guard bytes[before] == 0x20 || bytes[before] == 0x09 else { break }
                    last = before
                }
                if first < last { body(Substring(value)[first..<last].utf8) }
                start = end < bytes.endIndex ? bytes.index(after: end) : end
            }
        }
    }

    /// Whether the connection stays open after a message with these headers (RFC 9112 §9.3):
    /// HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    public func keepsAlive(version: HTTPVersion) -> Bool {
        var close = false
        var keepAlive = false
        self.forEachConnectionToken { token in
            if token.caseInsensitiveEquals("close") {
                close = true
            } else if token.caseInsensitiveEquals("keep-alive") {
                keepAlive = true
            }
        }
        if close { return false }
        return version.major == 1 && version.minor >= 1 || keepAlive
    }
}

extension Collection where Element == UInt8 {
    /// Whether these bytes equal `lowercase` (ASCII) ignoring case, without allocating.
    public func caseInsensitiveEquals(_ lowercase: StaticString) -> Bool {
        guard self.count == lowercase.utf8CodeUnitCount else { return false }
        var index = 0
        for byte in self {
            let folded = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
            if folded != lowercase.utf8Start[index] { return false }
            index += 1
        }
        return true
    }
}

extension String {
    /// Whether this string equals `lowercase` (ASCII) ignoring case, without allocating.
    @inline(__always)
    public func caseInsensitiveEquals(_ lowercase: StaticString) -> Bool {
        self.utf8.caseInsensitiveEquals(lowercase)
    }
}
