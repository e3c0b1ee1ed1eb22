import GatewayConfig
import Logging
import GatewayTLS
import NIOCore
import NIOHTTP1
import NIOPosix

/// Active health checks of one upstream: every `interval`, a `GET path` to each
/// target on the checker's own keep-alive connection, answered within `timeout`
/// by an expected status. `unhealthy_threshold` failures in a row take the
/// target out of rotation on every loop (`UpstreamHealth`), `healthy_threshold`
/// successes bring it back; the first check's verdict counts at once, so a
/// target that is down at start leaves rotation after one interval at most.
///
/// One per `UpstreamGroup` (not per loop), on one event loop; everything but
/// `start` and `stop` runs there. Never on a request's path: requests only read
/// the flags it sets.
final class HealthChecker: @unchecked Sendable {
    // @unchecked: the mutable state below is touched only on `eventLoop`.
    private let configuration: HealthCheckConfiguration
    private let connectTimeout: TimeAmount
    /// An `https` upstream is checked over TLS, verified as its requests are
    /// (a failed handshake closes the connection: the check fails).
    private let tlsContext: TLSClientContext?
    private let tlsServerName: String?
    private let upstream: String
    private let health: UpstreamHealth
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let checks: [TargetCheck]
    private var task: RepeatedTask?
    private var stopped = false

    /// One target's checking state.
    private final class TargetCheck {
        let index: Int
        let target: UpstreamTarget
        var channel: (any Channel)?
        /// Whether a check is waiting for its answer.
        var inFlight = false
        /// The check went out on a connection kept from an earlier check, which
        /// the target may have closed meanwhile: one new connection is tried then.
        var onKeptConnection = false
        var timeout: Scheduled<Void>?
        var successes = 0
        var failures = 0
        /// nil until the first check's verdict.
        var inRotation: Bool?

        init(index: Int, target: UpstreamTarget) {
            self.index = index
            self.target = target
        }
    }

    init(
        upstream: String, configuration: HealthCheckConfiguration, connectTimeout: Duration,
        targets: [UpstreamTarget], health: UpstreamHealth, eventLoop: any EventLoop, logger: Logger,
        tlsContext: TLSClientContext? = nil, tlsServerName: String? = nil
    ) {
        self.tlsContext = tlsContext
        self.tlsServerName = tlsServerName
        self.upstream = upstream
        self.configuration = configuration
        self.connectTimeout = TimeAmount(min(connectTimeout, configuration.timeout))
        self.health = health
        self.eventLoop = eventLoop
        self.logger = logger
        self.checks = targets.enumerated().map { TargetCheck(index: $0, target: $1) }
    }

    /// Starts checking now, then every interval. Any thread.
    func start() {
        self.eventLoop.execute {
            guard !self.stopped, self.task == nil else { return }
            self.task = self.eventLoop.scheduleRepeatedTask(
                initialDelay: .zero, delay: TimeAmount(self.configuration.interval)
            ) { _ in
                self.tick()
            }
        }
    }

    /// Stops checking and closes the checker's connections. Any thread; idempotent.
    func stop() {
        self.eventLoop.execute {
            self.stopped = true
            self.task?.cancel()
            self.task = nil
            for check in self.checks {
                check.timeout?.cancel()
                check.timeout = nil
                check.inFlight = false
                check.channel?.close(promise: nil)
                check.channel = nil
            }
        }
    }

    // MARK: Checking

    private func tick() {
        guard !self.stopped else { return }
        for check in self.checks where !check.inFlight {
            check.inFlight = true
            check.timeout = self.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(self.configuration.timeout)) {
                self.finish(check, healthy: false, reason: "timed out", closing: true)
            }
            if let channel = check.channel, channel.isActive {
                check.onKeptConnection = true
                self.send(check, on: channel)
            } else {
                self.connect(check)
            }
        }
    }

    private func connect(_ check: TargetCheck) {
        check.onKeptConnection = false
        check.channel = nil
        let index = check.index
        let tlsContext = self.tlsContext
        let serverName = self.tlsServerName ?? check.target.host
        let bootstrap = ClientBootstrap(group: self.eventLoop)
            .connectTimeout(self.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(
                            TLSHandler(context: tlsContext, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        HealthCheckResponseHandler { [self] answer in self.answered(index, from: channel, answer) })
                }
            }
        let connected: EventLoopFuture<any Channel>
        if let address = check.target.address {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: check.target.host, port: check.target.port)
        }
        connected.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard check.inFlight, !self.stopped else {
                    channel.close(promise: nil)
                    return
                }
                check.channel = channel
                self.send(check, on: channel)
            case .failure(let error):
                self.finish(check, healthy: false, reason: "connect failed: \(error)", closing: false)
            }
        }
    }

    private func send(_ check: TargetCheck, on channel: any Channel) {
        var headers = HTTPHeaders()
        headers.add(name: "host", value: check.target.label)
        headers.add(name: "user-agent", value: "swift-api-gateway-health-check")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: self.configuration.path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    private func answered(_ index: Int, from channel: any Channel, _ answer: HealthCheckResponseHandler.Answer) {
        let check = self.checks[index]
        guard check.inFlight, check.channel === channel else { return }
        switch answer {
        case .response(let status, let keepAlive):
            if !keepAlive {
                check.channel = nil
                channel.close(promise: nil)
            }
            let healthy = self.configuration.expectedStatus.contains(status)
            self.finish(check, healthy: healthy, reason: "status \(status)", closing: false)
        case .closed:
            check.channel = nil
            if check.onKeptConnection {
                // Closed by the target while idle: not an answer. Once more on a new connection.
                self.connect(check)
            } else {
                self.finish(check, healthy: false, reason: "connection closed", closing: false)
            }
        }
    }

    private func finish(_ check: TargetCheck, healthy: Bool, reason: String, closing: Bool) {
        guard check.inFlight else { return }
        check.inFlight = false
        check.timeout?.cancel()
        check.timeout = nil
        if closing {
            check.channel?.close(promise: nil)
            check.channel = nil
        }
        guard !self.stopped else { return }
        if healthy {
            check.successes += 1
            check.failures = 0
        } else {
            check.failures += 1
            check.successes = 0
        }
        let verdict: Bool
        switch check.inRotation {
        case nil: verdict = healthy
        case true?: verdict = check.failures < self.configuration.unhealthyThreshold
        case false?: verdict = check.successes >= self.configuration.healthyThreshold
        }
        guard verdict != check.inRotation else { return }
        let first = check.inRotation == nil
        check.inRotation = verdict
        self.health.setFailingChecks(check.index, !verdict)
        if !(first && verdict) {
            self.logger.log(
                level: verdict ? .info : .warning, verdict ? "upstream target healthy" : "upstream target unhealthy",
                metadata: [
                    "upstream": .string(self.upstream), "target": .string(check.target.label),
                    "check": .string(reason),
                ])
        }
    }
}

/// The top of a health-check connection: reports each response's status (its
/// body is ignored) and the connection's end.
private final class HealthCheckResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    enum Answer {
        case response(status: Int, keepAlive: Bool)
        case closed
    }

    private let onAnswer: (Answer) -> Void
    private var head: HTTPResponseHead?

    init(_ onAnswer: @escaping (Answer) -> Void) {
        self.onAnswer = onAnswer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.onAnswer(.response(status: Int(head.status.code), keepAlive: head.isKeepAlive))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.onAnswer(.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
