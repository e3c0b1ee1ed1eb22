public import Logging

/// One JSON line per answered request (time, request_id, client, method, path,
/// route, status, bytes, duration, and the identity of an authenticated
/// request), through swift-log under the label
/// `gateway.access`; on or off per configuration.
public struct AccessLog: Sendable {
    let logger: Logger

    /// The logger label of access-log lines.
    public static let label = "gateway.access"

    public init(logger: Logger = Logger(label: AccessLog.label)) {
        self.logger = logger
    }

    struct Entry {
        var requestID: String
        var client: String
        var method: String
        var path: String
        var route: String?
        var status: Int
        var bytes: Int
        var duration: Duration
        /// An API key's name or a token's `sub`; never the key or the token.
        var identity: String? = nil
    }

    func record(_ entry: Entry) {
        let (seconds, attoseconds) = entry.duration.components
        let durationSeconds = Double(seconds) + Double(attoseconds) / 1e18
        var metadata: Logger.Metadata = [
            "request_id": .string(entry.requestID),
            "client": .string(entry.client),
            "method": .string(entry.method),
            "path": .string(entry.path),
            "route": .string(entry.route ?? ""),
            "status": .stringConvertible(entry.status),
            "bytes": .stringConvertible(entry.bytes),
            "duration_seconds": .stringConvertible(durationSeconds),
        ]
        if let identity = entry.identity { metadata["identity"] = .string(identity) }
        self.logger.info("request", metadata: metadata)
    }
}
