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
/// The authentication step is in `GatewayHTTPHandler+Auth.swift`, the
/// rate-limit step in `GatewayHTTPHandler+RateLimits.swift`, the proxy path in
/// `GatewayHTTPHandler+Proxy.swift`, CORS preflights in `GatewayHTTPHandler+CORS.swift`,
/// the OpenAPI pages in `GatewayHTTPHandler+OpenAPI.swift`, routing and the body and end
/// of a request in `GatewayHTTPHandler+RequestParts.swift`.
///
/// Runs on the channel's event loop; every call stays there (no thread hops).
final class GatewayHTTPHandler: ChannelDuplexHandler, NIOScheduledCallbackHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        /// Waiting for a request head.
        case idle
        /// Collecting a routed request's body before calling its handler.
        case collecting(Request, body: ByteBuffer?)
        /// Answered already (an error); dropping the body until `.end`.
        case discarding
        /// A response said `Connection: close`; nothing more is read or answered.
        case closed
        /// Answered with `Connection: close` mid-body: the rest of the body is read
        /// and dropped (at most `remaining` bytes) before the connection closes, so
        /// a client still sending sees the answer rather than a reset.
        case lingering(remaining: Int, answered: EventLoopFuture<Void>)
        /// A request sent to an upstream: its body streams up, its response down.
        case proxying(Request, ProxiedRequest)
        /// Waiting for a rate-limit store (Redis); further request parts queue in `pipelined`.
        case limiting(Request, path: Substring)
        /// Collecting a body that the route's policies need whole (a gzip body, a
        /// validated body) before answering or proxying it.
        case buffering(Request, BufferedRequest)
    }

    /// Why the handler is not asking the client for more bytes (a bit set).
    struct ReadHolds: OptionSet {
        let rawValue: UInt8
        /// Pipelined requests wait in `pipelined` behind a proxied response.
        static let pipelined = ReadHolds(rawValue: 1)
        /// The upstream connection does not take more request body now.
        static let upstreamFull = ReadHolds(rawValue: 2)
    }

    /// What the handler knows of the request being served.
    struct Request {
        var head: HTTPRequestHead
        var state: GatewayState
        var route: Int
        var parameters: [Substring]
        var query: Substring?
        var startedAt: NIODeadline
        var keepAlive: Bool
        /// The body limit: `http.max_body_bytes` until routed, then the route's.
        var maxBodyBytes: Int
        /// `Retry-After` and the RateLimit fields of a limited route, added to every answer.
        var rateLimitHeaders: [(name: String, value: String)] = []
        /// Who authenticated (an API key's name, a token's `sub`): the access log's `identity`.
        var identity: String?
        /// The target as the access log shows it, when it differs from the head's (a query API key redacted).
        var loggedURI: String?
        /// A CORS preflight the gateway answers itself (its answer carries the preflight's fields instead).
        var isPreflight = false
        /// Whether a body follows the head (else NIO's decoder emits `.end` right after it).
        var hasBody = true
        /// Whether the head has `Expect` (answered in `routed`).
        var hasExpect = false
    }

    let stateBox: GatewayStateBox
    let metrics: GatewayMetrics
    let accessLog: AccessLog
    let activity: ReadActivity
    var clock: ConnectionClock
    /// The next `checkClock`, a callback into this handler (`handleScheduledCallback`):
    /// no closure, promise or future per connection, as `scheduleTask` would make.
    var clockCheck: NIOScheduledCallback?
    var counted = false

    var state = State.idle
    /// Set by a quiesce (graceful shutdown): the next response closes the connection.
    var draining = false
    var serializer = HTTPResponseSerializer()
    /// This connection's zlib state, made when a compressing route first needs it.
    var gzip = GzipEncoder()
    var requestIDs: RequestIDGenerator?
    /// Ids for traces this gateway starts (`traceparent` on proxied requests).
    var traceRandom: Xoshiro256?
    /// This connection's `Forwarded` element, rebuilt only when its host changes.
    var forwardedMemo = ForwardedElementMemo()
    var clientAddress: String?
    var inRead = false
    var needsFlush = false

    // Proxying. None of this is touched on the built-in path.
    /// Request parts that arrived behind a proxied request, answered after it.
    var pipelined = CircularBuffer<HTTPServerRequestPart>()
    /// Set while a proxied request's response is still coming: new parts queue.
    var queueing = false
    var drainingQueue = false
    var readHolds: ReadHolds = []
    var readPending = false
    /// This loop's pools, by `ProxyRoute.upstreamIndex`, for the state they came from.
    var poolsState: GatewayState?
    var pools: [UpstreamPool?] = []
    var scheme: String?
    /// For the upstream's callbacks, which come from the upstream channel.
    var context: ChannelHandlerContext?
    /// Whether the peer is one of the trusted proxies of these stores (per connection, per state).
    var peerTrust: (stores: RateLimitStores, trusted: Bool)?

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

    func connectionOpened(context: ChannelHandlerContext) {
        guard !self.counted else { return }
        self.counted = true
        self.metrics.connectionsActive.increment()
        self.clock.lastActivity = .now()
        self.scheduleClockCheck(at: self.clock.lastActivity + self.clock.checkInterval, context: context)
    }

    func connectionClosed() {
        guard self.counted else { return }
        self.counted = false
        self.metrics.connectionsActive.decrement()
        self.clockCheck?.cancel()
        self.clockCheck = nil
    }

    func scheduleClockCheck(at deadline: NIODeadline, context: ChannelHandlerContext) {
        // Fails only once the loop is shutting down, when nothing is left to time.
        self.clockCheck = try? context.eventLoop.assumeIsolated().scheduleCallback(at: deadline, handler: self)
    }

    func handleScheduledCallback(eventLoop: some EventLoop) {
        self.clockCheck = nil
        guard let context = self.context else { return }
        self.checkClock(context: context)
    }

    func checkClock(context: ChannelHandlerContext) {
        guard self.counted else { return }
        let phase: ConnectionClock.Phase
        switch self.state {
        case .idle: phase = .awaitingHead
        case .collecting, .buffering: phase = .receivingBody
        case .discarding, .lingering: phase = .discardingBody
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
            } else if case .buffering(let buffering, _) = self.state {
                request = buffering
                error = .bodyTimeout
            } else {
                request = Request(
                    head: HTTPRequestHead(version: .http1_1, method: .GET, uri: ""), state: self.stateBox.state,
                    route: -1, parameters: [], query: nil, startedAt: self.activity.headStartedAt ?? .now(),
                    keepAlive: false, maxBodyBytes: 0)
                self.requestHeadReceived()
            }
            self.respond(with: error, to: request, context: context)
        }
    }

    func requestHeadReceived() {
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

    func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
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

    func releaseReadHold(_ hold: ReadHolds, context: ChannelHandlerContext) {
        guard self.readHolds.contains(hold) else { return }
        self.readHolds.remove(hold)
        if self.readHolds.isEmpty && self.readPending {
            self.readPending = false
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            _ = self.observeHandshake(event)
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
            self.observeHandshakeFailure(error)
            context.fireErrorCaught(error)
            return
        }
        guard !self.isClosed else { return }
        // The byte stream can't be trusted any more: answer once and close.
        let gatewayError: GatewayError = parserError == .headerOverflow ? .headersTooLarge : .badRequest
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "")
        let request = Request(
            head: head, state: self.stateBox.state, route: -1, parameters: [], query: nil, startedAt: .now(),
            keepAlive: false, maxBodyBytes: 0)
        if case .idle = self.state { self.requestHeadReceived() }
        self.respond(with: gatewayError, to: request, context: context)
    }

    /// Whether nothing more is answered on this connection.
    var isClosed: Bool {
        switch self.state {
        case .closed, .lingering: return true
        default: return false
        }
    }

    func received(head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard !self.isClosed else { return }
        self.requestHeadReceived()
        let state = self.stateBox.state
        var request = Request(
            head: head, state: state, route: -1, parameters: [], query: nil, startedAt: .now(),
            keepAlive: head.isKeepAlive && !self.draining, maxBodyBytes: state.maxBodyBytes)
        let fields = RequestHeadFields(head.headers)
        let length = fields.contentLength
        request.hasBody = fields.hasBody
        request.hasExpect = fields.hasExpect
        guard let target = RequestTarget(head.uri) else {
            self.reject(request, with: .badRequestTarget, context: context)
            return
        }
        request.query = target.query
        let host = fields.host
        if head.method == .OPTIONS, state.hasCORS,
            self.answeredPreflight(&request, host: host, target: target, length: length, context: context)
        {
            return
        }
        let match = Self.route(head.method, host: host, target: target, in: state.routeTable)
        if case .found(let route, let parameters) = match {
            request.route = route
            request.parameters = parameters
            if let auth = state.routes[route].auth, !self.authenticate(&request, with: auth, context: context) {
                return
            }
            request.maxBodyBytes = state.routes[route].maxBodyBytes
        }
        // A declared body over the route's limit (or `http.max_body_bytes` when nothing matched)
        // is refused before anything else looks at the request.
        if let length, length > request.maxBodyBytes {
            self.reject(request, with: .payloadTooLarge(limit: request.maxBodyBytes), context: context)
            return
        }
        switch match {
        case .found(let route, _):
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

    /// Serves a routed request that passed its rate limits: applies the
    /// request policies (which may refuse it, or need its body whole), answers
    /// `Expect`, then proxies it or starts collecting its body.
    func routed(_ request: Request, path: Substring, context: ChannelHandlerContext) {
        var buffered: BufferedRequest?
        if let policies = request.state.routes[request.route].requestPolicies {
            switch self.admit(request, policies: policies, path: path, context: context) {
            case .refused: return
            case .streams: break
            case .buffers(let whole): buffered = whole
            }
        }
        if request.hasExpect {
            self.answerExpectation(head: request.head, context: context)
        }
        self.clock.lastBodyBytes = request.startedAt
        if let buffered {
            self.state = .buffering(request, buffered)
            return
        }
        if let proxy = request.state.routes[request.route].proxy {
            self.startProxying(request, proxy: proxy, path: path, context: context)
            return
        }
        if !request.hasBody {
            // Answered at once rather than kept in `.collecting` until the `.end` that
            // follows; `.discarding` takes that `.end`.
            self.state = .discarding
            self.dispatch(request, body: nil, context: context)
            return
        }
        self.state = .collecting(request, body: nil)
    }

    // MARK: Answering

    func dispatch(_ request: Request, body: ByteBuffer?, context: ChannelHandlerContext) {
        guard let handler = request.state.routes[request.route].handler else {
            if let page = request.state.routes[request.route].page { self.serve(page, to: request, context: context) }
            return
        }
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
    func reject(
        _ request: Request, with error: GatewayError, allow: [String] = [],
        extraHeaders: [(name: String, value: String)] = [], context: ChannelHandlerContext
    ) {
        self.state = .discarding
        self.respond(with: error, allow: allow, extraHeaders: extraHeaders, to: request, context: context)
    }

    /// `lingerFor`: for an error that closes the connection mid-body, how much
    /// more of the body to read and drop before closing (see `State.lingering`).
    func respond(
        with error: GatewayError, allow: [String] = [], extraHeaders: [(name: String, value: String)] = [],
        to request: Request, requestID: String? = nil, lingerFor: Int? = nil, context: ChannelHandlerContext
    ) {
        var request = request
        if error.closesConnection { request.keepAlive = false }
        let requestID = requestID ?? self.requestID(for: request.head)
        let body = error.body(requestID: requestID, allocator: context.channel.allocator)
        // The usual cases (only rate-limit fields, or none) share an existing array.
        var extra = extraHeaders
        if !allow.isEmpty { extra.insert(("allow", allow.joined(separator: ", ")), at: 0) }
        if !request.rateLimitHeaders.isEmpty {
            if extra.isEmpty { extra = request.rateLimitHeaders } else { extra += request.rateLimitHeaders }
        }
        self.write(
            status: error.status, contentType: "application/json", body: body, extraHeaders: extra,
            request: request, requestID: requestID, lingerFor: lingerFor, context: context)
    }

    func write(
        status: HTTPResponseStatus,
        contentType: StaticString,
        body: ByteBuffer,
        extraHeaders: [(name: String, value: String)],
        request: Request,
        requestID: String?,
        lingerFor: Int? = nil,
        context: ChannelHandlerContext
    ) {
        // Errors always carry a request id; other answers echo the client's, or carry
        // the one the access log records, so a client can quote it.
        var requestID = requestID
        if requestID == nil {
            // One scan of the headers: the client's id if acceptable, a new one if it sent a bad one
            // or the access log needs one.
            if let sent = request.head.headers.first(name: "x-request-id") {
                requestID = RequestIDGenerator.isAcceptable(sent) ? sent : self.newRequestID()
            } else if request.state.accessLogEnabled {
                requestID = self.newRequestID()
            }
        }
        var body = body
        var extraHeaders = extraHeaders
        if request.route >= 0 {
            // A browser reads an error (401, 422, 429, …) only if it carries the CORS fields too.
            if let cors = request.state.routes[request.route].cors, !request.isPreflight {
                extraHeaders += cors.responseHeaders(origin: request.head.headers.first(name: "origin"))
            }
            if let compression = request.state.routes[request.route].compression {
                self.compress(&body, extraHeaders: &extraHeaders, compression, status: status,
                    contentType: contentType, request: request, context: context)
            }
        }
        let keepAlive = request.keepAlive && !self.draining
        let connection = ProxyResponseWriter.connection(keepAlive: keepAlive, clientVersion: request.head.version)
        let response = self.serializer.serialize(
            status: status, contentType: contentType, body: body, includeBody: request.head.method != .HEAD,
            extraHeaders: extraHeaders, requestID: requestID, connection: connection)

        if keepAlive {
            context.write(self.wrapOutboundOut(response), promise: nil)
            MessageBuffers.recycle(response)
            if self.inRead {
                self.needsFlush = true
            } else {
                context.flush()
            }
        } else if let lingerFor, lingerFor > 0 {
            self.state = .lingering(
                remaining: lingerFor, answered: context.writeAndFlush(self.wrapOutboundOut(response)))
        } else {
            self.state = .closed
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(self.wrapOutboundOut(response)).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
        }
        let sent = request.head.method == .HEAD || HTTPResponseSerializer.isBodiless(status) ? 0 : body.readableBytes
        self.finished(request, status: status, bytes: sent, requestID: requestID, context: context)
    }

    /// Response compression for an answer the gateway makes: the whole body is
    /// known, so it is compressed in one go and sent with its compressed length.
    func compress(
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

    func answerExpectation(head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) else { return }
        context.writeAndFlush(
            self.wrapOutboundOut(HTTPResponseSerializer.continueResponse(allocator: context.channel.allocator)),
            promise: nil)
    }

    // MARK: Metrics and access log

    func finished(
        _ request: Request, status: HTTPResponseStatus, bytes: Int, requestID: String?, context: ChannelHandlerContext
    ) {
        let now = NIODeadline.now()
        self.activity.awaitingHead = true
        self.clock.lastActivity = now
        self.clock.lastBodyBytes = now
        let duration = now - request.startedAt
        let method = Self.metricsLabel(for: request.head.method)
        self.stateBox.requestMetrics.record(
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
                path: request.loggedURI ?? request.head.uri,
                route: request.route >= 0 ? request.state.routeNames[request.route] : nil,
                status: Int(status.code),
                bytes: bytes,
                duration: .nanoseconds(duration.nanoseconds),
                identity: request.identity
            ))
    }

    /// The client's `X-Request-Id` when it is safe to keep, else a new UUID.
    func requestID(for head: HTTPRequestHead) -> String {
        if let sent = head.headers.first(name: "x-request-id"), RequestIDGenerator.isAcceptable(sent) {
            return sent
        }
        return self.newRequestID()
    }

    func newRequestID() -> String {
        if self.requestIDs == nil { self.requestIDs = RequestIDGenerator() }
        return self.requestIDs!.next()
    }

    /// Standard methods by name; anything else as `OTHER`, so a client can't grow the label set.
    static func metricsLabel(for method: HTTPMethod) -> String {
        switch method {
        case .GET, .HEAD, .POST, .PUT, .PATCH, .DELETE, .OPTIONS, .TRACE, .CONNECT: return method.rawValue
        default: return "OTHER"
        }
    }
}
