import NIOCore
import NIOHTTP1

/// The admin listener's endpoints, plain HTTP on a loopback address by default:
/// `GET /metrics` (Prometheus text), `GET /healthz` (the process answers),
/// `GET /readyz` (listeners bound and not draining), `POST /-/reload` (reload
/// the configuration file; 200 with what changed, or 422 with every problem).
///
/// Runs on the channel's event loop. The reload itself runs on the control
/// plane; its answer is written back on the loop (NIO's pipeline handler holds
/// any pipelined request until then).
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    typealias Reload = @Sendable () async -> ReloadResult

    private let metrics: GatewayMetrics
    private let readiness: Readiness
    private let reload: Reload
    private var head: HTTPRequestHead?
    private var requestIDs = RequestIDGenerator()

    init(metrics: GatewayMetrics, readiness: Readiness, reload: @escaping Reload) {
        self.metrics = metrics
        self.readiness = readiness
        self.reload = reload
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.answer(head, context: context)
        }
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = RequestTarget(head.uri)?.path ?? ""
        if path == "/-/reload" {
            guard head.method == .POST else {
                self.write(.methodNotAllowed(allowed: ["POST"]), head: head, extra: [("allow", "POST")], context: context)
                return
            }
            self.answerReload(head, context: context)
            return
        }
        guard head.method == .GET || head.method == .HEAD else {
            self.write(.methodNotAllowed(allowed: ["GET", "HEAD"]), head: head, extra: [("allow", "GET, HEAD")], context: context)
            return
        }
        switch path {
        case "/metrics":
            var body = context.channel.allocator.buffer(capacity: 0)
            body.writeBytes(self.metrics.render())
            self.write(.ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: body, head: head, context: context)
        case "/healthz":
            self.write(.ok, json: #"{"status":"ok"}"#, head: head, context: context)
        case "/readyz":
            if self.readiness.isReady {
                self.write(.ok, json: #"{"status":"ready"}"#, head: head, context: context)
            } else {
                self.write(.serviceUnavailable, json: #"{"status":"not_ready"}"#, head: head, context: context)
            }
        default:
            self.write(
                GatewayError(
                    status: .notFound, code: "not_found",
                    message: "The admin listener serves /metrics, /healthz, /readyz and POST /-/reload."),
                head: head, context: context)
        }
    }

    private func answerReload(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let promise = context.eventLoop.makePromise(of: ReloadResult.self)
        promise.completeWithTask(self.reload)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { result in
            let (handler, context) = loopBound.value
            let status: HTTPResponseStatus
            switch result {
            case .ok: status = .ok
            case .failed(let problems) where problems == [ReloadProblems.shuttingDown]: status = .serviceUnavailable
            case .failed: status = .unprocessableEntity
            }
            handler.write(
                status, contentType: "application/json",
                body: result.jsonBody(allocator: context.channel.allocator), head: head, context: context)
        }
    }

    private func write(
        _ error: GatewayError, head: HTTPRequestHead, extra: [(String, String)] = [], context: ChannelHandlerContext
    ) {
        let body = error.body(requestID: self.requestIDs.next(), allocator: context.channel.allocator)
        self.write(error.status, contentType: "application/json", body: body, head: head, extra: extra, context: context)
    }

    private func write(
        _ status: HTTPResponseStatus, json: String, head: HTTPRequestHead, extra: [(String, String)] = [],
        context: ChannelHandlerContext
    ) {
        let body = context.channel.allocator.buffer(string: json)
        self.write(status, contentType: "application/json", body: body, head: head, extra: extra, context: context)
    }

    private func write(
        _ status: HTTPResponseStatus, contentType: String, body: ByteBuffer, head: HTTPRequestHead,
        extra: [(String, String)] = [], context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders([("content-type", contentType), ("content-length", String(body.readableBytes))])
        headers.add(contentsOf: extra)
        if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let keepAlive = head.isKeepAlive
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { loopBound.value.close(promise: nil) }
        }
    }
}
