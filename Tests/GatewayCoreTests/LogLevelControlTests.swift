import Logging
import Testing

@testable import GatewayCore

@Suite("Log level control")
struct LogLevelControlTests {
    @Test func handlersFollowTheSharedLevelButTheAccessLogAlwaysPasses() {
        let levels = LogLevelControl()
        let operational = JSONLogHandler(label: "gateway", levels: levels)
        let access = JSONLogHandler(label: AccessLog.label, levels: levels)
        #expect(operational.logLevel == .info)
        levels.set(.warning)
        #expect(operational.logLevel == .warning)
        #expect(access.logLevel == .info)
        // A logger made before the change follows it too.
        let logger = Logger(label: "x", factory: { JSONLogHandler(label: $0, levels: levels) })
        levels.set(.debug)
        #expect(logger.logLevel == .debug)
    }
}
