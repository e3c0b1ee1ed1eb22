import GatewayConfig
import GatewayTLS
public import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import Synchronization

/// The keep-alive connections of one upstream on one event loop, so a request
/// never leaves its loop and the pool needs no lock: every method must be
/// called on `eventLoop`.
///
/// Bounded by `max_connections_per_loop` (busy, idle and connecting together).
/// When all are busy a request waits for one (FIFO) up to `connect_timeout`.
/// Idle connections are reused newest first and closed after `idle_timeout` by
/// one sweep task per pool, not a timer per connection.
public final class UpstreamPool {
    public let eventLoop: any EventLoop
    let upstreamName: String
    let targets: [UpstreamTarget]
    private let connectTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let maxConnections: Int
    private var balancer: LoadBalancer
    /// The `consistent_hash` ring; nil for the other algorithms.
    private let ring: HashRing?
    var metrics: UpstreamPoolMetrics
    /// Shared with the group's other pools and its health checker.
    let health: UpstreamHealth
    private let outlierDetection: OutlierDetectionConfiguration?
    /// Failures in a row per target, on this loop (outlier detection).
    private var consecutiveFailures: [Int]
    let retries: RetryConfiguration?
    var retryBudget: RetryBudget?

    /// Idle connections per target, most recently used last.
    private var idle: [[UpstreamConnection]]
    /// Requests each target is serving from this loop (least-request reads it).
    var inFlight: [Int]
    /// Connections open or opening.
    private(set) var openConnections = 0
    private var waiters = CircularBuffer<Waiter>()
    private var nextWaiterID = 0
    private var sweep: Scheduled<Void>?
    /// Set when the upstream's configuration went away in a reload.
    private var retired = false
    private let groupOpenConnections: OpenConnectionCount
    /// Set for an `https` upstream, with the name to send as SNI and verify (nil: each target's host).
    private let tlsContext: TLSClientContext?
    private let tlsServerName: String?

    typealias Acquired = (Result<UpstreamConnection, UpstreamFailure>) -> Void

    private struct Waiter {
        var id: Int
        var target: Int
        var callback: Acquired
        var timeout: Scheduled<Void>
    }

    init(
        configuration: UpstreamConfiguration, targets: [UpstreamTarget], eventLoop: any EventLoop,
        metrics: any UpstreamMetricsSource, openConnections: OpenConnectionCount, health: UpstreamHealth,
        tlsContext: TLSClientContext? = nil
    ) {
        self.groupOpenConnections = openConnections
        self.tlsContext = tlsContext
        self.tlsServerName = configuration.tls?.serverName
        self.health = health
        self.outlierDetection = configuration.outlierDetection
        self.consecutiveFailures = Array(repeating: 0, count: targets.count)
        self.retries = configuration.retries
        self.retryBudget = configuration.retries.map {
            RetryBudget(percent: $0.budgetPercent, minPerSecond: $0.minRetriesPerSecond)
        }
        self.eventLoop = eventLoop
        self.upstreamName = configuration.name
        self.targets = targets
        self.connectTimeout = TimeAmount(configuration.connectTimeout)
        self.idleTimeout = TimeAmount(configuration.idleTimeout)
        self.maxConnections = configuration.maxConnectionsPerLoop
        self.balancer = LoadBalancer(weights: targets.map(\.weight), algorithm: configuration.loadBalancing)
        self.ring =
            configuration.loadBalancing == .consistentHash
            ? HashRing(labels: targets.map(\.label), weights: targets.map(\.weight)) : nil
        self.metrics = UpstreamPoolMetrics(
            source: metrics, upstream: configuration.name, targetNames: targets.map(\.label))
        self.idle = Array(repeating: [], count: targets.count)
        self.inFlight = Array(repeating: 0, count: targets.count)
    }

    // MARK: Picking and acquiring

