/// One entry of the top-level `rate_limits` object: a named policy that routes
/// list in their own `rate_limits`. A policy's counters belong to it, so two
/// routes naming the same policy share them unless the key is `route`.
public struct RateLimitPolicyConfiguration: Sendable, Equatable, Hashable {
    /// The key in `rate_limits`; the `policy` metric label and the name in the RateLimit headers.
    public var name: String
    public var limit: RateLimitRate
    /// Requests that may arrive at the same instant; at least 1.
    public var burst: Int
    public var key: RateLimitKey
    public var store: RateLimitStoreKind

    public init(
        name: String, limit: RateLimitRate, burst: Int? = nil, key: RateLimitKey = .clientIP,
        store: RateLimitStoreKind = .memory
    ) {
        self.name = name
        self.limit = limit
        self.burst = burst ?? limit.count
        self.key = key
        self.store = store
    }
}

/// `"100/s"`, `"1000/min"`, `"50/h"`, `"5000/d"`: a count of requests per period.
public struct RateLimitRate: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var count: Int
    public var period: RateLimitPeriod

    public init(count: Int, period: RateLimitPeriod) {
        self.count = count
        self.period = period
    }

    /// The canonical spelling, e.g. `10/s`, `1000/min`.
    public var description: String { "\(count)/\(period.rawValue)" }

    /// Parses `count/unit`; the units are `s`, `min` (or `m`), `h` and `d`, and
    /// their long forms `second`, `minute`, `hour` and `day`.
    static func parse(_ text: String) throws(InvalidValue) -> RateLimitRate {
        let invalid = InvalidValue(
            "invalid limit \"\(text)\" (expected a count and a period such as \"100/s\", \"1000/min\", \"50/h\" or \"5000/d\")"
        )
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isASCIIDigit) else { throw invalid }
        guard let period = RateLimitPeriod(spelling: parts[1]) else { throw invalid }
        guard parts[0].count <= 12, let count = Int(parts[0]) else {
            throw InvalidValue("limit \"\(text)\" is out of range")
        }
        guard count >= 1 else { throw InvalidValue("limit \"\(text)\" must allow at least 1 request") }
        return RateLimitRate(count: count, period: period)
    }
}

public enum RateLimitPeriod: String, Sendable, Equatable, Hashable, CaseIterable {
    case second = "s"
    case minute = "min"
    case hour = "h"
    case day = "d"

    public var seconds: Int {
        switch self {
        case .second: 1
        case .minute: 60
        case .hour: 3600
        case .day: 86400
        }
    }

    init?(spelling: Substring) {
        switch spelling {
        case "s", "sec", "second": self = .second
        case "m", "min", "minute": self = .minute
        case "h", "hour": self = .hour
        case "d", "day": self = .day
        default: return nil
        }
    }
}

/// What a policy counts by.
public enum RateLimitKey: Sendable, Equatable, Hashable {
    /// The client's IP: the peer, or from `X-Forwarded-For` when the peer is a trusted proxy.
    case clientIP
    /// A request header's value (lowercased name). A request without it counts by client IP.
    case header(String)
    /// The route: every client of the route shares one budget.
    case route
    /// Who authenticated (the route's `auth`): an API key's name or a token's `sub`.
    case identity
}

public enum RateLimitStoreKind: String, Sendable, Equatable, Hashable, CaseIterable {
    /// In this process: exact, no network, not shared with other gateways.
    case memory
    /// In `rate_limit_store.redis`: shared by every gateway using it.
    case redis
}

/// The top-level `rate_limit_store` object.
public struct RateLimitStoreConfiguration: Sendable, Equatable, Hashable {
    /// Keys each policy with the memory store may hold; the oldest live ones are evicted beyond it.
    public var memoryMaxKeys: Int
    public var redis: RedisStoreConfiguration?

    public init(
        memoryMaxKeys: Int = RateLimitStoreConfiguration.defaultMemoryMaxKeys, redis: RedisStoreConfiguration? = nil
    ) {
        self.memoryMaxKeys = memoryMaxKeys
        self.redis = redis
    }

    public static let defaultMemoryMaxKeys = 1_000_000
}

/// `rate_limit_store.redis`: where `"store": "redis"` policies keep their state.
public struct RedisStoreConfiguration: Sendable, Equatable, Hashable {
    /// `redis://host[:port]`, as written (after environment substitution).
    public var url: String
    /// How long one decision may take, connecting included; slower is a store failure.
    public var timeout: Duration
    public var failureMode: RateLimitFailureMode

    public init(
        url: String, timeout: Duration = RedisStoreConfiguration.defaultTimeout,
        failureMode: RateLimitFailureMode = .open
    ) {
        self.url = url
        self.timeout = timeout
        self.failureMode = failureMode
    }

    public static let defaultTimeout = Duration.milliseconds(50)

    /// Checks `redis://host[:port][/]`: a host name, IPv4 or bracketed IPv6 literal, port 1–65535.
    static func validate(url text: String) throws(InvalidValue) {
        let expected = "expected redis://host[:port], e.g. \"redis://127.0.0.1:6379\""
        guard text.hasPrefix("redis://") else {
            throw InvalidValue("invalid Redis URL \"\(text)\" (\(expected))")
        }
        var rest = text.dropFirst("redis://".count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        if rest.contains("@") {
            throw InvalidValue("Redis URL \"\(text)\": user names and passwords are not supported yet")
        }
        if rest.contains("/") {
            throw InvalidValue("Redis URL \"\(text)\": a database number is not supported (\(expected))")
        }
        var host = rest
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("]") {
            let port = rest[rest.index(after: colon)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCIIDigit), (1...65535).contains(Int(port)!)
            else {
                throw InvalidValue("invalid port \"\(port)\" in Redis URL \"\(text)\" (expected 1-65535)")
            }
            host = rest[..<colon]
        }
        let valid: Bool
        if host.hasPrefix("[") && host.hasSuffix("]") {
            valid = HostSyntax.isIPv6Literal(host.dropFirst().dropLast())
        } else {
            valid = HostSyntax.isIPv4Literal(host) || HostSyntax.isHostName(host)
        }
        guard valid else { throw InvalidValue("invalid host \"\(host)\" in Redis URL \"\(text)\" (\(expected))") }
    }
}

/// What a request gets when the Redis store cannot decide.
public enum RateLimitFailureMode: String, Sendable, Equatable, Hashable, CaseIterable {
    /// Let the request through (availability over strictness; Kong's `fault_tolerant`).
    case open
    /// Answer 503.
    case closed
}
