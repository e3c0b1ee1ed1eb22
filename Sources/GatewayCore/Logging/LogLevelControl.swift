public import GatewayConfig
public import Logging
import Synchronization

/// The operational log's level, shared by the `JSONLogHandler`s made from one
/// bootstrap and changed by a reload (`log.level`), so loggers made before a
/// reload follow it. The access log (`gateway.access`) is not filtered by it:
/// `access_log.enabled` switches that one.
public final class LogLevelControl: Sendable {
    private let level: Atomic<UInt8>

    public init(_ level: Logger.Level = .info) {
        self.level = Atomic(UInt8(level.index))
    }

    public var current: Logger.Level {
        Logger.Level.allCases[Int(self.level.load(ordering: .relaxed))]
    }

    public func set(_ level: Logger.Level) {
        self.level.store(UInt8(level.index), ordering: .relaxed)
    }

    public func set(_ level: LogConfiguration.Level) {
        self.set(Logger.Level(rawValue: level.rawValue) ?? .info)
    }
}

extension Logger.Level {
    fileprivate var index: Int { Logger.Level.allCases.firstIndex(of: self)! }
}