    /// The target for the next attempt, by the upstream's load-balancing
    /// algorithm, among the targets in rotation and not in `tried` (a retry goes
    /// to another target when there is one). Nil when no target passes its
    /// active checks: the request gets 503 at once.
    ///
    /// Panic mode: when every target that passes its checks is ejected (passive
    /// outlier detection only), the pick ignores ejection rather than refuse
    /// everything, as Envoy does below its panic threshold: ejection is a guess
    /// from past requests, a failed check is a fresh answer.
    func pickTarget(excluding tried: [Int] = [], hashKey: UInt64? = nil) -> Int? {
        if let ring = self.ring, let hashKey {
            // The key's owner while it is in rotation; else the next owner on the ring.
            let health = self.health
            return ring.target(for: hashKey) { health.isInRotation($0) && !tried.contains($0) }
                ?? ring.target(for: hashKey) { health.passesChecks($0) && !tried.contains($0) }
                ?? ring.target(for: hashKey, where: health.passesChecks)
        }
        if tried.isEmpty, self.health.allInRotation {
            return self.balancer.pick(inFlight: self.inFlight)
        }
        let health = self.health
        if let target = self.balancer.pick(
            inFlight: self.inFlight, where: { health.isInRotation($0) && !tried.contains($0) })
        {
            return target
        }
        if !tried.isEmpty, let target = self.balancer.pick(inFlight: self.inFlight, where: health.isInRotation) {
            return target
        }
        return self.balancer.pick(inFlight: self.inFlight, where: { health.passesChecks($0) && !tried.contains($0) })
            ?? self.balancer.pick(inFlight: self.inFlight, where: health.passesChecks)
    }

    // MARK: Outlier detection

    /// The outcome of one attempt on `target`: a connect failure, reset,
    /// invalid response or 5xx is a failure, any other response a success.
    /// `consecutive_failures` in a row on this loop eject the target from every loop.
    func recordOutcome(target: Int, failed: Bool) {
        guard let outlierDetection = self.outlierDetection else { return }
        guard failed else {
            self.consecutiveFailures[target] = 0
            return
        }
        self.consecutiveFailures[target] += 1
        guard self.consecutiveFailures[target] >= outlierDetection.consecutiveFailures else { return }
        self.consecutiveFailures[target] = 0
        guard let time = self.health.eject(target, now: .now()) else { return }
        self.metrics.recordEjection(target: target)
        // The loop that ejected ends the ejection; the task holds only the shared health.
        let health = self.health
        self.eventLoop.scheduleTask(in: TimeAmount(time)) {
            health.endEjection(target, now: .now())
        }
    }

    /// Calls `callback` (on this loop, possibly before returning) with an idle
    /// connection to `target`, a new one, or a failure. With `fresh`, an idle
    /// connection is not reused (a retry after a reused one failed).
    /// Returns an id for `cancel(_:)` when the request had to wait, else nil.
    @discardableResult
    func acquire(target: Int, fresh: Bool = false, _ callback: @escaping Acquired) -> Int? {
        self.eventLoop.assertInEventLoop()
        if !fresh, let connection = self.takeIdle(target: target) {
            callback(.success(connection))
            return nil
        }
        if self.openConnections >= self.maxConnections, let victim = self.oldestIdle() {
            // Full, but with an idle connection to another target: trade it for one to this target.
            self.removeIdle(victim)
            victim.close()
        }
        if self.openConnections < self.maxConnections {
            self.connect(target: target, callback)
            return nil
        }
        let id = self.nextWaiterID
        self.nextWaiterID += 1
        let timeout = self.eventLoop.assumeIsolated().scheduleTask(in: self.connectTimeout) { [self] in
            self.waiterTimedOut(id)
        }
        self.waiters.append(Waiter(id: id, target: target, callback: callback, timeout: timeout))
        return id
    }

    /// Forgets a waiting request (its client went away).
    func cancel(_ id: Int) {
        guard let index = self.waiters.firstIndex(where: { $0.id == id }) else { return }
        self.waiters.remove(at: index).timeout.cancel()
    }

    private func waiterTimedOut(_ id: Int) {
        guard let index = self.waiters.firstIndex(where: { $0.id == id }) else { return }
        self.waiters.remove(at: index).callback(.failure(.poolExhausted))
    }

    private func takeIdle(target: Int) -> UpstreamConnection? {
        while let connection = self.idle[target].popLast() {
            self.metrics.idleConnections.decrement()
            guard connection.isOpen else {
                self.metrics.activeConnections.increment()  // balanced by connectionClosed
                continue
            }
            self.metrics.activeConnections.increment()
            return connection
        }
        return nil
    }

    private func oldestIdle() -> UpstreamConnection? {
        var oldest: UpstreamConnection?
        for connections in self.idle {
            if let first = connections.first, first.idleSince < (oldest?.idleSince ?? .distantFuture) {
                oldest = first
            }
        }
        return oldest
    }

    private func removeIdle(_ connection: UpstreamConnection) {
        guard let index = self.idle[connection.target].firstIndex(where: { $0 === connection }) else { return }
        self.idle[connection.target].remove(at: index)
        self.metrics.idleConnections.decrement()
        // Closing it will report connectionClosed as a busy one: count it so.
        self.metrics.activeConnections.increment()
    }

