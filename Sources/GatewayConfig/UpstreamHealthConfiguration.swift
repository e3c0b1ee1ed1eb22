/// `health_check` of an upstream: the gateway asks every target for `path`
/// every `interval` and takes a target out of rotation after
/// `unhealthy_threshold` failed checks in a row, back after `healthy_threshold`
/// good ones (nginx Plus `health_check`, Envoy's HTTP health checker).
public struct HealthCheckConfiguration: Sendable, Equatable, Hashable {
    /// Origin-form path (and query) of the `GET` sent to each target.
    public var path: String
    public var interval: Duration
    /// How long one check may take (connect included); never longer than `interval`.
    public var timeout: Duration
    public var healthyThreshold: Int
    public var unhealthyThreshold: Int
    /// Statuses that count as healthy.
    public var expectedStatus: StatusRanges

    public init(
        path: String = HealthCheckConfiguration.defaultPath,
        interval: Duration = HealthCheckConfiguration.defaultInterval,
        timeout: Duration = HealthCheckConfiguration.defaultTimeout,
        healthyThreshold: Int = HealthCheckConfiguration.defaultHealthyThreshold,
        unhealthyThreshold: Int = HealthCheckConfiguration.defaultUnhealthyThreshold,
        expectedStatus: StatusRanges = HealthCheckConfiguration.defaultExpectedStatus
    ) {
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.healthyThreshold = healthyThreshold
        self.unhealthyThreshold = unhealthyThreshold
        self.expectedStatus = expectedStatus
    }

    public static let defaultPath = "/"
    public static let defaultInterval = Duration.seconds(5)
    public static let defaultTimeout = Duration.seconds(1)
    public static let defaultHealthyThreshold = 2
    public static let defaultUnhealthyThreshold = 3
    public static let defaultExpectedStatus = StatusRanges([200...399])
}

/// A set of HTTP status codes written as `"200-399"` or `"200,204,300-308"`.
public struct StatusRanges: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Sorted, each within 100...599.
    public var ranges: [ClosedRange<Int>]

    public init(_ ranges: [ClosedRange<Int>]) {
        self.ranges = ranges.sorted { $0.lowerBound < $1.lowerBound }
    }

    public func contains(_ status: Int) -> Bool {
        self.ranges.contains { $0.contains(status) }
    }

    /// The text form, as the file writes it.
    public var description: String {
        self.ranges.map { $0.count == 1 ? String($0.lowerBound) : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }

    /// Parses the text form; nil when it is not a list of codes or ranges of codes in 100...599.
    public static func parse(_ text: String) -> StatusRanges? {
        var ranges: [ClosedRange<Int>] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.trimmingSpaces.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                let low = Self.code(bounds[0]), let high = bounds.count == 2 ? Self.code(bounds[1]) : low,
                low <= high
            else { return nil }
            ranges.append(low...high)
        }
        return ranges.isEmpty ? nil : StatusRanges(ranges)
    }

    private static func code(_ text: Substring) -> Int? {
        guard text.count == 3, text.allSatisfy(\.isASCII), let value = Int(text), (100...599).contains(value) else {
            return nil
        }
        return value
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var result = self
        while result.first == " " { result = result.dropFirst() }
        while result.last == " " { result = result.dropLast() }
        return result
    }
}

/// `outlier_detection` of an upstream: a target that fails
/// `consecutive_failures` requests in a row (connect failure, reset, invalid
/// response or a 5xx) on one event loop is ejected from every loop for
/// `ejection_time`, doubled on each repeat ejection up to `max_ejection_time`
/// (Envoy's outlier detection, nginx's `max_fails`/`fail_timeout`).
public struct OutlierDetectionConfiguration: Sendable, Equatable, Hashable {
    public var consecutiveFailures: Int
    public var ejectionTime: Duration
    /// The cap of the doubling; at least `ejectionTime`.
    public var maxEjectionTime: Duration

    public init(
        consecutiveFailures: Int = OutlierDetectionConfiguration.defaultConsecutiveFailures,
        ejectionTime: Duration = OutlierDetectionConfiguration.defaultEjectionTime,
        maxEjectionTime: Duration = OutlierDetectionConfiguration.defaultMaxEjectionTime
    ) {
        self.consecutiveFailures = consecutiveFailures
        self.ejectionTime = ejectionTime
        self.maxEjectionTime = maxEjectionTime
    }

    public static let defaultConsecutiveFailures = 5
    public static let defaultEjectionTime = Duration.seconds(30)
    public static let defaultMaxEjectionTime = Duration.seconds(300)
}

/// `retries` of an upstream: a failed attempt is tried again on another target
/// when nothing of it can have been used, within a budget that keeps retries a
/// small share of the traffic (Finagle's retry budget, Envoy's retry policy).
public struct RetryConfiguration: Sendable, Equatable, Hashable {
    /// Retries after the first attempt.
    public var attempts: Int
    public var on: RetryConditions
    /// Retries allowed as a share of the requests of the last 10 seconds.
    public var budgetPercent: Int
    /// Retries allowed on top of the share, so a quiet upstream can still retry.
    public var minRetriesPerSecond: Int

    public init(
        attempts: Int = RetryConfiguration.defaultAttempts,
        on: RetryConditions = RetryConfiguration.defaultConditions,
        budgetPercent: Int = RetryConfiguration.defaultBudgetPercent,
        minRetriesPerSecond: Int = RetryConfiguration.defaultMinRetriesPerSecond
    ) {
        self.attempts = attempts
        self.on = on
        self.budgetPercent = budgetPercent
        self.minRetriesPerSecond = minRetriesPerSecond
    }

    public static let defaultAttempts = 1
    public static let defaultConditions = RetryConditions(connectFailure: true, reset: true)
    public static let defaultBudgetPercent = 20
    public static let defaultMinRetriesPerSecond = 3
}

/// What makes an attempt worth retrying: the entries of `retries.on`.
public struct RetryConditions: Sendable, Equatable, Hashable {
    /// `connect-failure`: the connection could not be made (refused, unreachable, connect timeout).
    public var connectFailure: Bool
    /// `reset`: the connection closed or broke before a response head.
    public var reset: Bool
    /// Status codes (`"503"`): the response is dropped and the request retried.
    public var statuses: Set<Int>

    public init(connectFailure: Bool = false, reset: Bool = false, statuses: Set<Int> = []) {
        self.connectFailure = connectFailure
        self.reset = reset
        self.statuses = statuses
    }

    public static let connectFailureName = "connect-failure"
    public static let resetName = "reset"

    /// The entries as the file lists them: names first, then codes in order.
    public var names: [String] {
        var names: [String] = []
        if self.connectFailure { names.append(Self.connectFailureName) }
        if self.reset { names.append(Self.resetName) }
        return names + self.statuses.sorted().map(String.init)
    }
}
