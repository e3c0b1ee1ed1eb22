/// Field values that are lists (RFC 9110 §5.6.1: `a, b;q=0.5`), split in place over the
/// value's UTF-8 bytes: reading an element allocates nothing and costs a byte scan.
public enum HTTPList {
    /// Calls `body` with each non-empty element of `value` between `separator`s, spaces and
    /// tabs around it trimmed. The bytes are valid only during the call.
    @inline(__always)
    public static func forEachElement(
        of value: String, separatedBy separator: UInt8, _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        var value = value  // withUTF8 is mutating; a header's native string is not copied
        value.withUTF8 { utf8 in
            Self.forEachElement(of: UnsafeRawBufferPointer(utf8), separatedBy: separator, body)
        }
    }

    /// The same over bytes (a value, or an element of one).
    @inline(__always)
    public static func forEachElement(
        of bytes: UnsafeRawBufferPointer, separatedBy separator: UInt8, _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != separator { end += 1 }
            let element = Self.trimmingWhitespace(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            if !element.isEmpty { body(element) }
            start = end + 1
        }
    }

    /// `bytes` without the spaces and tabs at either end.
    @inline(__always)
    public static func trimmingWhitespace(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var first = 0
        var last = bytes.count
        while first < last, Self.isWhitespace(bytes[first]) { first += 1 }
        while last > first, Self.isWhitespace(bytes[last - 1]) { last -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[first..<last])
    }

    /// The bytes before the first `separator` (all of them if there is none), and those after it.
    @inline(__always)
    public static func split(
        _ bytes: UnsafeRawBufferPointer, at separator: UInt8
    ) -> (before: UnsafeRawBufferPointer, after: UnsafeRawBufferPointer?) {
        guard let index = bytes.firstIndex(of: separator) else { return (bytes, nil) }
        return (
            UnsafeRawBufferPointer(rebasing: bytes[..<index]), UnsafeRawBufferPointer(rebasing: bytes[(index + 1)...])
        )
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09
    }
}
