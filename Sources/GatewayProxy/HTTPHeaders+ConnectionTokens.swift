public import NIOHTTP1

extension HTTPHeaders {
    /// Calls `body` with each non-empty token listed in the `Connection` fields, whitespace
    /// trimmed. Scans the values in place: NIO's `headers[canonicalForm:]` builds several
    /// arrays per call.
    public func forEachConnectionToken(_ body: (UnsafeRawBufferPointer) -> Void) {
        for (name, value) in self where name.caseInsensitiveEquals("connection") {
            HTTPList.forEachElement(of: value, separatedBy: UInt8(ascii: ","), body)
        }
    }
}

extension Collection where Element == UInt8 {
    /// Whether these bytes equal `lowercase` (ASCII) ignoring case, without allocating.
    @inline(__always)
    public func caseInsensitiveEquals(_ lowercase: StaticString) -> Bool {
        self.caseInsensitiveEquals(
            lowercase: UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount))
    }

    /// Whether these bytes equal the lowercase ASCII `lowercase` ignoring case (a runtime value).
    public func caseInsensitiveEquals(lowercase: some Collection<UInt8>) -> Bool {
        guard self.count == lowercase.count else { return false }
        for (byte, expected) in zip(self, lowercase) {
            let folded = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
            if folded != expected { return false }
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
