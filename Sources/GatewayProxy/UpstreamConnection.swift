import GatewayTLS
import NIOCore
import NIOHTTP1

/// One keep-alive HTTP/1.1 connection to a target, and the handler at the top
/// of its pipeline, above NIO's response parser (`UpstreamResponseDecoder`). It
/// writes requests as bytes itself: heads from `UpstreamRequestWriter`, bodies
/// as they are or chunk-framed.
///
/// Belongs to one `UpstreamPool` and so to one event loop; every call is made
/// there. While it serves a request it passes the response parts to its
/// `UpstreamExchange`; while idle in the pool, any byte or close from the
/// upstream makes it leave the pool.
///
/// Reads are gated (`holdReads`/`resumeReads`) so a slow client stops the
/// gateway reading from the upstream: TCP backpressure then reaches the upstream.
final class UpstreamConnection: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The response parser below this handler, told the method of each request written.
    let responses = UpstreamResponseDecoder()
    /// The current request's body framing, and whether a chunk was written (its CRLF is due).
    private var chunked = false
    private var afterChunk = false

    /// Its target's index in its pool's `targets` (changes when another pool adopts it).
    private(set) var target: Int
    private weak var pool: UpstreamPool?
    private var context: ChannelHandlerContext?
    /// The request being served; nil while idle.
    var exchange: UpstreamExchange?
    /// Requests served before the current one: a reused connection may have been
    /// closed by the upstream just as it was picked.
    private(set) var requestsServed = 0
    /// When it went back to the pool.
    var idleSince = NIODeadline.now()
    private(set) var isOpen = true
    private var readsHeld = false
    private var readPending = false
    /// The request-timeout check, one per connection and kept across the requests it
    /// serves, so a request schedules nothing (`ensureWatchdog`).
    private var watchdog: Scheduled<Void>?
    private var watchdogFiresAt = NIODeadline.distantFuture

    init(target: Int, pool: UpstreamPool) {
        self.target = target
        self.pool = pool
    }

    // MARK: Used by the pool and the exchange

    /// Another pool on the same loop takes this idle connection over (a reload
    /// kept its target): it reports to that pool from now on.
    func move(to pool: UpstreamPool, target: Int) {
        self.pool = pool
        self.target = target
    }

    var isWritable: Bool { self.context?.channel.isWritable ?? false }

    func startServing(_ exchange: UpstreamExchange) {
        self.exchange = exchange
        self.requestsServed += 1
    }

    /// Writes a request head (not flushed) and sets up its body framing.
    func writeHead(_ head: HTTPRequestHead) {
        guard let context = self.context else { return }
        let (bytes, framing) = UpstreamRequestWriter.serialize(head)
        self.chunked = framing == .chunked
        self.afterChunk = false
        self.responses.expectResponse(to: head.method)
        context.write(self.wrapOutboundOut(bytes), promise: nil)
        MessageBuffers.recycle(bytes)
    }

    /// Writes a piece of the request body, chunk-framed when the head said so.
    func writeBody(_ chunk: ByteBuffer, flush: Bool) {
        guard let context = self.context else { return }
        if self.chunked {
            guard chunk.readableBytes > 0 else { return }  // an empty chunk would end the body
            context.write(
                self.wrapOutboundOut(
                    ProxyResponseWriter.chunkHeader(
                        size: chunk.readableBytes, afterChunk: self.afterChunk, allocator: context.channel.allocator)),
                promise: nil)
            self.afterChunk = true
        }
        context.write(self.wrapOutboundOut(chunk), promise: nil)
        if flush { context.flush() }
    }

    /// Ends the request body: the zero chunk when chunked, nothing otherwise.
    func writeEnd(flush: Bool) {
        guard let context = self.context else { return }
        if self.chunked {
            context.write(
                self.wrapOutboundOut(
                    ProxyResponseWriter.lastChunk(afterChunk: self.afterChunk)),
                promise: nil)
        }
        if flush { context.flush() }
    }

    func flush() {
        self.context?.flush()
    }

    /// Makes sure the watchdog fires no later than `deadline`. It then asks the exchange
    /// being served (`UpstreamExchange.checkTimeout`), which fails it or names the next
    /// time to look. Usually the watchdog is already due earlier and nothing is scheduled:
    /// it fires about once per `request_timeout` per busy connection, not once per request.
    func ensureWatchdog(by deadline: NIODeadline) {
        if self.watchdog != nil, self.watchdogFiresAt <= deadline { return }
        self.watchdog?.cancel()
        self.scheduleWatchdog(at: deadline)
    }

    private func scheduleWatchdog(at deadline: NIODeadline) {
        guard self.isOpen, let context = self.context else { return }
        self.watchdogFiresAt = deadline
        // A strong capture (no weak reference, whose side table would slow every retain of
        // this handler): the task is cancelled when the channel closes.
        self.watchdog = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.watchdog = nil
            if let next = self.exchange?.checkTimeout() { self.scheduleWatchdog(at: next) }
        }
    }

    private func cancelWatchdog() {
        self.watchdog?.cancel()
        self.watchdog = nil
    }

    /// Stops asking the socket for data until `resumeReads`.
    func holdReads() {
        self.readsHeld = true
    }

    func resumeReads() {
        guard self.readsHeld else { return }
        self.readsHeld = false
        if self.readPending, let context = self.context {
            self.readPending = false
            context.read()
        }
    }

    func close() {
        guard self.isOpen else { return }
        self.isOpen = false
        self.context?.close(promise: nil)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.cancelWatchdog()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        guard let exchange = self.exchange else {
            // An idle connection has nothing to say: the stream can't be trusted.
            self.close()
            return
        }
        exchange.upstreamReceived(part, from: self)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.exchange?.upstreamReadComplete(from: self)
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.exchange?.upstreamWritabilityChanged(context.channel.isWritable, from: self)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isOpen = false
        self.cancelWatchdog()
        let exchange = self.exchange
        self.exchange = nil
        self.pool?.connectionClosed(self)
        exchange?.upstreamFailed(.reset, from: self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset, or bytes NIO's decoder refused: either way this connection is done.
        let exchange = self.exchange
        self.exchange = nil
        exchange?.upstreamFailed(error is HTTPParserError ? .invalidResponse : .reset, from: self)
        self.close()
    }

    func read(context: ChannelHandlerContext) {
        if self.readsHeld {
            self.readPending = true
        } else {
            context.read()
        }
    }
}
