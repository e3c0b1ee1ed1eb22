public import NIOHTTP1

/// A set of HTTP methods a route accepts, as a bitmask for the standard methods
/// plus a short list of extension methods, so that matching a method is a mask test.
public struct HTTPMethodSet: Sendable, Equatable {
    private var standard: UInt16
    private var extensions: [String]

    /// Every method, standard or not.
    public static let any = HTTPMethodSet(standard: .max, extensions: [])

    public init(_ names: some Sequence<String>) {
        self.standard = 0
        self.extensions = []
        for name in names {
            let method = HTTPMethod(rawValue: name)
            if let bit = Self.bit(for: method) {
                self.standard |= bit
            } else if !self.extensions.contains(name) {
                self.extensions.append(name)
            }
        }
    }

    private init(standard: UInt16, extensions: [String]) {
        self.standard = standard
        self.extensions = extensions
    }

    public var isAny: Bool { self.standard == .max }

    public func contains(_ method: HTTPMethod) -> Bool {
        if let bit = Self.bit(for: method) {
            return self.standard & bit != 0
        }
        return self.isAny || self.extensions.contains(method.rawValue)
    }

    public func isDisjoint(with other: HTTPMethodSet) -> Bool {
        if self.isAny || other.isAny { return false }
        return self.standard & other.standard == 0 && !self.extensions.contains(where: other.extensions.contains)
    }

    public mutating func formUnion(_ other: HTTPMethodSet) {
        self.standard |= other.standard
        for name in other.extensions where !self.extensions.contains(name) {
            self.extensions.append(name)
        }
    }

    /// The methods in the order an `Allow` header lists them.
    public var names: [String] {
        var names: [String] = []
        for (method, bit) in Self.standardMethods where self.standard & bit != 0 {
            names.append(method.rawValue)
        }
        return names + self.extensions
    }

    private static let standardMethods: [(HTTPMethod, UInt16)] = [
        (.GET, 1 << 0), (.HEAD, 1 << 1), (.POST, 1 << 2), (.PUT, 1 << 3), (.PATCH, 1 << 4),
        (.DELETE, 1 << 5), (.OPTIONS, 1 << 6), (.TRACE, 1 << 7), (.CONNECT, 1 << 8),
    ]

    @inline(__always)
    private static func bit(for method: HTTPMethod) -> UInt16? {
        switch method {
        case .GET: return 1 << 0
        case .HEAD: return 1 << 1
        case .POST: return 1 << 2
        case .PUT: return 1 << 3
        case .PATCH: return 1 << 4
        case .DELETE: return 1 << 5
        case .OPTIONS: return 1 << 6
        case .TRACE: return 1 << 7
        case .CONNECT: return 1 << 8
        default: return nil
        }
    }
}
