import Foundation
import GatewayConfig
import Glibc
import Logging
public import ServiceLifecycle
import Synchronization

/// Reloads when the configuration file, or a certificate or key it names,
/// changes on disk (`reload.watch`).
///
/// It watches the *directories* of those files with inotify, not the files:
/// editors save by writing a new file and renaming it over the old one, and
/// Kubernetes updates a mounted secret by swapping the `..data` symlink in the
/// directory, and neither touches the old file's inode. After an event, once the
/// directories stayed quiet for `reload.debounce`, it hashes the files' bytes and
/// reloads only when they differ from what the last reload read, so a swap file,
/// a `touch` or an edit already applied by SIGHUP costs no reload. Watching is switched on and off by `reload.watch`
/// at each event, so a reload can change it.
public struct ConfigurationWatcher: Service {
    private let server: GatewayServer

    public init(server: GatewayServer) {
        self.server = server
    }

    /// Watches until cancelled or until a graceful shutdown; then returns.
    public func run() async throws {
        guard let file = self.server.reloader.file else { return }
        let inotify = try Inotify(logger: self.server.logger)
        defer { inotify.close() }
        inotify.watch(directories: WatchedFiles.directories(file: file, configuration: self.server.configuration))

        let events = inotify.events(debounce: { [server] in server.configuration.reload.debounce })
        await cancelWhenGracefulShutdown {
            for await _ in events {
                let configuration = self.server.configuration
                let hash = WatchedFiles.hash(WatchedFiles.paths(file: file, configuration: configuration))
                if configuration.reload.watch, hash != self.server.reloader.lastReadFilesHash {
                    _ = await self.server.reload(trigger: .watch)
                }
                // A reload may name certificates elsewhere, and a swapped directory is a new inode.
                inotify.watch(
                    directories: WatchedFiles.directories(file: file, configuration: self.server.configuration))
            }
        }
    }
}

/// An inotify instance read by its own thread (a blocking `poll`), which turns
/// bursts of events into one element per quiet period.
private final class Inotify: Sendable {
    private let fd: Int32
    private let logger: Logger
    private let watches = Mutex<[String: Int32]>([:])
    private let stopped = Atomic<Bool>(false)

    init(logger: Logger) throws {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        self.fd = fd
        self.logger = logger
    }

    /// Adds watches for new directories and drops those no longer needed.
    /// A directory that does not exist (yet) is skipped.
    func watch(directories: Set<String>) {
        let mask = UInt32(
            IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB
                | IN_DELETE_SELF | IN_MOVE_SELF)
        self.watches.withLock { watches in
            for directory in directories {
                // Adding again is cheap, and renews a watch whose directory was replaced.
                let descriptor = inotify_add_watch(self.fd, directory, mask)
                if descriptor >= 0 {
                    watches[directory] = descriptor
                } else if watches[directory] == nil {
                    self.logger.warning(
                        "cannot watch a configuration directory",
                        metadata: ["directory": .string(directory), "errno": .stringConvertible(errno)])
                }
            }
            for (directory, descriptor) in watches where !directories.contains(directory) {
                inotify_rm_watch(self.fd, descriptor)
                watches[directory] = nil
            }
        }
    }

    /// One element after each burst of events followed by `debounce()` of quiet
    /// (or after ten times that, if the directory never goes quiet). The stream
    /// ends, and the descriptor is closed, after `close()`.
    func events(debounce: @escaping @Sendable () -> Duration) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let thread = Thread { [self] in
            var burst: (first: ContinuousClock.Instant, last: ContinuousClock.Instant)?
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while !self.stopped.load(ordering: .relaxed) {
                var timeout = Duration.milliseconds(250)
                if let current = burst {
                    let quiet = debounce()
                    let due = min(current.last + quiet, current.first + quiet * 10)
                    let remaining = due - ContinuousClock.now
                    if remaining <= .zero {
                        burst = nil
                        continuation.yield()
                    } else {
                        timeout = min(timeout, remaining)
                    }
                }
                var descriptor = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
                let milliseconds = Int32(timeout / .milliseconds(1)) + 1
                guard poll(&descriptor, 1, milliseconds) > 0 else { continue }
                // Which file changed doesn't matter: the hash of the files decides.
                while buffer.withUnsafeMutableBytes({ read(self.fd, $0.baseAddress, $0.count) }) > 0 {}
                let now = ContinuousClock.now
                burst = (burst?.first ?? now, now)
            }
            _ = Glibc.close(self.fd)
            continuation.finish()
        }
        thread.name = "gateway-config-watcher"
        thread.start()
        return stream
    }

    /// Stops the reading thread within one poll timeout; it closes the descriptor.
    func close() {
        self.stopped.store(true, ordering: .relaxed)
    }
}
