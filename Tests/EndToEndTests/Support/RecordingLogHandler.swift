import Logging
import NIOConcurrencyHelpers

/// A swift-log handler that keeps every line's metadata, for tests that read
/// the access log (`AccessLog(logger: recorder.logger)`).
final class LogRecorder: Sendable {
    private let lines = NIOLockedValueBox<[Logger.Metadata]>([])

    var logger: Logger {
        Logger(label: "test-recorder") { _ in RecordingLogHandler(recorder: self) }
    }

    var entries: [Logger.Metadata] { self.lines.withLockedValue { $0 } }

    /// A field of each line as text (`nil` where it is absent).
    func field(_ name: String) -> [String?] {
        self.entries.map { $0[name].map { "\($0)" } }
    }

    fileprivate func append(_ metadata: Logger.Metadata) {
        self.lines.withLockedValue { $0.append(metadata) }
    }
}

private struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        self.recorder.append(self.metadata.merging(event.metadata ?? [:]) { $1 })
    }
}
