import Synchronization

/// Runs control-plane operations (start, reload, shutdown) one at a time, in the
/// order they were asked for, so a SIGHUP during start or a watcher event during
/// an admin reload waits its turn instead of interleaving with it.
///
/// An actor alone would not do: it is re-entrant at every `await` (binding a
/// listener, waiting for the event loops), and those are exactly the steps that
/// must not interleave.
final class ControlPlaneQueue: Sendable {
    private let tail = Mutex<Task<Void, Never>?>(nil)

    func run<Result: Sendable>(_ operation: @escaping @Sendable () async -> Result) async -> Result {
        let task = self.tail.withLock { tail in
            let previous = tail
            let task = Task {
                await previous?.value
                return await operation()
            }
            tail = Task { _ = await task.value }
            return task
        }
        return await task.value
    }
}
