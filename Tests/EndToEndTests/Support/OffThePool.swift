import Foundation

/// Runs blocking `work` on a Dispatch thread. Waiting for a long curl, a load loop, or an admin
/// reload (which itself needs Swift concurrency) must not hold one of its few threads (two on a
/// two-core machine): the suites running alongside need them, and a reload would wait for itself.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
