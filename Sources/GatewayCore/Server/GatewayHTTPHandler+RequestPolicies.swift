import GatewayProxy
import NIOCore
import NIOHTTP1

/// A request whose body the route's policies need whole: a gzip body being
/// inflated, or a body to validate. It is collected here (bounded by the
/// route's body limit and the decompression caps) and then answered by the
/// built-in handler or sent upstream in one piece, with a `Content-Length`.
final class BufferedRequest {
    /// The path the route matched, for the upstream target.
    let path: Substring
    /// Set for a `Content-Encoding: gzip` body on a decompressing route.
    let inflater: GzipRequestInflater?
    /// The body as it will be used: inflated when `inflater` is set.
    var body: ByteBuffer?
    /// Bytes received from the client (compressed, when inflating).
    var received = 0

    init(path: Substring, inflater: GzipRequestInflater?) {
        self.path = path
        self.inflater = inflater
    }
}

extension GatewayHTTPHandler {
    enum Admission {
        /// Answered already.
        case refused
        /// Passed: the body goes its usual way (streamed upstream, or collected for a handler).
        case streams
        /// Passed so far: the body is collected whole, then the rest of the policies run.
        case buffers(BufferedRequest)
    }

    /// The request policies that can decide on the head alone, before `Expect`
    /// is answered: a content coding the route cannot undo is refused (415),
    /// and so are parameters that fail validation when the body is not
    /// validated (a validated body is checked with them at its end).
    func admit(
        _ request: Request, policies: RouteRequestPolicies, path: Substring, context: ChannelHandlerContext
    ) -> Admission {
        var inflater: GzipRequestInflater?
        if policies.decompression == nil, policies.needsWholeBody,
            RouteDecompression.coding(of: request.head.headers) != .identity
        {
            // A body to validate that the route does not decompress cannot be read (RFC 7694).
            self.reject(
                request, with: .unsupportedContentEncoding, extraHeaders: [("accept-encoding", "identity")],
                context: context)
            return .refused
        }
        if let decompression = policies.decompression {
            switch RouteDecompression.coding(of: request.head.headers) {
            case .identity:
                break
            case .gzip:
                do {
                    inflater = try decompression.makeInflater()
                } catch {
                    self.reject(request, with: .forInflating(.failed), context: context)
                    return .refused
                }
            case .unsupported:
                self.reject(
                    request, with: .unsupportedContentEncoding, extraHeaders: [("accept-encoding", "gzip")],
                    context: context)
                return .refused
            }
        }
        if let validation = policies.validation, validation.body == nil {
            let verdict = validation.validateParameters(
                pathParameters: request.parameters, query: request.query, headers: request.head.headers,
                allocator: context.channel.allocator)
            if case .refused(let status, let contentType, let body) = verdict {
                self.state = .discarding
                self.refuse(request, status: status, contentType: contentType, body: body, context: context)
                return .refused
            }
        }
        guard inflater != nil || policies.needsWholeBody else { return .streams }
        return .buffers(BufferedRequest(path: path, inflater: inflater))
    }

    /// Answers with validation's refusal (FastAPI's shape, not the gateway's error shape).
    func refuse(
        _ request: Request, status: HTTPResponseStatus, contentType: StaticString, body: ByteBuffer,
        context: ChannelHandlerContext
    ) {
        self.write(
            status: status, contentType: contentType, body: body, extraHeaders: request.rateLimitHeaders,
            request: request, requestID: nil, context: context)
    }

    /// A piece of a body being collected whole: counted against the route's
    /// limit as sent, then inflated within the caps or kept as it is.
    func buffered(body chunk: ByteBuffer, request: Request, _ buffered: BufferedRequest, context: ChannelHandlerContext) {
        buffered.received += chunk.readableBytes
        if buffered.received > request.maxBodyBytes {
            self.reject(request, with: .payloadTooLarge(limit: request.maxBodyBytes), context: context)
            return
        }
        guard let inflater = buffered.inflater else {
            if buffered.body == nil {
                buffered.body = chunk
            } else {
                var chunk = chunk
                buffered.body!.writeBuffer(&chunk)
            }
            return
        }
        if buffered.body == nil {
            buffered.body = context.channel.allocator.buffer(capacity: GzipRequestInflater.windowSize)
        }
        do {
            try inflater.inflate(chunk, into: &buffered.body!)
        } catch {
            // A 413 here closes the connection, but only once the rest of the body (within the
            // route's limit) has been read: the client is still sending and must see the answer.
            self.state = .discarding
            buffered.body = nil
            self.respond(
                with: .forInflating(error), to: request, lingerFor: request.maxBodyBytes - buffered.received,
                context: context)
        }
    }

    /// The end of lingering: once the answer is out, close.
    func closeAfterLingering(_ answered: EventLoopFuture<Void>, context: ChannelHandlerContext) {
        self.state = .closed
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        answered.whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    /// The whole body is in: the remaining policies run, then the request is
    /// answered by its handler or sent upstream in one piece.
    func bufferedRequestEnded(_ request: Request, _ buffered: BufferedRequest, context: ChannelHandlerContext) {
        if let inflater = buffered.inflater {
            do {
                try inflater.finish()
            } catch {
                self.respond(with: .forInflating(error), to: request, context: context)
                return
            }
        }
        // Parameters alone were checked on the head; with a body schema, everything is checked now.
        if let validation = request.state.routes[request.route].requestPolicies?.validation, validation.body != nil {
            let verdict = validation.validate(
                pathParameters: request.parameters, query: request.query, headers: request.head.headers,
                body: buffered.body, allocator: context.channel.allocator)
            if case .refused(let status, let contentType, let body) = verdict {
                self.refuse(request, status: status, contentType: contentType, body: body, context: context)
                return
            }
        }
        if let proxy = request.state.routes[request.route].proxy {
            self.startProxying(
                request, proxy: proxy, path: buffered.path,
                wholeBody: (buffered.body, decompressed: buffered.inflater != nil), context: context)
        } else {
            self.dispatch(request, body: buffered.body, context: context)
        }
    }
}
