public import NIOCore
public import NIOHTTP1

/// What the client side (the gateway's HTTP handler) hears from an exchange.
/// Every call is made on the connection's event loop.
public protocol UpstreamExchangeDelegate: AnyObject {
    func upstreamResponseHead(_ head: HTTPResponseHead)
    func upstreamResponseBody(_ chunk: ByteBuffer)
    /// The response is complete; the upstream connection is already back in its pool.
    func upstreamResponseEnd()
    /// The end of one read from the upstream: time to flush to the client.
    func upstreamReadComplete()
    /// No (complete) response will come. Before the head the client gets an
    /// error answer; after it, its connection has to close.
    func upstreamFailed(_ failure: UpstreamFailure, responseStarted: Bool)
    /// Whether the upstream connection takes more request body now: the client
    /// side stops reading while it does not.
    func upstreamWritabilityChanged(_ writable: Bool)
}

/// One proxied request: gets a connection from this loop's pool, sends the
/// request head and streams the body as the client sends it, passes the
/// response parts to the delegate, and gives the connection back (or closes it)
/// at the end. Loop-bound; not thread-safe.
///
/// Backpressure: the client side calls `clientWritabilityChanged(false)` when
/// its socket is full, and the exchange stops reading from the upstream until
/// it is writable again; the other way round goes through
/// `UpstreamExchangeDelegate.upstreamWritabilityChanged`.
public final class UpstreamExchange {
    private let pool: UpstreamPool
    private let head: HTTPRequestHead
    private let requestTimeout: TimeAmount
    /// Whether the request has a body (framed by length or chunks): such a
    /// request is not retried, since the body may already be gone.
    private let hasBody: Bool
    private weak var delegate: (any UpstreamExchangeDelegate)?

    private var target = 0
    private var connection: UpstreamConnection?
    private var waiterID: Int?
    /// Body that arrived before the connection was ready.
    private var pendingBody: [ByteBuffer] = []
    private var requestEnded = false
    private var responseStarted = false
    private var responseKeepAlive = false
    private var status = 0
    private var finished = false
    private var retried = false
    private var clientWritable = true
    private let startedAt = NIODeadline.now()
    private var lastUpstreamActivity = NIODeadline.now()
    private var timer: Scheduled<Void>?

    public init(
        pool: UpstreamPool, head: HTTPRequestHead, requestTimeout: TimeAmount,
        delegate: any UpstreamExchangeDelegate
    ) {
        self.pool = pool
        self.head = head
        self.requestTimeout = requestTimeout
        self.hasBody = head.headers.contains(name: "content-length") || head.headers.contains(name: "transfer-encoding")
        self.delegate = delegate
    }

    /// The label of the target serving (or about to serve) the request.
    public var targetLabel: String { self.pool.targets[self.target].label }

    public var upstreamIsWritable: Bool { self.connection?.isWritable ?? true }

    // MARK: Client side

    public func start() {
        self.target = self.pool.pickTarget()
        self.pool.inFlight[self.target] += 1
        self.acquire(fresh: false)
    }

    public func sendBody(_ chunk: ByteBuffer) {
        guard !self.finished else { return }
        if let connection = self.connection {
            connection.write(.body(.byteBuffer(chunk)), flush: true)
        } else {
            self.pendingBody.append(chunk)
        }
    }

    public func sendEnd() {
        guard !self.finished else { return }
        self.requestEnded = true
        self.lastUpstreamActivity = .now()
        self.connection?.write(.end(nil), flush: true)
    }

    /// The client's socket filled up (false) or drained (true).
    public func clientWritabilityChanged(_ writable: Bool) {
        self.clientWritable = writable
        guard let connection = self.connection else { return }
        if writable {
            self.lastUpstreamActivity = .now()
            connection.resumeReads()
        } else {
            connection.holdReads()
        }
    }

    /// The client went away, or its request was refused midway: drop the
    /// upstream connection (its state is unknown) without telling the delegate.
    public func abort() {
        guard !self.finished else { return }
        self.finish()
        if let connection = self.connection {
            self.connection = nil
            self.pool.release(connection, reusable: false)
        }
    }

    // MARK: Connection

    private func acquire(fresh: Bool) {
        self.waiterID = self.pool.acquire(target: self.target, fresh: fresh) { [self] result in
            self.waiterID = nil
            switch result {
            case .success(let connection): self.connected(connection)
            case .failure(let failure): self.fail(failure)
            }
        }
    }

