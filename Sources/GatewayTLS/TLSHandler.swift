public import NIOCore

/// Terminates (or originates) TLS on a channel with OpenSSL, through a BIO over the channel's
/// buffers (see ``TLSConnection``).
///
/// Put it first in the pipeline: ciphertext comes in and goes out below it, plaintext above it.
/// All calls happen on the channel's event loop; it is not Sendable.
///
/// - The handshake starts when the channel becomes active (or when added to an active channel)
///   and must complete within the context's handshake timeout.
/// - Writes are buffered until flush; all writes pending at a flush are encrypted by one
///   `SSL_write`, so a small response head and body go out as one TLS record in one socket write.
///   Writes before the handshake completes are sent after it.
/// - Memory: an idle connection holds no ciphertext, plaintext or OpenSSL record buffer. A busy
///   one (reads less than 100 ms apart; at most 64 per event loop) keeps OpenSSL's 2 × 16 KB
///   record buffers until 250 ms pass without a read.
/// - Events: ``TLSUserEvent/handshakeCompleted(_:)`` when the handshake is done,
///   ``TLSUserEvent/shutdownCompleted`` when the peer sent close_notify (the channel is then
///   closed). Errors are ``TLSError``s fired through `errorCaught`, after which the channel closes.
/// - `close(mode: .all)` sends close_notify and closes at once, without waiting for the peer's
///   close_notify (as nginx does).
public final class TLSHandler: ChannelDuplexHandler, NIOScheduledCallbackHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        /// Not active yet; writes are buffered.
        case idle
        /// Handshake in progress; writes are buffered.
        case handshaking
        /// Application data flows both ways.
        case active
        /// We sent close_notify (output closed); still reading until the peer's close_notify.
        case closing
        /// Closed or failed: nothing more is read or written.
        case closed
    }

    private struct PendingWrite {
        var data: ByteBuffer
        var promise: EventLoopPromise<Void>?
    }

    private let connection: TLSConnection
    /// Keeps the `SSL_CTX`s (and the SNI/ALPN callback state) alive as long as the `SSL*`.
    private let sslContextOwner: AnyObject
    private let handshakeTimeout: TimeAmount
    private var setupError: TLSError?

    // Exclusivity is not checked at run time for the properties touched on every read and
    // write (each check costs about 45 instructions): every access to them is a short one on
    // the event loop, never held across a call out (to OpenSSL, a promise or the pipeline)
    // that could re-enter this handler.
    @exclusivity(unchecked) private var state: State = .idle
    /// Writes waiting for a flush: the first one inline (a response is usually one buffer),
    /// the others in an array that exists only while they wait, so an idle connection holds no
    /// write queue.
    @exclusivity(unchecked) private var firstPendingWrite: PendingWrite?
    @exclusivity(unchecked) private var morePendingWrites: [PendingWrite] = []
    /// Room for this many pending writes beyond the first is kept between flushes (a gzip
    /// proxied response is six: head, chunk header, data, chunk header, gzip trailer, last
    /// chunk), and given back when the connection goes idle (`stopKeepingRecordBuffers`).
    private static let keptPendingWritesCapacity = 8
    @exclusivity(unchecked) private var flushRequestedDuringHandshake = false
    private var handshakeStart: NIODeadline = .uptimeNanoseconds(0)
    /// The handshake deadline, a callback into this handler (`handleScheduledCallback`):
    /// no closure, promise or future per connection, as `scheduleTask` would make.
    private var handshakeTimeoutTask: NIOScheduledCallback?
    /// The context the deadline fails, held only while the handshake runs.
    private var handshakeContext: ChannelHandlerContext?

    /// A connection whose reads come less than ``busyReadInterval`` apart keeps OpenSSL's record
    /// buffers (see ``TLSConnection/keepRecordBuffers()``) until a whole
    /// ``recordBufferCheckInterval`` passes without a read; idle connections hold none.
    /// At most this many connections per event loop keep them (2 × 16 KB each): freed memory
    /// stays in the process, so this bounds the high-water mark that bursts leave behind.
    static let busyReadInterval: TimeAmount = .milliseconds(100)
    static let recordBufferCheckInterval: TimeAmount = .milliseconds(250)
    static let maximumConnectionsKeepingRecordBuffers = 64
    @exclusivity(unchecked) private var lastReadTime: NIODeadline = .uptimeNanoseconds(0)
    @exclusivity(unchecked) private var readsSinceBufferCheck = 0
    private var recordBufferCheck: Scheduled<Void>?

    /// What the handshake negotiated, once it completed.
    public private(set) var handshakeInfo: TLSHandshakeInfo?

    /// A server-side handler using `context`'s certificates, SNI and ALPN.
    public init(context: TLSServerContext) {
        guard let connection = context.makeConnection() else {
            fatalError("SSL_new failed: out of memory")
        }
        self.connection = connection
        self.sslContextOwner = context
        self.handshakeTimeout = context.configuration.handshakeTimeout
    }

    /// A client-side handler. `serverHostname` is sent by SNI (unless it is an IP address) and,
    /// when the context verifies peers, checked against the server's certificate.
    public init(context: TLSClientContext, serverHostname: String?) {
        guard let connection = context.makeConnection() else {
            fatalError("SSL_new failed: out of memory")
        }
        self.connection = connection
        self.sslContextOwner = context
        self.handshakeTimeout = context.handshakeTimeout
        if let serverHostname, !serverHostname.isEmpty {
            // Reported when the handshake would start, so init cannot fail.
            self.setupError = context.setServerHostname(serverHostname, on: connection)
        }
    }

    /// The subject (RFC 2253) of the certificate the peer presented, if any.
    public var peerCertificateSubject: String? {
        self.connection.peerCertificateSubject
    }

    /// The subject (RFC 2253) of the certificate we present; on a server it follows SNI.
    public var localCertificateSubject: String? {
        self.connection.localCertificateSubject
    }

    /// Bytes of buffer capacity the connection holds for ciphertext (for tests: none when idle).
    var bufferedCiphertextCapacity: Int {
        self.connection.bufferedCiphertextCapacity
    }

    // MARK: - Channel lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.startHandshake(context: context)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.cancelHandshakeTimeout()
        self.stopKeepingRecordBuffers()
        self.failPendingWrites(ChannelError.ioOnClosedChannel)
    }

    public func channelActive(context: ChannelHandlerContext) {
        self.startHandshake(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let previous = self.state
        self.state = .closed
        self.cancelHandshakeTimeout()
        self.stopKeepingRecordBuffers()
        self.failPendingWrites(ChannelError.ioOnClosedChannel)
        switch previous {
        case .handshaking:
            context.fireErrorCaught(TLSError.handshakeFailed("connection closed during TLS handshake"))
        case .active:
            context.fireErrorCaught(TLSError.uncleanShutdown)
        case .idle, .closing, .closed:
            // After our close_notify the peer may just close: that is a normal end.
            break
        }
        context.fireChannelInactive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // EOF from the peer while half-closure is allowed.
        switch self.state {
        case .handshaking:
            self.fail(context: context, error: TLSError.handshakeFailed("connection closed during TLS handshake"))
        case .active:
            self.fail(context: context, error: TLSError.uncleanShutdown)
        case .closing:
            self.state = .closed
            context.close(promise: nil)
        case .idle, .closed:
            context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: - Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let ciphertext = self.unwrapInboundIn(data)
        switch self.state {
        case .idle:
            self.startHandshake(context: context)
        case .handshaking, .active, .closing:
            break
        case .closed:
            return
        }
        self.connection.receive(ciphertext)
        if case .handshaking = self.state {
            self.continueHandshake(context: context)
        }
        switch self.state {
        case .active, .closing:
            self.readPlaintext(context: context)
        case .idle, .handshaking, .closed:
            break
        }
        self.connection.finishReceive()
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        // The handshake needs the peer's next flight even when autoRead is off; the handlers
        // above see no data yet and would not ask for more.
        if case .handshaking = self.state,
            let options = context.channel.syncOptions,
            (try? options.getOption(ChannelOptions.autoRead)) == false
        {
            context.read()
        }
        context.fireChannelReadComplete()
    }

    /// Decrypts what arrived and passes it on as one buffer.
    private func readPlaintext(context: ChannelHandlerContext) {
        let ciphertextBytes = self.connection.pendingInputBytes
        guard ciphertextBytes > 0 || self.connection.hasUnprocessedInput else {
            return
        }
        // Plaintext is never longer than the ciphertext it came from; records held back from
        // an earlier read (or read ahead with the end of the handshake) grow the buffer. The
        // buffer is this thread's, reused once the handlers above let go of it (NIO's decoders
        // drop a buffer they consumed).
        let scratch = CoalescingBuffer.current
        var plaintext = scratch.plaintext.take(minimumCapacity: max(ciphertextBytes, 256))
        let result = self.connection.readPlaintext(into: &plaintext)
        // TLS 1.3 tickets, key updates and alerts are written without application data.
        self.sendPendingOutput(context: context)
        if plaintext.readableBytes > 0 {
            self.noteApplicationDataRead(context: context)
            context.fireChannelRead(self.wrapInboundOut(plaintext))
        }
        scratch.plaintext.recycle(plaintext)
        switch result {
        case .wantRead:
            break
        case .closeNotify:
            self.receivedCloseNotify(context: context)
        case .failed(let error):
            switch self.state {
            case .active, .closing:
                self.fail(context: context, error: error)
            case .idle, .handshaking, .closed:
                break
            }
        }
    }

    // MARK: - Record buffers of busy connections

    @inline(__always)
    private func noteApplicationDataRead(context: ChannelHandlerContext) {
        if self.connection.keepsRecordBuffers {
            self.readsSinceBufferCheck &+= 1
            return
        }
        let now = NIODeadline.now()
        let previous = self.lastReadTime
        self.lastReadTime = now
        if now - previous < Self.busyReadInterval {
            self.startKeepingRecordBuffers(context: context)
        }
    }

    private func startKeepingRecordBuffers(context: ChannelHandlerContext) {
        guard case .active = self.state else {
            return
        }
        let scratch = CoalescingBuffer.current
        guard scratch.connectionsKeepingRecordBuffers < Self.maximumConnectionsKeepingRecordBuffers else {
            return
        }
        scratch.connectionsKeepingRecordBuffers += 1
        self.connection.keepRecordBuffers()
        self.readsSinceBufferCheck = 0
        self.scheduleRecordBufferCheck(context: context)
    }

    private func scheduleRecordBufferCheck(context: ChannelHandlerContext) {
        self.recordBufferCheck = context.eventLoop.assumeIsolated().scheduleTask(
            in: Self.recordBufferCheckInterval
        ) {
            self.checkRecordBuffers(context: context)
        }
    }

    private func checkRecordBuffers(context: ChannelHandlerContext) {
        self.recordBufferCheck = nil
        guard case .active = self.state else {
            self.stopKeepingRecordBuffers()
            return
        }
        if self.readsSinceBufferCheck > 0 {
            self.readsSinceBufferCheck = 0
            self.scheduleRecordBufferCheck(context: context)
        } else {
            self.stopKeepingRecordBuffers()
        }
    }

    /// Releases the record buffers if kept, and cancels the check (idle, closed or removed).
    private func stopKeepingRecordBuffers() {
        self.recordBufferCheck?.cancel()
        self.recordBufferCheck = nil
        if self.morePendingWrites.isEmpty && self.morePendingWrites.capacity > 0 { self.morePendingWrites = [] }
        if self.connection.keepsRecordBuffers {
            self.connection.releaseRecordBuffers()
            CoalescingBuffer.current.connectionsKeepingRecordBuffers -= 1
        }
    }

    /// Whether OpenSSL currently keeps this connection's record buffers (for tests).
    var keepsRecordBuffers: Bool {
        self.connection.keepsRecordBuffers
    }

    private func receivedCloseNotify(context: ChannelHandlerContext) {
        switch self.state {
        case .active:
            self.connection.sendCloseNotify()
            self.sendPendingOutput(context: context)
        case .closing:
            break
        case .idle, .handshaking, .closed:
            // A handler above closed the channel while reading.
            return
        }
        self.state = .closed
        self.stopKeepingRecordBuffers()
        self.failPendingWrites(ChannelError.outputClosed)
        context.fireUserInboundEventTriggered(TLSUserEvent.shutdownCompleted)
        context.close(promise: nil)
    }

    // MARK: - Handshake

    private func startHandshake(context: ChannelHandlerContext) {
        guard case .idle = self.state else {
            return
        }
        self.state = .handshaking
        self.handshakeStart = .now()
        if let setupError = self.setupError {
            self.fail(context: context, error: setupError)
            return
        }
        self.handshakeContext = context
        self.handshakeTimeoutTask = try? context.eventLoop.assumeIsolated().scheduleCallback(
            in: self.handshakeTimeout, handler: self)
        self.continueHandshake(context: context)
    }

    private func continueHandshake(context: ChannelHandlerContext) {
        switch self.connection.doHandshake() {
        case .wantRead:
            self.sendPendingOutput(context: context)
        case .complete:
            self.handshakeCompleted(context: context)
        case .failed(let error):
            self.fail(context: context, error: error)
        }
    }

    private func handshakeCompleted(context: ChannelHandlerContext) {
        self.state = .active
        self.cancelHandshakeTimeout()
        let facts = self.connection.handshakeFacts
        let elapsed = NIODeadline.now() - self.handshakeStart
        let info = TLSHandshakeInfo(
            version: facts.version,
            cipher: facts.cipher,
            applicationProtocol: facts.applicationProtocol,
            serverName: facts.serverName,
            duration: .nanoseconds(elapsed.nanoseconds),
            sessionReused: facts.reused
        )
        self.handshakeInfo = info
        self.sendPendingOutput(context: context)
        context.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(info))
        if self.flushRequestedDuringHandshake, case .active = self.state {
            self.flushRequestedDuringHandshake = false
            self.encryptPendingWrites(context: context)
        }
    }

    public func handleScheduledCallback(eventLoop: some EventLoop) {
        self.handshakeTimeoutTask = nil
        guard case .handshaking = self.state, let context = self.handshakeContext else {
            return
        }
        self.fail(context: context, error: TLSError.handshakeTimeout(after: "\(self.handshakeTimeout)"))
    }

    private func cancelHandshakeTimeout() {
        self.handshakeTimeoutTask?.cancel()
        self.handshakeTimeoutTask = nil
        self.handshakeContext = nil
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.state {
        case .idle, .handshaking, .active:
            let write = PendingWrite(data: self.unwrapOutboundIn(data), promise: promise)
            if self.firstPendingWrite == nil {
                self.firstPendingWrite = write
            } else {
                self.morePendingWrites.append(write)
            }
        case .closing:
            promise?.fail(ChannelError.outputClosed)
        case .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        switch self.state {
        case .idle, .handshaking:
            self.flushRequestedDuringHandshake = true
        case .active:
            self.encryptPendingWrites(context: context)
        case .closing, .closed:
            break
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch mode {
        case .all:
            if case .active = self.state {
                self.connection.sendCloseNotify()
                self.sendPendingOutput(context: context)
            }
            self.state = .closed
            self.cancelHandshakeTimeout()
            self.stopKeepingRecordBuffers()
            // Flushed writes went out already; unflushed ones die with the channel, as in NIO.
            self.failPendingWrites(ChannelError.ioOnClosedChannel)
            context.close(mode: .all, promise: promise)
        case .output:
            if case .active = self.state {
                self.connection.sendCloseNotify()
                self.sendPendingOutput(context: context)
                self.state = .closing
                self.failPendingWrites(ChannelError.outputClosed)
            }
            context.close(mode: .output, promise: promise)
        case .input:
            context.close(mode: .input, promise: promise)
        }
    }

    /// Encrypts every pending write with one `SSL_write` and sends the result as one buffer.
    private func encryptPendingWrites(context: ChannelHandlerContext) {
        guard let first = self.firstPendingWrite else {
            return
        }
        self.firstPendingWrite = nil
        var firstPromise: EventLoopPromise<Void>? = nil
        var otherPromises: [EventLoopPromise<Void>] = []
        var writeError: TLSError? = nil
        var ciphertext: ByteBuffer

        if self.morePendingWrites.isEmpty {
            guard first.data.readableBytes > 0 else {
                // NIO's encoders send empty writes to carry promises; SSL_write(0) would fail.
                first.promise?.succeed()
                return
            }
            firstPromise = first.promise
            ciphertext = CoalescingBuffer.current.ciphertext.take(
                minimumCapacity: TLSConnection.ciphertextCapacity(forPlaintext: first.data.readableBytes))
            writeError = first.data.withUnsafeReadableBytes { self.connection.write($0, into: &ciphertext) }
        } else {
            // Taken out while in use; its storage is given back below, so a connection that
            // always writes a few pieces per flush (a proxied head and body) allocates no array.
            var more: [PendingWrite] = []
            swap(&more, &self.morePendingWrites)
            defer {
                if more.capacity <= Self.keptPendingWritesCapacity && self.morePendingWrites.isEmpty {
                    more.removeAll(keepingCapacity: true)
                    swap(&more, &self.morePendingWrites)
                }
            }
            var plaintextBytes = first.data.readableBytes
            for write in more {
                plaintextBytes += write.data.readableBytes
            }
            var output = CoalescingBuffer.current.ciphertext.take(
                minimumCapacity: TLSConnection.ciphertextCapacity(forPlaintext: plaintextBytes))
            firstPromise = first.promise
            for write in more {
                if let promise = write.promise {
                    if firstPromise == nil {
                        firstPromise = promise
                    } else {
                        otherPromises.append(promise)
                    }
                }
            }
            writeError = CoalescingBuffer.withBuffer { gathered in
                gathered.writeImmutableBuffer(first.data)
                for write in more {
                    gathered.writeImmutableBuffer(write.data)
                }
                guard gathered.readableBytes > 0 else {
                    return nil
                }
                return gathered.withUnsafeReadableBytes { self.connection.write($0, into: &output) }
            }
            ciphertext = output
        }

        if let writeError {
            firstPromise?.fail(writeError)
            for promise in otherPromises {
                promise.fail(writeError)
            }
            self.fail(context: context, error: writeError)
            return
        }

        guard ciphertext.readableBytes > 0 else {
            // Only empty writes: nothing to send, the promises are done.
            firstPromise?.succeed()
            for promise in otherPromises {
                promise.succeed()
            }
            return
        }
        if let firstPromise, !otherPromises.isEmpty {
            for promise in otherPromises {
                firstPromise.futureResult.cascade(to: promise)
            }
        }
        context.write(self.wrapOutboundOut(ciphertext), promise: firstPromise)
        context.flush()
        CoalescingBuffer.current.ciphertext.recycle(ciphertext)
    }

    /// Sends whatever OpenSSL wrote without application data (handshake messages, alerts,
    /// tickets, close_notify).
    private func sendPendingOutput(context: ChannelHandlerContext) {
        guard self.connection.pendingOutputBytes > 0 else {
            return
        }
        context.writeAndFlush(self.wrapOutboundOut(self.connection.takeOutput()), promise: nil)
    }

    // MARK: - Failure

    /// Sends any alert OpenSSL queued, reports `error` and closes the channel.
    private func fail(context: ChannelHandlerContext, error: TLSError) {
        switch self.state {
        case .closed:
            return
        case .idle, .handshaking, .active, .closing:
            break
        }
        self.state = .closed
        self.cancelHandshakeTimeout()
        self.stopKeepingRecordBuffers()
        self.sendPendingOutput(context: context)
        self.connection.discardInput()
        self.failPendingWrites(error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    /// `error` is made only when a write is pending: boxing an error costs an allocation,
    /// and every connection passes here when it closes.
    private func failPendingWrites(_ makeError: @autoclosure () -> any Error) {
        while let write = self.firstPendingWrite {
            let error = makeError()
            self.firstPendingWrite = nil
            var more: [PendingWrite] = []
            swap(&more, &self.morePendingWrites)
            write.promise?.fail(error)
            for write in more {
                write.promise?.fail(error)
            }
        }
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}
