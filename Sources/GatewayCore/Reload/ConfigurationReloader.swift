import Foundation
import GatewayConfig
import Logging
import Synchronization

/// The control plane of live reload: reads and validates the configuration file,
/// compiles it and loads its certificates off the event loops, then has the
/// server swap it in. An invalid file changes nothing; its problems are logged
/// with their JSON paths, returned, and counted.
///
/// Reloads run one at a time on the server's `ControlPlaneQueue`, after `start()`
/// and before `shutdown()`.
final class ConfigurationReloader: Sendable {
    /// The file reloads read; nil when the server was given a configuration only.
    let file: String?
    let metrics: ReloadMetrics
    private let logger: Logger
    /// A hash of the files as they were just before the last reload (or start)
    /// read them. The file watcher reloads only when the files differ from it, so
    /// an edit already applied by SIGHUP or an editor's swap file costs no reload.
    private let filesHashBeforeLastRead = Mutex<Int?>(nil)

    init(file: String?, metrics: ReloadMetrics, logger: Logger) {
        self.file = file
        self.metrics = metrics
        self.logger = logger
    }

    var lastReadFilesHash: Int? { self.filesHashBeforeLastRead.withLock { $0 } }

    /// Call before reading the files; hashes them as the watcher will.
    func willReadFiles(serving configuration: GatewayConfiguration) {
        guard let file = self.file else { return }
        let hash = WatchedFiles.hash(WatchedFiles.paths(file: file, configuration: configuration))
        self.filesHashBeforeLastRead.withLock { $0 = hash }
    }

    /// Must run on the server's control-plane queue.
    func reload(trigger: ReloadTrigger, server: GatewayServer) async -> ReloadResult {
        guard !server.running.shuttingDown else {
            return .failed(problems: [ReloadProblems.shuttingDown])
        }
        guard let file = self.file else {
            return .failed(problems: [ReloadProblems.noFile])
        }
        let started = ContinuousClock.now
        self.willReadFiles(serving: server.configuration)
        let result: ReloadResult
        do throws(ConfigurationError) {
            let configuration = try GatewayConfigurationLoader.load(contentsOf: file)
            let prepared = try server.prepare(configuration)
            let changes = try await server.apply(prepared)
            result = .ok(
                fingerprint: configuration.fingerprint, changes: changes.descriptions,
                restartRequired: changes.restartRequired)
        } catch {
            result = .failed(problems: error.problems)
        }
        self.metrics.record(result)
        self.log(result, trigger: trigger, file: file, duration: ContinuousClock.now - started)
        return result
    }

    private func log(_ result: ReloadResult, trigger: ReloadTrigger, file: String, duration: Duration) {
        var metadata: Logger.Metadata = [
            "trigger": .string(trigger.rawValue), "file": .string(file),
            "duration_seconds": .stringConvertible(
                Double(duration.components.seconds)
                    + Double(duration.components.attoseconds) / 1e18),
        ]
        switch result {
        case .ok(let fingerprint, let changes, let restartRequired):
            metadata["fingerprint"] = .string(fingerprint)
            metadata["changes"] = .array(changes.map { .string($0) })
            if restartRequired.isEmpty {
                self.logger.notice("configuration reloaded", metadata: metadata)
            } else {
                metadata["restart_required"] = .array(restartRequired.map { .string($0) })
                self.logger.warning("configuration reloaded; some changes need a restart", metadata: metadata)
            }
        case .failed(let problems):
            metadata["errors"] = .array(problems.map { .string($0.description) })
            self.logger.error(
                "configuration reload failed; the previous configuration keeps serving", metadata: metadata)
        }
    }
}

/// Problems of a reload that are not about the file's content.
enum ReloadProblems {
    static let shuttingDown = ConfigurationProblem(path: "(root)", message: "the gateway is shutting down")
    static let noFile = ConfigurationProblem(
        path: "(root)", message: "the gateway was started without a configuration file to reload")
}

extension GatewayServer {
    /// Reads the configuration file again and swaps it in, or changes nothing and
    /// says why. Waits for a reload or start in progress; fails once shutdown began.
    public func reload(trigger: ReloadTrigger) async -> ReloadResult {
        await self.controlQueue.run { await self.reloader.reload(trigger: trigger, server: self) }
    }
}
