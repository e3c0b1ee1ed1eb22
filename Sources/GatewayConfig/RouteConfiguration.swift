/// One entry of `routes`: which requests it takes and which handler answers them.
public struct RouteConfiguration: Sendable, Equatable {
    /// Unique; letters, digits, `_`, `.` and `-` only, since it is a Prometheus label value.
    public var name: String
    public var match: RouteMatchConfiguration
    public var handler: BuiltInHandlerName

    public init(name: String, match: RouteMatchConfiguration, handler: BuiltInHandlerName) {
        self.name = name
        self.match = match
        self.handler = handler
    }
}

/// The `match` object of a route.
public struct RouteMatchConfiguration: Sendable, Equatable {
    public var path: PathPattern
    /// Uppercase method tokens without duplicates, in file order; `nil` matches every method.
    public var methods: [String]?
    /// Lowercased host name, optionally `*.`-prefixed; `nil` matches every host.
    public var host: String?

    public init(path: PathPattern, methods: [String]? = nil, host: String? = nil) {
        self.path = path
        self.methods = methods
        self.host = host
    }
}

/// The handlers built into the gateway that a route can name in `handler`.
public enum BuiltInHandlerName: String, Sendable, Equatable, Hashable, CaseIterable {
    /// The items API (`/items/…`).
    case items
}
