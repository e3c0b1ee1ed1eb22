import GatewayTLS
import NIOCore
import Prometheus

/// Counts each TLS handshake by result and version and times it, then removes
/// itself so that it costs nothing per request.
final class TLSHandshakeObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let metrics: GatewayMetrics

    init(metrics: GatewayMetrics) {
        self.metrics = metrics
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let info) = event {
            self.metrics.tlsHandshakes(result: "success", version: info.version).increment()
            self.metrics.tlsHandshakeDuration.record(info.duration)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? TLSError {
            switch error.kind {
            case .handshakeTimeout:
                self.metrics.tlsHandshakes(result: "timeout", version: "unknown").increment()
            case .handshakeFailed:
                self.metrics.tlsHandshakes(result: "failure", version: "unknown").increment()
            default:
                break
            }
        }
        context.fireErrorCaught(error)
    }
}
