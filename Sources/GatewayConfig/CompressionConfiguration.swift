/// A route's `compression` object: gzip-encode responses for clients that accept it.
///
/// `"compression": true` is every default; a route without the key (or with
/// `false`, or `{"gzip": false}`) never compresses, and its configuration is `nil`.
public struct CompressionConfiguration: Sendable, Equatable {
    /// Responses with a known length below this many bytes go out as they are.
    public var minSize: Int
    /// zlib level, 1 (fastest) to 9 (smallest).
    public var level: Int
    /// Media types without parameters, lowercased: `type/subtype`, or `type/*` for all of a type.
    public var types: [String]

    public static let defaultMinSize = 1024
    public static let defaultLevel = 6
    public static let defaultTypes = [
        "application/json", "text/*", "application/javascript", "application/xml", "image/svg+xml",
    ]

    public init(
        minSize: Int = Self.defaultMinSize, level: Int = Self.defaultLevel, types: [String] = Self.defaultTypes
    ) {
        self.minSize = minSize
        self.level = level
        self.types = types
    }
}
