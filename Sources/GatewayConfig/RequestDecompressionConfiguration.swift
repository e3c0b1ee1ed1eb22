/// A route's `request_decompression`: request bodies sent with
/// `Content-Encoding: gzip` are inflated before the route's validation and
/// handler or upstream see them, within caps against decompression bombs.
///
/// `"request_decompression": true` is every default; a route without the key
/// (or with `false`) passes bodies through untouched, and its configuration is `nil`.
public struct RequestDecompressionConfiguration: Sendable, Equatable {
    /// The most bytes a body may inflate to; nil means the route's body limit
    /// (`max_body_bytes`, or `http.max_body_bytes`).
    public var maxBytes: Int?
    /// The most the body may grow (inflated bytes per compressed byte), checked
    /// once the inflated body passes `ratioFloorBytes`.
    public var maxRatio: Int

    public static let defaultMaxRatio = 100
    /// Below this many inflated bytes the ratio is not checked: a tiny body can
    /// expand a lot (a few bytes of gzip framing around a short text) and is harmless.
    public static let ratioFloorBytes = 64 * 1024

    public init(maxBytes: Int? = nil, maxRatio: Int = Self.defaultMaxRatio) {
        self.maxBytes = maxBytes
        self.maxRatio = maxRatio
    }
}
