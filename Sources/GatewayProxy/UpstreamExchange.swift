import GatewayConfig
public import NIOCore
public import NIOHTTP1
import Prometheus

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
/// Retries (the upstream's `retries`): an attempt that failed to connect, was
/// reset before its response head, or answered a listed status is tried again
/// on another target, while nothing of it can have been used: the client saw
/// no response, and either nothing reached the upstream (a connect failure; a
/// body that came meanwhile waits in `pendingBody`) or the method is idempotent
/// and no body byte was sent. Each retry takes from the pool's `RetryBudget`.
/// Every attempt's outcome feeds outlier detection (`UpstreamPool.recordOutcome`).
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
    /// Strong, and let go of when the exchange ends (`finish`): the delegate (the client
    /// connection's handler) holds the exchange too, and always aborts it when it goes away.
    /// A weak reference would give the handler a side table, which makes every retain and
    /// release of it (NIO makes several per event) take the slow path.
    private var delegate: (any UpstreamExchangeDelegate)?

    /// The target of the current attempt; -1 when none could be picked.
    private var target = -1
    /// Targets of earlier attempts, which a retry avoids.
    private var tried: [Int] = []
    private var retriesLeft: Int
    /// GET, HEAD, OPTIONS, PUT, DELETE, TRACE: may be sent twice once the first went out.
    private let idempotent: Bool
    private var connection: UpstreamConnection?
    private var waiterID: Int?
    /// Body that arrived before the connection was ready.
    private var pendingBody: [ByteBuffer] = []
    private var requestEnded = false
    /// Some request body went to an upstream: the request cannot be sent again.
    private var bodySent = false
    /// The request's end went to the current connection (so it may be reused).
    private var endSent = false
    /// The current attempt's response has a status that is retried: it is read
    /// to its end (keeping the connection) and not passed on.
    private var discarding = false
    private var responseStarted = false
    private var responseKeepAlive = false
    private var status = 0
    private var finished = false
    /// The one retry on a new connection after a kept-alive one turned out closed.
    private var retriedStale = false
    private var clientWritable = true
    private let startedAt = NIODeadline.now()
    private var attemptStartedAt = NIODeadline.now()
    private var lastUpstreamActivity = NIODeadline.now()
    private let hashKey: UInt64?

    /// `hashKey`: the request's `consistent_hash` key (`HashRing.hash` of the client IP or header), if any.
    public init(
        pool: UpstreamPool, head: HTTPRequestHead, requestTimeout: TimeAmount,
        delegate: any UpstreamExchangeDelegate, hashKey: UInt64? = nil
    ) {
        self.hashKey = hashKey
        self.pool = pool
        self.head = head
        self.requestTimeout = requestTimeout
        self.hasBody = head.headers.contains(name: "content-length") || head.headers.contains(name: "transfer-encoding")
        self.delegate = delegate
        self.retriesLeft = pool.retries?.attempts ?? 0
        switch head.method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: self.idempotent = true
        default: self.idempotent = false
        }
    }

    /// The label of the target serving (or about to serve) the request; empty when none was picked.
    public var targetLabel: String { self.target >= 0 ? self.pool.targets[self.target].label : "" }

    public var upstreamIsWritable: Bool { self.connection?.isWritable ?? true }

    // MARK: Client side

    /// Picks a target and gets a connection. With no target passing its health
    /// checks the delegate hears `noHealthyTarget` before this returns.
    public func start() {
        self.pool.retryBudget?.recordRequest(now: self.startedAt)
        guard let target = self.pool.pickTarget(hashKey: self.hashKey) else {
            self.fail(.noHealthyTarget)
            return
        }
        self.begin(target)
        self.acquire(fresh: false)
    }

    public func sendBody(_ chunk: ByteBuffer) {
        guard !self.finished else { return }
        if let connection = self.connection, !self.discarding {
            self.bodySent = true
            connection.writeBody(chunk, flush: true)
        } else {
            self.pendingBody.append(chunk)
        }
    }

    public func sendEnd() {
        guard !self.finished else { return }
        self.requestEnded = true
        self.lastUpstreamActivity = .now()
        if let connection = self.connection, !self.discarding {
            self.endSent = true
            connection.writeEnd(flush: true)
        }
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

    private func begin(_ target: Int) {
        self.target = target
        self.pool.inFlight[target] += 1
        self.attemptStartedAt = .now()
    }

    private func acquire(fresh: Bool) {
        self.waiterID = self.pool.acquire(target: self.target, fresh: fresh) { [self] result in
            self.waiterID = nil
            switch result {
            case .success(let connection):
                self.connected(connection)
            case .failure(let failure):
                switch failure {
                case .connectFailed, .connectTimeout:
                    self.pool.recordOutcome(target: self.target, failed: true)
                    if self.pool.retries?.on.connectFailure == true, self.mayRetry(sentAnything: false) {
                        self.retry(after: failure)
                        return
                    }
                default:
                    break
                }
                self.fail(failure)
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
        self.endSent = false
        connection.startServing(self)
        if !self.clientWritable { connection.holdReads() }
        connection.writeHead(self.head)
        for chunk in self.pendingBody {
            connection.writeBody(chunk, flush: false)
        }
        if !self.pendingBody.isEmpty { self.bodySent = true }
        self.pendingBody = []
        if self.requestEnded {
            self.endSent = true
            connection.writeEnd(flush: false)
        }
        connection.flush()
        self.lastUpstreamActivity = .now()
        connection.ensureWatchdog(by: self.lastUpstreamActivity + self.requestTimeout)
        if !connection.isWritable { self.delegate?.upstreamWritabilityChanged(false) }
    }

    // MARK: Upstream side (from UpstreamConnection)

    func upstreamReceived(_ part: HTTPClientResponsePart, from connection: UpstreamConnection) {
        guard connection === self.connection, !self.finished else { return }
        switch part {
        case .head(let head):
            self.status = Int(head.status.code)
            self.responseKeepAlive = head.isKeepAlive
            self.pool.recordOutcome(target: self.target, failed: self.status >= 500)
            if self.pool.retries?.on.statuses.contains(self.status) == true, self.mayRetry(sentAnything: true) {
                self.discarding = true
                return
            }
            self.responseStarted = true
            self.delegate?.upstreamResponseHead(head)
        case .body(let chunk):
            guard !self.discarding else { return }
            self.delegate?.upstreamResponseBody(chunk)
        case .end:
            self.pool.metrics.recordRequest(target: self.target, status: self.status, duration: self.attemptDuration)
            self.connection = nil
            // An early answer (request body not all sent) leaves the connection mid-request: close it.
            self.pool.release(connection, reusable: self.responseKeepAlive && self.endSent)
            if self.discarding {
                self.discarding = false
                self.retry(after: nil)
                return
            }
            let delegate = self.finish()
            delegate?.upstreamResponseEnd()
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
        self.pool.release(connection, reusable: false)
        if self.discarding {
            // The response being dropped broke off: the retry was decided already.
            self.discarding = false
            self.retry(after: nil)
            return
        }
        // A kept-alive connection the upstream closed just as it was picked: try
        // once more on a new one, if nothing of the exchange can have been used.
        // Not the target's fault, so neither an outlier failure nor a retry.
        if !self.responseStarted, !self.hasBody, !self.retriedStale, connection.requestsServed > 1,
            failure == .reset
        {
            self.retriedStale = true
            self.acquire(fresh: true)
            return
        }
        self.pool.recordOutcome(target: self.target, failed: true)
        if failure == .reset, self.pool.retries?.on.reset == true, self.mayRetry(sentAnything: true) {
            self.retry(after: failure)
            return
        }
        self.fail(failure)
    }

    // MARK: Retrying

    /// Whether the attempt that just failed may be made again, taking a retry
    /// from the budget if so. `sentAnything`: the request head reached a connection.
    private func mayRetry(sentAnything: Bool) -> Bool {
        guard self.retriesLeft > 0, !self.responseStarted, !self.finished else { return false }
        if sentAnything {
            guard self.idempotent, !self.bodySent else { return false }
        }
        return self.pool.retryBudget?.withdraw(now: .now()) ?? false
    }

    /// Starts the next attempt, on a target not tried yet when one is in
    /// rotation. `failure` (nil for a dropped response, already counted) is
    /// recorded for the attempt that failed.
    private func retry(after failure: UpstreamFailure?) {
        if let failure { self.recordFailure(failure) }
        self.retriesLeft -= 1
        self.pool.metrics.retries.increment()
        self.tried.append(self.target)
        self.pool.inFlight[self.target] -= 1
        self.target = -1
        self.status = 0
        self.responseKeepAlive = false
        guard let next = self.pool.pickTarget(excluding: self.tried, hashKey: self.hashKey) else {
            self.fail(.noHealthyTarget)
            return
        }
        self.begin(next)
        self.acquire(fresh: false)
    }

    // MARK: Ending

    private func fail(_ failure: UpstreamFailure) {
        guard !self.finished else { return }
        let delegate = self.finish()
        if let connection = self.connection {
            self.connection = nil
            self.pool.release(connection, reusable: false)
        }
        self.recordFailure(failure)
        delegate?.upstreamFailed(failure, responseStarted: self.responseStarted)
    }

    /// Counts a failed attempt under its target (nothing when no target was picked).
    private func recordFailure(_ failure: UpstreamFailure) {
        guard self.target >= 0 else { return }
        let code: String
        switch failure {
        case .connectTimeout, .timeout, .poolExhausted: code = "timeout"
        case .connectFailed, .reset, .invalidResponse, .noHealthyTarget: code = "error"
        }
        self.pool.metrics.recordFailure(target: self.target, code: code, duration: self.attemptDuration)
    }

    private var attemptDuration: Duration {
        .nanoseconds((NIODeadline.now() - self.attemptStartedAt).nanoseconds)
    }

    /// Ends the exchange. Returns the delegate for one last call, and lets go of it.
    @discardableResult
    private func finish() -> (any UpstreamExchangeDelegate)? {
        let delegate = self.delegate
        self.delegate = nil
        self.finished = true
        if self.target >= 0 { self.pool.inFlight[self.target] -= 1 }
        if let waiterID = self.waiterID {
            self.waiterID = nil
            self.pool.cancel(waiterID)
        }
        return delegate
    }

    // MARK: Request timeout

    /// Called by the connection's watchdog (`UpstreamConnection.ensureWatchdog`): fails
    /// the exchange with `.timeout` when the upstream has been silent for the route's
    /// `request_timeout`, or returns when to look again. Time spent waiting for the
    /// client (its body, or its full socket) is not the upstream's and does not count.
    func checkTimeout() -> NIODeadline? {
        guard !self.finished else { return nil }
        let now = NIODeadline.now()
        if !self.requestEnded || !self.clientWritable {
            return now + self.requestTimeout
        }
        let deadline = self.lastUpstreamActivity + self.requestTimeout
        if now >= deadline {
            self.fail(.timeout)
            return nil
        }
        return deadline
    }
}