    private func connect(target: Int, _ callback: @escaping Acquired) {
        self.openConnections += 1
        self.groupOpenConnections.value.add(1, ordering: .relaxed)
        self.metrics.activeConnections.increment()
        let connection = UpstreamConnection(target: target, pool: self)
        let handler = NIOLoopBound(connection, eventLoop: self.eventLoop)
        let destination = self.targets[target]
        let tls = self.tlsContext.map { context in
            NIOLoopBound(
                (context, UpstreamHandshakeGate(promise: self.eventLoop.makePromise())), eventLoop: self.eventLoop)
        }
        let serverName = self.tlsServerName ?? destination.host
        let bootstrap = ClientBootstrap(group: self.eventLoop)
            .connectTimeout(self.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        // TLS first: the HTTP codecs above it see plaintext. The gate holds
                        // back a failed handshake's error and close from the connection.
                        try sync.addHandler(TLSHandler(context: tls.value.0, serverHostname: serverName))
                        try sync.addHandler(tls.value.1)
                    }
                    // No encoder and no outbound header validation: the connection writes
                    // request bytes itself (client headers were checked by the request parser,
                    // configured ones by the config decoder).
                    try sync.addHandler(ByteToMessageHandler(handler.value.responses))
                    try sync.addHandler(handler.value)
                }
            }
        var connected: EventLoopFuture<any Channel>
        if let address = destination.address {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: destination.host, port: destination.port)
        }
        if let tls {
            // Connected means handshaken: a bad certificate or name is a connect failure.
            let handshake = tls.value.1.promise.futureResult
            connected = connected.flatMap { channel in
                handshake.map { channel }.flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw error
                }
            }
            // A connect that failed before the handshake began must still complete the gate's promise.
            connected.whenFailure { error in tls.value.1.promise.fail(error) }
        }
        connected.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success:
                if self.retired { connection.close() }
                callback(.success(connection))
            case .failure(let error):
                self.openConnections -= 1
                self.groupOpenConnections.value.subtract(1, ordering: .relaxed)
                self.metrics.activeConnections.decrement()
                let failure: UpstreamFailure
                if let channelError = error as? ChannelError, case .connectTimeout = channelError {
                    failure = .connectTimeout
                } else if let tlsError = error as? TLSError, tlsError.kind == .handshakeTimeout {
                    failure = .connectTimeout
                } else {
                    failure = .connectFailed(String(describing: error))
                }
                callback(.failure(failure))
                self.serveWaiters()
            }
        }
    }

    // MARK: Returning

    /// Takes a connection back after a request. A reusable one goes to a waiting
    /// request or the idle list; any other is closed.
    func release(_ connection: UpstreamConnection, reusable: Bool) {
        self.eventLoop.assertInEventLoop()
        connection.exchange = nil
        connection.resumeReads()
        guard reusable, connection.isOpen, !self.retired else {
            connection.close()
            return
        }
        if !self.waiters.isEmpty {
            let waiter = self.waiters.removeFirst()
            waiter.timeout.cancel()
            // The waiter takes what frees up first, whichever target it is to.
            waiter.callback(.success(connection))
            return
        }
        self.metrics.activeConnections.decrement()
        self.metrics.idleConnections.increment()
        connection.idleSince = .now()
        self.idle[connection.target].append(connection)
        self.scheduleSweep()
    }

    /// The channel of `connection` closed (by either side).
    func connectionClosed(_ connection: UpstreamConnection) {
        if let index = self.idle[connection.target].firstIndex(where: { $0 === connection }) {
            self.idle[connection.target].remove(at: index)
            self.metrics.idleConnections.decrement()
        } else {
            self.metrics.activeConnections.decrement()
        }
        self.openConnections -= 1
        self.groupOpenConnections.value.subtract(1, ordering: .relaxed)
        self.serveWaiters()
    }

    private func serveWaiters() {
        guard !self.waiters.isEmpty, self.openConnections < self.maxConnections, !self.retired else { return }
        let waiter = self.waiters.removeFirst()
        waiter.timeout.cancel()
        self.connect(target: waiter.target, waiter.callback)
    }

    // MARK: Adoption across a reload

    /// A reload changed the upstream but kept some of its targets: this new pool
    /// takes over `old`'s idle connections to targets still here (same host and
    /// port), newest first, up to `max_connections_per_loop`. Both pools are on
    /// this loop, so nothing is locked; `old` keeps its busy connections and the
    /// idle ones to targets that went, and retires them as before.
    func adoptIdle(from old: UpstreamPool) {
        self.eventLoop.assertInEventLoop()
        precondition(old.eventLoop === self.eventLoop, "pools adopt only on their own loop")
        var candidates: [(connection: UpstreamConnection, target: Int)] = []
        for (oldTarget, connections) in old.idle.enumerated() {
            let kept = old.targets[oldTarget]
            guard let target = self.targets.firstIndex(where: { $0.host == kept.host && $0.port == kept.port })
            else { continue }
            candidates += connections.filter(\.isOpen).map { ($0, target) }
        }
        candidates.sort { $0.connection.idleSince > $1.connection.idleSince }
        for (connection, target) in candidates.prefix(max(self.maxConnections - self.openConnections, 0)) {
            guard let index = old.idle[connection.target].firstIndex(where: { $0 === connection }) else { continue }
            old.idle[connection.target].remove(at: index)
            old.metrics.idleConnections.decrement()
            old.openConnections -= 1
            old.groupOpenConnections.value.subtract(1, ordering: .relaxed)
            connection.move(to: self, target: target)
            self.idle[target].append(connection)
            self.metrics.idleConnections.increment()
            self.openConnections += 1
            self.groupOpenConnections.value.add(1, ordering: .relaxed)
        }
        for target in self.idle.indices where self.idle[target].count > 1 {
            self.idle[target].sort { $0.idleSince < $1.idleSince }  // most recently used last
        }
        if self.idle.contains(where: { !$0.isEmpty }) { self.scheduleSweep() }
    }

    // MARK: Idle timeout and retirement

    private func scheduleSweep() {
        guard self.sweep == nil else { return }
        let interval = TimeAmount.nanoseconds(max(self.idleTimeout.nanoseconds / 2, 1_000_000))
        self.sweep = self.eventLoop.assumeIsolated().scheduleTask(in: interval) { [self] in
            self.sweep = nil
            self.closeIdle(olderThan: .now() - self.idleTimeout)
            if self.idle.contains(where: { !$0.isEmpty }) { self.scheduleSweep() }
        }
    }

    private func closeIdle(olderThan cutoff: NIODeadline) {
        for target in self.idle.indices {
            // Oldest first: stop at the first one still fresh.
            while let oldest = self.idle[target].first, oldest.idleSince <= cutoff {
                self.idle[target].removeFirst()
                self.metrics.idleConnections.decrement()
                self.metrics.activeConnections.increment()  // balanced by connectionClosed
                oldest.close()
            }
        }
    }

    /// The upstream left the configuration: close what is idle, and close the
    /// rest as their requests finish.
    func retire() {
        self.retired = true
        self.closeIdle(olderThan: .distantFuture)
        self.sweep?.cancel()
        self.sweep = nil
        while !self.waiters.isEmpty {
            let waiter = self.waiters.removeFirst()
            waiter.timeout.cancel()
            waiter.callback(.failure(.poolExhausted))
        }
    }
}

