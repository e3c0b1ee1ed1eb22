import GatewayConfig
import GatewayHandlers
import GatewayProxy
import GatewayTLS
import NIOCore
import NIOHTTP1
import Prometheus

/// The gateway's per-connection request handler: routes each request with the
/// current `GatewayState`, applies the limits, answers from the route's handler,
/// proxies to the route's upstream, or answers with a JSON error, and records
/// metrics and the access log.
///
/// Sits right above NIO's HTTP request decoder and writes serialized responses
/// (`HTTPResponseSerializer`, `ProxyResponseWriter`) as bytes. Built-in handlers
/// answer synchronously, so their pipelined requests are answered as they are
/// decoded; responses written during one read are flushed together at
/// `channelReadComplete`. While a proxied response is in flight, further
/// pipelined requests are queued (and reading stops) until it is done, so
/// answers stay in order.
///
/// Runs on the channel's event loop; every call stays there (no thread hops).
final class GatewayHTTPHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Waiting for a request head.
        case idle
        /// Collecting a routed request's body before calling its handler.
        case collecting(Request, body: ByteBuffer?)
        /// Answered already (an error); dropping the body until `.end`.
        case discarding
        /// A response said `Connection: close`; nothing more is read or answered.
        case closed
        /// A request sent to an upstream: its body streams up, its response down.
        case proxying(Request, ProxiedRequest)
        /// Waiting for a rate-limit store (Redis); further request parts queue in `pipelined`.
        case limiting(Request, path: Substring)
    }

    /// Why the handler is not asking the client for more bytes (a bit set).
    private struct ReadHolds: OptionSet {
        let rawValue: UInt8
        /// Pipelined requests wait in `pipelined` behind a proxied response.
        static let pipelined = ReadHolds(rawValue: 1)
        /// The upstream connection does not take more request body now.
        static let upstreamFull = ReadHolds(rawValue: 2)
    }

    /// What the handler knows of the request being served.
    private struct Request {
        var head: HTTPRequestHead
        var state: GatewayState
        var route: Int
        var parameters: [Substring]
        var query: Substring?
        var startedAt: NIODeadline
        var keepAlive: Bool
        /// `Retry-After` and the RateLimit fields of a limited route, added to every answer.
        var rateLimitHeaders: [(name: String, value: String)] = []
    }

    private let stateBox: GatewayStateBox
    private let metrics: GatewayMetrics
    private let accessLog: AccessLog
    private let activity: ReadActivity
    private var clock: ConnectionClock
    private var clockCheck: Scheduled<Void>?
    private var counted = false

    private var state = State.idle
    /// Set by a quiesce (graceful shutdown): the next response closes the connection.
    private var draining = false
    private var serializer = HTTPResponseSerializer()
    /// This connection's zlib state, made when a compressing route first needs it.
    private var gzip = GzipEncoder()
    private var metricsCache = RequestMetricsCache()
    private var requestIDs: RequestIDGenerator?
    private var clientAddress: String?
    private var inRead = false
    private var needsFlush = false

    // Proxying. None of this is touched on the built-in path.
    /// Request parts that arrived behind a proxied request, answered after it.
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    /// Set while a proxied request's response is still coming: new parts queue.
    private var queueing = false
    private var drainingQueue = false
    private var readHolds: ReadHolds = []
    private var readPending = false
    /// This loop's pools, by `ProxyRoute.upstreamIndex`, for the state they came from.
    private var poolsState: GatewayState?
    private var pools: [UpstreamPool?] = []
    private var scheme: String?
    /// For the upstream's callbacks, which come from the upstream channel.
    private var context: ChannelHandlerContext?
    /// Whether the peer is one of the trusted proxies of these stores (per connection, per state).
    private var peerTrust: (stores: RateLimitStores, trusted: Bool)?

    init(
        stateBox: GatewayStateBox, metrics: GatewayMetrics, accessLog: AccessLog, activity: ReadActivity,
        clock: ConnectionClock
    ) {
        self.stateBox = stateBox
        self.metrics = metrics
        self.accessLog = accessLog
        self.activity = activity
        self.clock = clock
    }

    // MARK: Connection lifetime

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { self.connectionOpened(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.connectionOpened(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.connectionClosed()
        if case .proxying(_, let proxied) = self.state {
            proxied.exchange?.abort()
            self.state = .closed
        } else if case .limiting = self.state {
            self.state = .closed  // the store's answer, when it comes, finds nobody to serve
        }
        self.pipelined.removeAll()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.connectionClosed()
    }

    private func connectionOpened(context: ChannelHandlerContext) {
        guard !self.counted else { return }
        self.counted = true
        self.metrics.connectionsActive.increment()
        self.clock.lastActivity = .now()
        self.scheduleClockCheck(at: self.clock.lastActivity + self.clock.checkInterval, context: context)
    }

    private func connectionClosed() {
        guard self.counted else { return }
        self.counted = false
        self.metrics.connectionsActive.decrement()
        self.clockCheck?.cancel()
        self.clockCheck = nil
    }

    private func scheduleClockCheck(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.clockCheck = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.checkClock(context: context)
        }
    }

    private func checkClock(context: ChannelHandlerContext) {
        guard self.counted else { return }
        let phase: ConnectionClock.Phase
        switch self.state {
        case .idle: phase = .awaitingHead
        case .collecting: phase = .receivingBody
        case .discarding: phase = .discardingBody
        case .closed, .limiting: phase = .other
        case .proxying(_, let proxied):
            phase = !proxied.requestEnded && self.readHolds.isEmpty ? .receivingBody : .other
        }
        switch self.clock.check(phase: phase, activity: self.activity, now: .now()) {
        case .ok(let next):
            self.scheduleClockCheck(at: next, context: context)
        case .close:
            self.state = .closed
            context.close(promise: nil)
        case .requestTimeout:
            let request: Request
            var error = GatewayError.requestTimeout
            if case .proxying(let proxying, let proxied) = self.state {
                proxied.exchange?.abort()
                guard !proxied.responseStarted else {
                    self.state = .closed
                    context.close(promise: nil)
                    return
                }
                request = proxying
                error = .bodyTimeout
            } else if case .collecting(let collecting, _) = self.state {
                request = collecting
                error = .bodyTimeout
            } else {
                request = Request(
                    head: HTTPRequestHead(version: .http1_1, method: .GET, uri: ""), state: self.stateBox.state,
                    route: -1, parameters: [], query: nil, startedAt: self.activity.headStartedAt ?? .now(),
                    keepAlive: false)
                self.requestHeadReceived()
            }
            self.respond(with: error, to: request, context: context)
        }
    }

    private func requestHeadReceived() {
        self.activity.awaitingHead = false
        self.activity.headStartedAt = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.inRead = true
        let part = self.unwrapInboundIn(data)
        if self.queueing || !self.pipelined.isEmpty {
            self.pipelined.append(part)
            self.readHolds.insert(.pipelined)
            return
        }
        self.handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            self.received(head: head, context: context)
        case .body(let chunk):
            self.received(body: chunk, context: context)
        case .end:
            self.receivedEnd(context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.inRead = false
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .proxying(_, let proxied) = self.state {
            proxied.exchange?.clientWritabilityChanged(context.channel.isWritable)
        }
        context.fireChannelWritabilityChanged()
    }

    /// Reading from the client pauses while `readHolds` is not empty.
    func read(context: ChannelHandlerContext) {
        if self.readHolds.isEmpty {
            context.read()
        } else {
            self.readPending = true
        }
    }

    private func releaseReadHold(_ hold: ReadHolds, context: ChannelHandlerContext) {
        guard self.readHolds.contains(hold) else { return }
        self.readHolds.remove(hold)
        if self.readHolds.isEmpty && self.readPending {
            self.readPending = false
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // Graceful shutdown: an idle connection closes now; a busy one after its response.
        self.draining = true
        if case .idle = self.state {
            self.state = .closed
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !self.isClosed else { return }
        // The byte stream can't be trusted any more: answer once and close.
        let gatewayError: GatewayError = parserError == .headerOverflow ? .headersTooLarge : .badRequest
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "")
        let request = Request(
            head: head, state: self.stateBox.state, route: -1, parameters: [], query: nil, startedAt: .now(),
            keepAlive: false)
        if case .idle = self.state { self.requestHeadReceived() }
        self.respond(with: gatewayError, to: request, context: context)
    }

    private var isClosed: Bool {
        if case .closed = self.state { return true }
        return false
    }

    private func received(head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard !self.isClosed else { return }
        self.requestHeadReceived()
        let state = self.stateBox.state
        var request = Request(
            head: head, state: state, route: -1, parameters: [], query: nil, startedAt: .now(),
            keepAlive: head.isKeepAlive && !self.draining)

        if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > state.maxBodyBytes {
            self.reject(request, with: .payloadTooLarge(limit: state.maxBodyBytes), context: context)
            return
        }
        guard let target = RequestTarget(head.uri) else {
            self.reject(request, with: .badRequestTarget, context: context)
            return
        }
        request.query = target.query
        let host = head.headers.first(name: "host").map { Substring($0) }
        switch Self.route(head.method, host: host, target: target, in: state.routeTable) {
        case .found(let route, let parameters):
            request.route = route
            request.parameters = parameters
            if let limits = state.routes[route].rateLimits {
                self.applyRateLimits(limits, to: request, path: target.path, context: context)
                return
            }
            self.routed(request, path: target.path, context: context)
        case .methodNotAllowed(let allowed):
            self.reject(request, with: .methodNotAllowed(allowed: allowed.names), allow: allowed.names, context: context)
        case .notFound:
            self.reject(request, with: .notFound, context: context)
        }
    }

    /// Serves a routed request that passed its policies: answers `Expect`, then
    /// proxies it or starts collecting its body.
    private func routed(_ request: Request, path: Substring, context: ChannelHandlerContext) {
        if request.head.headers.contains(name: "expect") {
            self.answerExpectation(head: request.head, context: context)
        }
        self.clock.lastBodyBytes = request.startedAt
        if let proxy = request.state.routes[request.route].proxy {
            self.startProxying(request, proxy: proxy, path: path, context: context)
            return
        }
        self.state = .collecting(request, body: nil)
    }

    // MARK: Rate limits

    /// The rate-limit step, after routing and before `Expect` is answered (a
    /// refused client is not asked for its body). Memory-store policies decide
    /// here; a Redis policy pauses the request as a proxied response does:
    /// later parts queue in `pipelined` and reading stops until the decision.
    private func applyRateLimits(
        _ limits: RouteRateLimits, to request: Request, path: Substring, context: ChannelHandlerContext
    ) {
        let clientIP = limits.needsClientIP ? self.rateLimitClientIP(request, context: context) : ""
        let now = Int64(request.startedAt.uptimeNanoseconds)
        switch limits.evaluate(headers: request.head.headers, clientIP: clientIP, now: now, eventLoop: context.eventLoop)
        {
        case .decided(let outcome):
            self.rateLimitDecided(outcome, limits: limits, request: request, path: path, context: context)
        case .pending(let future):
            self.state = .limiting(request, path: path)
            self.queueing = true
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            future.whenSuccess { outcome in
                let handler = loopBound.value
                guard case .limiting(let request, let path) = handler.state, let context = handler.context else {
                    return
                }
                handler.queueing = false
                handler.rateLimitDecided(outcome, limits: limits, request: request, path: path, context: context)
                handler.drainPipelined(context: context)
            }
        }
    }

    private func rateLimitDecided(
        _ outcome: RouteRateLimits.Outcome, limits: RouteRateLimits, request: Request, path: Substring,
        context: ChannelHandlerContext
    ) {
        var request = request
        request.rateLimitHeaders = limits.responseHeaders(for: outcome)
        switch outcome.verdict {
        case .allowed:
            self.routed(request, path: path, context: context)
        case .limited:
            self.reject(request, with: .rateLimited, context: context)
        case .unavailable:
            self.reject(request, with: .rateLimitUnavailable, context: context)
        }
    }

    /// The peer, or with a trusted peer the client named in `X-Forwarded-For`.
    private func rateLimitClientIP(_ request: Request, context: ChannelHandlerContext) -> String {
        if self.clientAddress == nil {
            self.clientAddress = context.channel.remoteAddress?.ipAddress ?? "-"
        }
        let peer = self.clientAddress!
        let stores = request.state.rateLimits
        if self.peerTrust?.stores !== stores {
            self.peerTrust = (stores, ClientAddress.isTrusted(peer, in: stores.trustedProxies))
        }
        guard self.peerTrust!.trusted else { return peer }
        return ClientAddress.forwardedClient(headers: request.head.headers, peer: peer, trusted: stores.trustedProxies)
    }

    /// Matches the path as sent, so parameters reach handlers still percent-encoded
    /// (as FastAPI sees them); a path with escapes that matches nothing is tried
    /// again decoded, so `/it%65ms/1` finds `/items/{id}` as nginx would.
    private static func route(
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

    private func received(body chunk: ByteBuffer, context: ChannelHandlerContext) {
        if case .proxying(let request, let proxied) = self.state {
            self.proxied(body: chunk, request: request, proxied, context: context)
            return
        }
        guard case .collecting(let request, var body) = self.state else { return }
        if (body?.readableBytes ?? 0) + chunk.readableBytes > request.state.maxBodyBytes {
            self.reject(request, with: .payloadTooLarge(limit: request.state.maxBodyBytes), context: context)
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

    private func receivedEnd(context: ChannelHandlerContext) {
        switch self.state {
        case .idle, .closed, .limiting:
            return
        case .discarding:
            self.state = .idle
            if self.draining {
                self.state = .closed
                context.close(promise: nil)
            }
        case .collecting(let request, let body):
            self.state = .idle
            self.dispatch(request, body: body, context: context)
        case .proxying(_, let proxied):
            proxied.requestEnded = true
            self.queueing = true
            proxied.exchange?.sendEnd()
        }
    }

    // MARK: Answering

    private func dispatch(_ request: Request, body: ByteBuffer?, context: ChannelHandlerContext) {
        guard let handler = request.state.routes[request.route].handler else { return }
        let builtIn = BuiltInRequest(
            method: request.head.method.rawValue,
            pathParameters: request.parameters,
            query: request.query,
            contentType: request.head.headers.first(name: "content-type").map { Substring($0) },
            body: body
        )
        let response = handler.respond(to: builtIn, allocator: context.channel.allocator)
        var extraHeaders = response.extraHeaders
        if !request.rateLimitHeaders.isEmpty { extraHeaders += request.rateLimitHeaders }
        self.write(
            status: HTTPResponseStatus(statusCode: response.status), contentType: response.contentType,
            body: response.body, extraHeaders: extraHeaders, request: request, requestID: nil,
            context: context)
    }

    /// Answers with an error now; the rest of the request body, if any, is dropped.
    private func reject(
        _ request: Request, with error: GatewayError, allow: [String] = [], context: ChannelHandlerContext
    ) {
        self.state = .discarding
        self.respond(with: error, allow: allow, to: request, context: context)
    }

    private func respond(
        with error: GatewayError, allow: [String] = [], to request: Request, requestID: String? = nil,
        context: ChannelHandlerContext
    ) {
        var request = request
        if error.closesConnection { request.keepAlive = false }
        let requestID = requestID ?? self.requestID(for: request.head)
        let body = error.body(requestID: requestID, allocator: context.channel.allocator)
        var extra: [(name: String, value: String)] = allow.isEmpty ? [] : [("allow", allow.joined(separator: ", "))]
        if !request.rateLimitHeaders.isEmpty { extra += request.rateLimitHeaders }
        self.write(
            status: error.status, contentType: "application/json", body: body, extraHeaders: extra,
            request: request, requestID: requestID, context: context)
    }

    private func write(
        status: HTTPResponseStatus,
        contentType: StaticString,
        body: ByteBuffer,
        extraHeaders: [(name: String, value: String)],
        request: Request,
        requestID: String?,
        context: ChannelHandlerContext
    ) {
        // Errors always carry a request id; other answers echo the client's, or carry
        // the one the access log records, so a client can quote it.
        var requestID = requestID
        if requestID == nil, request.state.accessLogEnabled || request.head.headers.contains(name: "x-request-id") {
            requestID = self.requestID(for: request.head)
        }
        var body = body
        var extraHeaders = extraHeaders
        if request.route >= 0, let compression = request.state.routes[request.route].compression {
            self.compress(&body, extraHeaders: &extraHeaders, compression, status: status, contentType: contentType,
                request: request, context: context)
        }
        let keepAlive = request.keepAlive && !self.draining
        let connection = ProxyResponseWriter.connection(keepAlive: keepAlive, clientVersion: request.head.version)
        let response = self.serializer.serialize(
            status: status, contentType: contentType, body: body, includeBody: request.head.method != .HEAD,
            extraHeaders: extraHeaders, requestID: requestID, connection: connection,
            allocator: context.channel.allocator)

        if keepAlive {
            context.write(self.wrapOutboundOut(response), promise: nil)
            if self.inRead {
                self.needsFlush = true
            } else {
                context.flush()
            }
        } else {
            self.state = .closed
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(self.wrapOutboundOut(response)).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
        }
        let sent = request.head.method == .HEAD ? 0 : body.readableBytes
        self.finished(request, status: status, bytes: sent, requestID: requestID, context: context)
    }

    /// Response compression for an answer the gateway makes: the whole body is
    /// known, so it is compressed in one go and sent with its compressed length.
    private func compress(
        _ body: inout ByteBuffer, extraHeaders: inout [(name: String, value: String)], _ compression: RouteCompression,
        status: HTTPResponseStatus, contentType: StaticString, request: Request, context: ChannelHandlerContext
    ) {
        let decision = compression.decide(
            request: request.head, status: status, contentType: contentType.description,
            contentLength: body.readableBytes)
        guard decision != .none else { return }
        if decision == .gzip,
            let compressed = try? self.gzip.compress(
                whole: body, level: compression.level, allocator: context.channel.allocator)
        {
            body = compressed
            extraHeaders.append(("content-encoding", "gzip"))
        }
        extraHeaders.append(("vary", "Accept-Encoding"))
    }

    private func answerExpectation(head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) else { return }
        context.writeAndFlush(
            self.wrapOutboundOut(HTTPResponseSerializer.continueResponse(allocator: context.channel.allocator)),
            promise: nil)
    }

    // MARK: Metrics and access log

    private func finished(
        _ request: Request, status: HTTPResponseStatus, bytes: Int, requestID: String?, context: ChannelHandlerContext
    ) {
        let now = NIODeadline.now()
        self.activity.awaitingHead = true
        self.clock.lastActivity = now
        self.clock.lastBodyBytes = now
        let duration = now - request.startedAt
        let method = Self.metricsLabel(for: request.head.method)
        self.metricsCache.record(
            metrics: self.metrics, routeNames: request.state.routeNames, route: request.route, method: method,
            code: Int(status.code), duration: .nanoseconds(duration.nanoseconds))
        guard request.state.accessLogEnabled else { return }
        if self.clientAddress == nil {
            self.clientAddress = context.channel.remoteAddress?.ipAddress ?? "-"
        }
        self.accessLog.record(
            AccessLog.Entry(
                requestID: requestID ?? "-",
                client: self.clientAddress!,
                method: request.head.method.rawValue,
                path: request.head.uri,
                route: request.route >= 0 ? request.state.routeNames[request.route] : nil,
                status: Int(status.code),
                bytes: bytes,
                duration: .nanoseconds(duration.nanoseconds)
            ))
    }

    /// The client's `X-Request-Id` when it is safe to keep, else a new UUID.
    private func requestID(for head: HTTPRequestHead) -> String {
        if let sent = head.headers.first(name: "x-request-id"), RequestIDGenerator.isAcceptable(sent) {
            return sent
        }
        if self.requestIDs == nil { self.requestIDs = RequestIDGenerator() }
        return self.requestIDs!.next()
    }

    /// Standard methods by name; anything else as `OTHER`, so a client can't grow the label set.
    private static func metricsLabel(for method: HTTPMethod) -> String {
        switch method {
        case .GET, .HEAD, .POST, .PUT, .PATCH, .DELETE, .OPTIONS, .TRACE, .CONNECT: return method.rawValue
        default: return "OTHER"
        }
    }
}

// MARK: Proxying

/// The client side of one proxied request: what the handler has sent of the
/// response, and how it frames the rest.
final class ProxiedRequest {
    /// Nil once the exchange is over.
    var exchange: UpstreamExchange?
    let requestID: String
    let responseRules: HeaderRules
    var requestEnded = false
    var bodyBytesReceived = 0
    var responseStarted = false
    var status = HTTPResponseStatus.ok
    var framing = ProxyResponseWriter.Framing.none
    var keepAlive = true
    var bytesSent = 0
    /// A chunk was sent, so the next size line starts with its CRLF.
    var afterChunk = false
    /// The body is gzip-encoded on its way to the client (the handler's `GzipEncoder`).
    var gzip = false
    /// When the connection closes after the response: the last write, to close after it.
    var lastWrite: EventLoopFuture<Void>?

    init(requestID: String, responseRules: HeaderRules) {
        self.requestID = requestID
        self.responseRules = responseRules
    }
}

extension GatewayHTTPHandler: UpstreamExchangeDelegate {
    private func startProxying(_ request: Request, proxy: ProxyRoute, path: Substring, context: ChannelHandlerContext) {
        let requestID = self.requestID(for: request.head)
        if self.clientAddress == nil {
            self.clientAddress = context.channel.remoteAddress?.ipAddress ?? "-"
        }
        if self.scheme == nil {
            let tls = (try? context.pipeline.syncOperations.context(handlerType: TLSHandler.self)) != nil
            self.scheme = tls ? "https" : "http"
        }
        let head = proxy.upstreamHead(
            client: request.head, target: proxy.upstreamTarget(path: path, query: request.query),
            clientIP: self.clientAddress == "-" ? nil : self.clientAddress, scheme: self.scheme!, requestID: requestID)
        var responseRules = proxy.responseRules
        for field in request.rateLimitHeaders {
            responseRules.add.append(HeaderField(name: field.name, value: field.value))
        }
        let proxied = ProxiedRequest(requestID: requestID, responseRules: responseRules)
        let exchange = UpstreamExchange(
            pool: self.pool(for: proxy, state: request.state, context: context), head: head,
            requestTimeout: proxy.requestTimeout, delegate: self)
        proxied.exchange = exchange
        self.state = .proxying(request, proxied)
        exchange.start()
    }

    /// This loop's pool for the route's upstream, kept per connection so the
    /// group's lock is taken once per connection, not per request.
    private func pool(for proxy: ProxyRoute, state: GatewayState, context: ChannelHandlerContext) -> UpstreamPool {
        if self.poolsState !== state {
            self.poolsState = state
            self.pools = Array(repeating: nil, count: state.upstreams.count)
        }
        if let pool = self.pools[proxy.upstreamIndex] { return pool }
        let pool = proxy.group.pool(on: context.eventLoop, metrics: self.metrics)
        self.pools[proxy.upstreamIndex] = pool
        return pool
    }

    private func proxied(
        body chunk: ByteBuffer, request: Request, _ proxied: ProxiedRequest, context: ChannelHandlerContext
    ) {
        proxied.bodyBytesReceived += chunk.readableBytes
        if proxied.bodyBytesReceived > request.state.maxBodyBytes {
            proxied.exchange?.abort()
            proxied.exchange = nil
            self.releaseReadHold(.upstreamFull, context: context)
            if proxied.responseStarted {
                self.state = .closed
                context.close(promise: nil)
            } else {
                self.respond(
                    with: .payloadTooLarge(limit: request.state.maxBodyBytes), to: request,
                    requestID: proxied.requestID, context: context)
            }
            return
        }
        guard let exchange = proxied.exchange else { return }  // answered early: drop the rest
        exchange.sendBody(chunk)
        if !exchange.upstreamIsWritable { self.readHolds.insert(.upstreamFull) }
    }

    private func writeToClient(_ buffer: ByteBuffer, _ proxied: ProxiedRequest, context: ChannelHandlerContext) {
        if proxied.keepAlive {
            context.write(self.wrapOutboundOut(buffer), promise: nil)
        } else {
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.write(self.wrapOutboundOut(buffer), promise: promise)
            proxied.lastWrite = promise.futureResult
        }
    }

    /// Flushes, then closes once the last write is out (NIO drops unwritten data on close).
    private func closeAfterResponse(_ proxied: ProxiedRequest, context: ChannelHandlerContext) {
        self.state = .closed
        self.queueing = false
        self.pipelined.removeAll()
        context.flush()
        if let last = proxied.lastWrite {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            last.whenComplete { _ in loopBound.value.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }

    func upstreamResponseHead(_ head: HTTPResponseHead) {
        guard case .proxying(let request, let proxied) = self.state, let context = self.context else { return }
        proxied.responseStarted = true
        proxied.status = head.status
        var head = head
        if let compression = request.state.routes[request.route].compression {
            self.negotiateCompression(&head, compression, request: request, proxied)
        }
        proxied.framing = ProxyResponseWriter.framing(
            for: head, method: request.head.method, clientVersion: request.head.version)
        let keepAlive = request.keepAlive && !self.draining && proxied.framing != .untilClose
        proxied.keepAlive = keepAlive
        let connection = ProxyResponseWriter.connection(keepAlive: keepAlive, clientVersion: request.head.version)
        let buffer = ProxyResponseWriter.serializeHead(
            head, framing: proxied.framing, connection: connection, requestID: proxied.requestID,
            rules: proxied.responseRules, allocator: context.channel.allocator)
        self.writeToClient(buffer, proxied, context: context)
    }

    func upstreamResponseBody(_ chunk: ByteBuffer) {
        guard case .proxying(let request, let proxied) = self.state, let context = self.context else { return }
        var chunk = chunk
        if proxied.gzip, proxied.framing != .none {
            guard chunk.readableBytes > 0 else { return }
            do {
                chunk = try self.gzip.compress(chunk, allocator: context.channel.allocator)
            } catch {
                self.compressionFailed(request, proxied, context: context)
                return
            }
        }
        switch proxied.framing {
        case .none:
            return
        case .chunked:
            guard chunk.readableBytes > 0 else { return }
            self.writeToClient(
                ProxyResponseWriter.chunkHeader(
                    size: chunk.readableBytes, afterChunk: proxied.afterChunk, allocator: context.channel.allocator),
                proxied, context: context)
            proxied.afterChunk = true
        case .contentLength, .untilClose:
            break
        }
        proxied.bytesSent += chunk.readableBytes
        self.writeToClient(chunk, proxied, context: context)
    }

    func upstreamReadComplete() {
        guard case .proxying(_, let proxied) = self.state, let context = self.context else { return }
        context.flush()
        if !context.channel.isWritable { proxied.exchange?.clientWritabilityChanged(false) }
    }

    func upstreamResponseEnd() {
        guard case .proxying(let request, let proxied) = self.state, let context = self.context else { return }
        if proxied.gzip, proxied.framing != .none {
            do {
                let trailer = try self.gzip.finish(allocator: context.channel.allocator)
                if proxied.framing == .chunked {
                    self.writeToClient(
                        ProxyResponseWriter.chunkHeader(
                            size: trailer.readableBytes, afterChunk: proxied.afterChunk,
                            allocator: context.channel.allocator),
                        proxied, context: context)
                    proxied.afterChunk = true
                }
                proxied.bytesSent += trailer.readableBytes
                self.writeToClient(trailer, proxied, context: context)
            } catch {
                self.compressionFailed(request, proxied, context: context)
                return
            }
        }
        if proxied.framing == .chunked {
            self.writeToClient(
                ProxyResponseWriter.lastChunk(afterChunk: proxied.afterChunk, allocator: context.channel.allocator),
                proxied, context: context)
        }
        proxied.exchange = nil
        self.finished(
            request, status: proxied.status, bytes: proxied.bytesSent, requestID: proxied.requestID, context: context)
        self.releaseReadHold(.upstreamFull, context: context)
        guard proxied.keepAlive && !self.draining else {
            self.closeAfterResponse(proxied, context: context)
            return
        }
        context.flush()
        self.queueing = false
        self.state = proxied.requestEnded ? .idle : .discarding
        self.drainPipelined(context: context)
    }

    /// Decides on gzip for a proxied response and rewrites its head to match:
    /// compressed bodies lose their `Content-Length` (the framing becomes chunked,
    /// or close-delimited for HTTP/1.0) and are compressed as they stream.
    private func negotiateCompression(
        _ head: inout HTTPResponseHead, _ compression: RouteCompression, request: Request, _ proxied: ProxiedRequest
    ) {
        let length = head.headers.contains(name: "transfer-encoding")
            ? nil : head.headers.first(name: "content-length").flatMap { Int($0) }
        let decision = compression.decide(
            request: request.head, status: head.status, contentType: head.headers.first(name: "content-type"),
            contentLength: length, responseHeaders: head.headers)
        switch decision {
        case .none:
            return
        case .vary:
            RouteCompression.addVary(&head.headers)
        case .gzip:
            do {
                try self.gzip.start(level: compression.level)
            } catch {
                RouteCompression.addVary(&head.headers)
                return
            }
            RouteCompression.markCompressed(&head.headers)
            proxied.gzip = true
        }
    }

    /// zlib failed mid-body (out of memory): the client learns of it by the close.
    private func compressionFailed(_ request: Request, _ proxied: ProxiedRequest, context: ChannelHandlerContext) {
        proxied.exchange?.abort()
        proxied.exchange = nil
        self.releaseReadHold(.upstreamFull, context: context)
        self.finished(
            request, status: proxied.status, bytes: proxied.bytesSent, requestID: proxied.requestID, context: context)
        proxied.keepAlive = false
        self.closeAfterResponse(proxied, context: context)
    }

    func upstreamFailed(_ failure: UpstreamFailure, responseStarted: Bool) {
        guard case .proxying(let request, let proxied) = self.state, let context = self.context else { return }
        proxied.exchange = nil
        self.releaseReadHold(.upstreamFull, context: context)
        if responseStarted {
            // Part of the response is out: the client can only learn of the failure by the close.
            self.finished(
                request, status: proxied.status, bytes: proxied.bytesSent, requestID: proxied.requestID,
                context: context)
            proxied.keepAlive = false
            self.closeAfterResponse(proxied, context: context)
            return
        }
        self.queueing = false
        self.state = proxied.requestEnded ? .idle : .discarding
        self.respond(with: .forUpstream(failure), to: request, requestID: proxied.requestID, context: context)
        self.drainPipelined(context: context)
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        guard let context = self.context else { return }
        if writable {
            self.releaseReadHold(.upstreamFull, context: context)
        } else {
            self.readHolds.insert(.upstreamFull)
        }
    }

    /// Answers the requests that queued behind a proxied one, in order, until
    /// another proxied request has to wait for its upstream.
    private func drainPipelined(context: ChannelHandlerContext) {
        guard !self.drainingQueue else { return }
        self.drainingQueue = true
        defer { self.drainingQueue = false }
        while !self.queueing, !self.isClosed, let part = self.pipelined.popFirst() {
            self.handle(part, context: context)
        }
        if self.isClosed { self.pipelined.removeAll() }
        if self.pipelined.isEmpty { self.releaseReadHold(.pipelined, context: context) }
    }
}
