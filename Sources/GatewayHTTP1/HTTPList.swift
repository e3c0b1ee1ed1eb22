/// Field values that are lists (RFC 9110 §5.6.1: `a, b;q=0.5`), split in place: the
/// elements are slices of the value, so reading one allocates nothing.
public enum HTTPList {
    /// Calls `body` with each non-empty element of `bytes` between `separator`s,
    /// spaces and tabs around it trimmed.
    @inline(__always)
    public static func forEachElement(
        of bytes: Substring.UTF8View, separatedBy separator: UInt8, _ body: (Substring.UTF8View) -> Void
    ) {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: separator) ?? bytes.endIndex
            let element = Self.trimmingWhitespace(bytes[start..<end])
            if !element.isEmpty { body(element) }
            start = end < bytes.endIndex ? bytes.index(after: end) : end
        }
    }

    /// `bytes` without the spaces and tabs at either end.
    @inline(__always)
    public static func trimmingWhitespace(_ bytes: Substring.UTF8View) -> Substring.UTF8View {
        var first = bytes.startIndex
        var last = bytes.endIndex
        while first < last, HTTPSyntax.isWhitespace(bytes[first]) { first = bytes.index(after: first) }
        while last > first {
            let before = bytes.index(before: last)
            guard HTTPSyntax.isWhitespace(bytes[before]) else { break }
            last = before
        }
        return bytes[first..<last]
    }
}