    private func connected(_ connection: UpstreamConnection) {
        guard !self.finished else {
            // Aborted while connecting: the connection is clean, keep it.
            self.pool.release(connection, reusable: true)
            return
        }
        if connection.target != self.target {
            // A waiter takes whichever connection frees up first.
            self.pool.inFlight[self.target] -= 1
            self.target = connection.target
            self.pool.inFlight[self.target] += 1
        }
        self.connection = connection
        connection.startServing(self)
        if !self.clientWritable { connection.holdReads() }
        connection.write(.head(self.head), flush: false)
        for chunk in self.pendingBody {
            connection.write(.body(.byteBuffer(chunk)), flush: false)
        }
        self.pendingBody = []
        if self.requestEnded { connection.write(.end(nil), flush: false) }
        connection.flush()
        self.lastUpstreamActivity = .now()
        self.scheduleTimer(at: self.lastUpstreamActivity + self.requestTimeout)
        if !connection.isWritable { self.delegate?.upstreamWritabilityChanged(false) }
    }

    // MARK: Upstream side (from UpstreamConnection)

    func upstreamReceived(_ part: HTTPClientResponsePart, from connection: UpstreamConnection) {
        guard connection === self.connection, !self.finished else { return }
        switch part {
        case .head(let head):
            self.responseStarted = true
            self.status = Int(head.status.code)
            self.responseKeepAlive = head.isKeepAlive
            self.delegate?.upstreamResponseHead(head)
        case .body(let chunk):
            self.delegate?.upstreamResponseBody(chunk)
        case .end:
            self.finish()
            self.pool.metrics.recordRequest(
                target: self.target, status: self.status,
                duration: .nanoseconds((NIODeadline.now() - self.startedAt).nanoseconds))
            self.connection = nil
            // An early answer (request body not all sent) leaves the connection mid-request: close it.
            self.pool.release(connection, reusable: self.responseKeepAlive && self.requestEnded)
            self.delegate?.upstreamResponseEnd()
        }
    }

    func upstreamReadComplete(from connection: UpstreamConnection) {
        guard connection === self.connection, !self.finished else { return }
        self.lastUpstreamActivity = .now()
        self.delegate?.upstreamReadComplete()
    }

    func upstreamWritabilityChanged(_ writable: Bool, from connection: UpstreamConnection) {
        guard connection === self.connection, !self.finished else { return }
        self.delegate?.upstreamWritabilityChanged(writable)
    }

    func upstreamFailed(_ failure: UpstreamFailure, from connection: UpstreamConnection) {
        guard connection === self.connection, !self.finished else { return }
        self.connection = nil
        // A kept-alive connection the upstream closed just as it was picked: try
        // once more on a new one, if nothing of the exchange can have been used.
        if !self.responseStarted, !self.hasBody, !self.retried, connection.requestsServed > 1,
            failure == .reset
        {
            self.retried = true
            self.timer?.cancel()
            self.timer = nil
            self.pool.release(connection, reusable: false)
            self.acquire(fresh: true)
            return
        }
        self.pool.release(connection, reusable: false)
        self.fail(failure)
    }

    // MARK: Ending

    private func fail(_ failure: UpstreamFailure) {
        guard !self.finished else { return }
        self.finish()
        if let connection = self.connection {
            self.connection = nil
            self.pool.release(connection, reusable: false)
        }
        let code: String
        switch failure {
        case .connectTimeout, .timeout, .poolExhausted: code = "timeout"
        case .connectFailed, .reset, .invalidResponse: code = "error"
        }
        self.pool.metrics.recordFailure(
            target: self.target, code: code, duration: .nanoseconds((NIODeadline.now() - self.startedAt).nanoseconds))
        self.delegate?.upstreamFailed(failure, responseStarted: self.responseStarted)
    }

    private func finish() {
        self.finished = true
        self.pool.inFlight[self.target] -= 1
        self.timer?.cancel()
        self.timer = nil
        if let waiterID = self.waiterID {
            self.waiterID = nil
            self.pool.cancel(waiterID)
        }
    }

    // MARK: Request timeout

    /// One task per exchange, moved forward while the upstream is active. Time
    /// spent waiting for the client (its body, or its full socket) is not the
    /// upstream's and does not count.
    private func scheduleTimer(at deadline: NIODeadline) {
        self.timer = self.pool.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.timer = nil
            self.checkTimeout()
        }
    }

    private func checkTimeout() {
        guard !self.finished else { return }
        let now = NIODeadline.now()
        if !self.requestEnded || !self.clientWritable {
            self.scheduleTimer(at: now + self.requestTimeout)
            return
        }
        let deadline = self.lastUpstreamActivity + self.requestTimeout
        if now >= deadline {
            self.fail(.timeout)
        } else {
            self.scheduleTimer(at: deadline)
        }
    }
}
