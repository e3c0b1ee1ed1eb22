/// The parts of a request target (RFC 9112 §3.2) the router needs, found by
/// scanning bytes once: the path and the raw query, as slices of the original URI.
public struct RequestTarget {
    public var path: Substring
    public var query: Substring?

    /// Returns nil for a target that has no path to route (`*`, or a malformed absolute form).
    @inlinable
    public init?(_ uri: String) {
        let utf8 = uri.utf8
        guard var pathStart = utf8.first.map({ _ in utf8.startIndex }) else { return nil }
        if utf8[pathStart] != UInt8(ascii: "/") {
            // absolute-form: scheme://authority/path
            guard let schemeEnd = utf8.firstIndex(of: UInt8(ascii: ":")),
                utf8[schemeEnd...].starts(with: "://".utf8)
            else { return nil }
            let authorityStart = utf8.index(schemeEnd, offsetBy: 3)
            pathStart =
                utf8[authorityStart...].firstIndex(where: {
                    $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?")
                }) ?? utf8.endIndex
        }
        var pathEnd = utf8.endIndex
        var query: Substring? = nil
        var index = pathStart
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "?") {
                pathEnd = index
                let queryEnd = utf8[index...].firstIndex(of: UInt8(ascii: "#")) ?? utf8.endIndex
                query = Substring(uri[utf8.index(after: index)..<queryEnd])
                break
            }
            if byte == UInt8(ascii: "#") {
                pathEnd = index
                break
            }
            utf8.formIndex(after: &index)
        }
        let path = Substring(uri[pathStart..<pathEnd])
        self.path = path.isEmpty ? "/" : path
        self.query = query
    }
}