/// Between `TLSHandler` and the HTTP codecs of an HTTPS upstream connection:
/// completes `promise` when the handshake does, and until then keeps errors and
/// the close from the `UpstreamConnection` above (the pool counts a failed
/// handshake as a failed connect, not as a connection that closed).
final class UpstreamHandshakeGate: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let promise: EventLoopPromise<Void>
    private var open = false
    private var failure: (any Error)?

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !self.open, let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            self.open = true
            self.promise.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard self.open else {
            if self.failure == nil { self.failure = error }
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard self.open else {
            self.promise.fail(self.failure ?? HandshakeNotCompleted())
            return
        }
        context.fireChannelInactive()
    }
}

struct HandshakeNotCompleted: Error, CustomStringConvertible {
    var description: String { "connection closed before the TLS handshake completed" }
}

/// Why a request got no (complete) response from its upstream.
public enum UpstreamFailure: Error, Sendable, Equatable {
    /// The TCP connection could not be made (refused, unreachable, DNS).
    case connectFailed(String)
    /// Every target of the upstream fails its active health checks.
    case noHealthyTarget
    case connectTimeout
    /// Every connection of this loop is busy and none freed up in time.
    case poolExhausted
    /// The upstream closed or reset the connection mid-exchange.
    case reset
    /// The upstream's bytes are not a valid HTTP/1.1 response.
    case invalidResponse
    /// No response head (or no more body) within the route's request timeout.
    case timeout
}
