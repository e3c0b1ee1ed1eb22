import NIOCore

/// When bytes arrived on a connection, read by `GatewayHTTPHandler`'s clock: it
/// tells a slow request head or a stalled body from an idle connection without a
/// timer per request. Lives on the connection's event loop.
final class ReadActivity {
    /// Whether any bytes arrived since the clock last looked.
    var sinceLastCheck = false
    /// While waiting for a request head: when its first byte arrived.
    var headStartedAt: NIODeadline?
    var awaitingHead = true

    @inline(__always)
    func bytesArrived() {
        self.sinceLastCheck = true
        if self.awaitingHead && self.headStartedAt == nil {
            self.headStartedAt = .now()
        }
    }
}
