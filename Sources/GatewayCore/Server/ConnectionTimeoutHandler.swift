import NIOCore
import Prometheus

/// Sits below the HTTP decoder and enforces two per-connection clocks without
/// scheduling a timer per request:
/// - a request head must arrive within `requestHeadTimeout` of its first byte,
///   else the client gets a 408 and the connection closes (slowloris);
/// - a keep-alive connection with no request for `idleTimeout` is closed.
/// It also keeps `gateway_connections_active`.
///
/// `GatewayHTTPHandler` tells it when a request head was decoded and when its
/// response was written; both run on the channel's event loop.
final class ConnectionTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let idleTimeout: TimeAmount
    private let requestHeadTimeout: TimeAmount
    private let metrics: GatewayMetrics

    private var awaitingHead = true
    private var headStartedAt: NIODeadline?
    private var requestsInFlight = 0
    private var lastActivity = NIODeadline.now()
    private var check: Scheduled<Void>?
    private var closed = false

    init(idleTimeout: TimeAmount, requestHeadTimeout: TimeAmount, metrics: GatewayMetrics) {
        self.idleTimeout = idleTimeout
        self.requestHeadTimeout = requestHeadTimeout
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.awaitingHead && self.headStartedAt == nil {
            self.headStartedAt = .now()
        }
        context.fireChannelRead(data)
    }

    // MARK: Told by GatewayHTTPHandler

    func requestHeadReceived() {
        self.awaitingHead = false
        self.headStartedAt = nil
        self.requestsInFlight += 1
    }

    func responseCompleted() {
        self.requestsInFlight -= 1
        if self.requestsInFlight == 0 {
            self.awaitingHead = true
            self.lastActivity = .now()
        }
    }

    // MARK: Clock

    private func start(context: ChannelHandlerContext) {
        guard self.check == nil, !self.closed else { return }
        self.metrics.connectionsActive.increment()
        self.lastActivity = .now()
        self.schedule(context: context, at: self.lastActivity + min(self.idleTimeout, self.requestHeadTimeout))
    }

    private func stop() {
        guard !self.closed else { return }
        self.closed = true
        if self.check != nil { self.metrics.connectionsActive.decrement() }
        self.check?.cancel()
    }

    private func schedule(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.check = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.checkTimeouts(context: context)
        }
    }

    private func checkTimeouts(context: ChannelHandlerContext) {
        guard !self.closed else { return }
        let now = NIODeadline.now()
        if self.awaitingHead, let started = self.headStartedAt {
            if now - started >= self.requestHeadTimeout {
                self.answerRequestTimeout(context: context)
                return
            }
            self.schedule(context: context, at: started + self.requestHeadTimeout)
            return
        }
        if self.awaitingHead && self.requestsInFlight == 0 {
            if now - self.lastActivity >= self.idleTimeout {
                context.close(promise: nil)
                return
            }
            // A head may begin at any moment: look again within half a head timeout.
            let next = min(self.lastActivity + self.idleTimeout, now + .nanoseconds(self.requestHeadTimeout.nanoseconds / 2))
            self.schedule(context: context, at: next)
            return
        }
        // A request is being answered; its own deadlines belong to the route.
        self.schedule(context: context, at: now + min(self.idleTimeout, self.requestHeadTimeout))
    }

    /// Writes a complete 408 response below the HTTP encoder (no request is in
    /// flight, so nothing else is being written) and closes.
    private func answerRequestTimeout(context: ChannelHandlerContext) {
        var generator = RequestIDGenerator()
        let body = GatewayError.requestTimeout.body(requestID: generator.next(), allocator: context.channel.allocator)
        var dates = HTTPDateCache()
        var buffer = context.channel.allocator.buffer(capacity: 160 + body.readableBytes)
        buffer.writeString(
            "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\ncontent-length: \(body.readableBytes)\r\n"
                + "connection: close\r\ndate: \(dates.current())\r\n\r\n")
        buffer.writeImmutableBuffer(body)
        self.closed = true
        self.metrics.connectionsActive.decrement()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }
}
