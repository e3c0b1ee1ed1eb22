import GatewayTLS
import NIOCore
import Prometheus

/// Handshake metrics, counted by the HTTP handler from the TLS handler's events
/// rather than by a handler of their own: adding and removing one per connection
/// cost more than the two checks below.
extension GatewayHTTPHandler {
    /// Counts a completed handshake by version and times it. Returns whether `event` was one.
    func observeHandshake(_ event: Any) -> Bool {
        guard let event = event as? TLSUserEvent, case .handshakeCompleted(let info) = event else { return false }
        self.metrics.successfulTLSHandshakes(version: info.version).increment()
        self.metrics.tlsHandshakeDuration.record(info.duration)
        return true
    }

    /// Counts a failed or timed-out handshake.
    func observeHandshakeFailure(_ error: any Error) {
        guard let error = error as? TLSError else { return }
        switch error.kind {
        case .handshakeTimeout:
            self.metrics.tlsHandshakes(result: "timeout", version: "unknown").increment()
        case .handshakeFailed:
            self.metrics.tlsHandshakes(result: "failure", version: "unknown").increment()
        default:
            break
        }
    }
}
