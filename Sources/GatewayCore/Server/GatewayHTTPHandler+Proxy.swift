import GatewayConfig
import GatewayHandlers
import GatewayProxy
import GatewayTLS
import NIOCore
import NIOHTTP1
import Prometheus

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
    /// Starts the upstream exchange. Without `wholeBody` the body streams up as
    /// it arrives; with it (a body the request policies collected), the body is
    /// sent in one piece with a `Content-Length`, and the request has ended.
    func startProxying(
        _ request: Request, proxy: ProxyRoute, path: Substring,
        wholeBody: (body: ByteBuffer?, decompressed: Bool)? = nil, context: ChannelHandlerContext
    ) {
        let requestID = self.requestID(for: request.head)
        if self.clientAddress == nil {
            self.clientAddress = context.channel.remoteAddress?.ipAddress ?? "-"
        }
        if self.scheme == nil {
            let tls = (try? context.pipeline.syncOperations.context(handlerType: TLSHandler.self)) != nil
            self.scheme = tls ? "https" : "http"
        }
        var head = proxy.upstreamHead(
            client: request.head, target: proxy.upstreamTarget(path: path, query: request.query),
            clientIP: self.clientAddress == "-" ? nil : self.clientAddress, scheme: self.scheme!, requestID: requestID,
            trustForwarded: self.peerIsTrusted(request, context: context),
            traceparent: self.traceparent(for: request.head), forwarded: &self.forwardedMemo)
        if let wholeBody {
            ProxyRoute.frameWholeBody(
                &head, length: wholeBody.body?.readableBytes ?? 0, decoded: wholeBody.decompressed,
                clientSentBody: request.head.headers.contains(name: "content-length")
                    || request.head.headers.contains(name: "transfer-encoding"))
        }
        var responseRules = proxy.responseRules
        if let cors = request.state.routes[request.route].cors {
            // The gateway's CORS fields replace whatever the upstream says.
            responseRules = cors.upstreamResponseRules
            for field in cors.responseHeaders(origin: request.head.headers.first(name: "origin")) {
                responseRules.add.append(HeaderField(name: field.name, value: field.value))
            }
        }
        for field in request.rateLimitHeaders {
            responseRules.add.append(HeaderField(name: field.name, value: field.value))
        }
        let proxied = ProxiedRequest(requestID: requestID, responseRules: responseRules)
        let exchange = UpstreamExchange(
            pool: self.pool(for: proxy, state: request.state, context: context), head: head,
            requestTimeout: proxy.requestTimeout, delegate: self,
            hashKey: self.consistentHashKey(request, upstream: proxy.group.configuration, context: context))
        proxied.exchange = exchange
        self.state = .proxying(request, proxied)
        guard let wholeBody else {
            if !request.hasBody {
                // Nothing follows the head: the end goes with it, in one flush to the upstream.
                // The `.end` NIO's decoder sends next then only stops reading (`receivedEnd`).
                proxied.requestEnded = true
                exchange.sendEnd()
            }
            exchange.start()
            return
        }
        // The client's request is over: what it sends next waits behind this response.
        proxied.requestEnded = true
        proxied.bodyBytesReceived = wholeBody.body?.readableBytes ?? 0
        self.queueing = true
        exchange.start()
        if let body = wholeBody.body, body.readableBytes > 0 { exchange.sendBody(body) }
        exchange.sendEnd()
    }

    /// The client's `traceparent` when valid, else a new trace.
    func traceparent(for head: HTTPRequestHead) -> String {
        if let sent = head.headers.first(name: "traceparent"), TraceContext.isValid(sent) { return sent }
        if self.traceRandom == nil { self.traceRandom = Xoshiro256() }
        return TraceContext.start(using: &self.traceRandom!)
    }

    /// The request's key for a `consistent_hash` upstream: the client IP (trusted
    /// proxies honoured) or a header's value; nil for other upstreams or a
    /// request without the header (which is then balanced round robin).
    func consistentHashKey(
        _ request: Request, upstream: UpstreamConfiguration, context: ChannelHandlerContext
    ) -> UInt64? {
        guard upstream.loadBalancing == .consistentHash else { return nil }
        switch upstream.hashOn {
        case .clientIP:
            return HashRing.hash(self.rateLimitClientIP(request, context: context))
        case .header(let name):
            return request.head.headers.first(name: name).map { HashRing.hash($0) }
        }
    }

    /// This loop's pool for the route's upstream, kept per connection so the
    /// group's lock is taken once per connection, not per request.
    func pool(for proxy: ProxyRoute, state: GatewayState, context: ChannelHandlerContext) -> UpstreamPool {
        if self.poolsState !== state {
            self.poolsState = state
            self.pools = Array(repeating: nil, count: state.upstreams.count)
        }
        if let pool = self.pools[proxy.upstreamIndex] { return pool }
        let pool = proxy.group.pool(on: context.eventLoop, metrics: self.metrics)
        self.pools[proxy.upstreamIndex] = pool
        return pool
    }

    func proxied(
        body chunk: ByteBuffer, request: Request, _ proxied: ProxiedRequest, context: ChannelHandlerContext
    ) {
        proxied.bodyBytesReceived += chunk.readableBytes
        if proxied.bodyBytesReceived > request.maxBodyBytes {
            proxied.exchange?.abort()
            proxied.exchange = nil
            self.releaseReadHold(.upstreamFull, context: context)
            if proxied.responseStarted {
                self.state = .closed
                context.close(promise: nil)
            } else {
                self.respond(
                    with: .payloadTooLarge(limit: request.maxBodyBytes), to: request,
                    requestID: proxied.requestID, context: context)
            }
            return
        }
        guard let exchange = proxied.exchange else { return }  // answered early: drop the rest
        exchange.sendBody(chunk)
        if !exchange.upstreamIsWritable { self.readHolds.insert(.upstreamFull) }
    }

    func writeToClient(_ buffer: ByteBuffer, _ proxied: ProxiedRequest, context: ChannelHandlerContext) {
        if proxied.keepAlive {
            context.write(self.wrapOutboundOut(buffer), promise: nil)
        } else {
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.write(self.wrapOutboundOut(buffer), promise: promise)
            proxied.lastWrite = promise.futureResult
        }
    }

    /// Flushes, then closes once the last write is out (NIO drops unwritten data on close).
    func closeAfterResponse(_ proxied: ProxiedRequest, context: ChannelHandlerContext) {
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
            rules: proxied.responseRules)
        self.writeToClient(buffer, proxied, context: context)
        MessageBuffers.recycle(buffer)
    }

    func upstreamResponseBody(_ chunk: ByteBuffer) {
        guard case .proxying(let request, let proxied) = self.state, let context = self.context else { return }
        var chunk = chunk
        if proxied.gzip, proxied.framing != .none {
            guard chunk.readableBytes > 0 else { return }
            do {
                let chunked = proxied.framing == .chunked
                chunk = try self.gzip.compress(
                    chunk, headroom: chunked ? ProxyResponseWriter.chunkHeaderRoom : 0,
                    allocator: context.channel.allocator)
                if chunked {
                    guard chunk.readableBytes > 0 else { return }
                    proxied.bytesSent += chunk.readableBytes
                    ProxyResponseWriter.frameAsChunk(&chunk, afterChunk: proxied.afterChunk)
                    proxied.afterChunk = true
                    self.writeToClient(chunk, proxied, context: context)
                    return
                }
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
                if proxied.framing == .chunked {
                    // The gzip trailer as a chunk, and the last chunk, in one write.
                    var tail = try self.gzip.finish(
                        headroom: ProxyResponseWriter.chunkHeaderRoom, tailroom: 7, allocator: context.channel.allocator)
                    proxied.bytesSent += tail.readableBytes
                    ProxyResponseWriter.frameAsChunk(&tail, afterChunk: proxied.afterChunk)
                    tail.writeStaticString("\r\n0\r\n\r\n")
                    self.writeToClient(tail, proxied, context: context)
                } else {
                    let trailer = try self.gzip.finish(allocator: context.channel.allocator)
                    proxied.bytesSent += trailer.readableBytes
                    self.writeToClient(trailer, proxied, context: context)
                }
            } catch {
                self.compressionFailed(request, proxied, context: context)
                return
            }
        } else if proxied.framing == .chunked {
            self.writeToClient(ProxyResponseWriter.lastChunk(afterChunk: proxied.afterChunk), proxied, context: context)
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
    func negotiateCompression(
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
    func compressionFailed(_ request: Request, _ proxied: ProxiedRequest, context: ChannelHandlerContext) {
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
    func drainPipelined(context: ChannelHandlerContext) {
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
