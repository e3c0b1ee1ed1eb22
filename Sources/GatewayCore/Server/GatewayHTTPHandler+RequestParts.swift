import GatewayConfig
import GatewayHandlers
import GatewayProxy
import GatewayTLS
import NIOCore
import NIOHTTP1

/// Routing a head, and what the handler does with the body and the end of a request in
/// each of its states.
extension GatewayHTTPHandler {
    /// Matches the path as sent, so parameters reach handlers still percent-encoded
    /// (as FastAPI sees them); a path with escapes that matches nothing is tried
    /// again decoded, so `/it%65ms/1` finds `/items/{id}` as nginx would.
    static func route(
        _ method: HTTPMethod, host: Substring?, target: RequestTarget, in table: RouteTable
    ) -> RouteTable.Match {
        let match = table.match(method: method, host: host, path: target.path)
        if case .found = match { return match }
        let decoded = target.decodedPath
        guard decoded != target.path else { return match }
        let retry = table.match(method: method, host: host, path: decoded)
        if case .found = retry { return retry }
        return match
    }

    func received(body chunk: ByteBuffer, context: ChannelHandlerContext) {
        if case .proxying(let request, let proxied) = self.state {
            self.proxied(body: chunk, request: request, proxied, context: context)
            return
        }
        if case .buffering(let request, let buffered) = self.state {
            self.buffered(body: chunk, request: request, buffered, context: context)
            return
        }
        if case .lingering(let remaining, let answered) = self.state {
            self.state = .lingering(remaining: remaining - chunk.readableBytes, answered: answered)
            if remaining <= chunk.readableBytes { self.closeAfterLingering(answered, context: context) }
            return
        }
        guard case .collecting(let request, var body) = self.state else { return }
        if (body?.readableBytes ?? 0) + chunk.readableBytes > request.maxBodyBytes {
            self.reject(request, with: .payloadTooLarge(limit: request.maxBodyBytes), context: context)
            return
        }
        self.state = .idle  // drop the enum's reference so `body` is uniquely owned while appending
        if body == nil {
            body = chunk
        } else {
            var chunk = chunk
            body!.writeBuffer(&chunk)
        }
        self.state = .collecting(request, body: body)
    }

    func receivedEnd(context: ChannelHandlerContext) {
        switch self.state {
        case .idle, .closed, .limiting:
            return
        case .lingering(_, let answered):
            self.closeAfterLingering(answered, context: context)
        case .discarding:
            self.state = .idle
            if self.draining {
                self.state = .closed
                context.close(promise: nil)
            }
        case .collecting(let request, let body):
            self.state = .idle
            self.dispatch(request, body: body, context: context)
        case .buffering(let request, let buffered):
            self.state = .idle
            self.bufferedRequestEnded(request, buffered, context: context)
        case .proxying(_, let proxied):
            self.queueing = true
            guard !proxied.requestEnded else { return }  // a bodiless request's end went with its head
            proxied.requestEnded = true
            proxied.exchange?.sendEnd()
        }
    }
}
