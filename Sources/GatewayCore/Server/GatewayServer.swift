import Foundation
public import GatewayConfig
import GatewayTLS
public import Logging
import Prometheus
public import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix

/// Runs the gateway: the traffic listeners (TLS or plain HTTP) and the admin
/// listener, on one event loop group, with graceful drain on shutdown.
///
/// `start()` and `shutdown()` are called from Swift concurrency (the control
/// plane); requests are served entirely on the event loops.
public final class GatewayServer: Sendable {
    public let metrics: GatewayMetrics
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    private let accessLog: AccessLog
    private let readiness = Readiness()
    private let stateBoxes: [ObjectIdentifier: GatewayStateBox]
    private let initialState: GatewayState
    private let running = RunningListeners()

    public init(
        configuration: GatewayConfiguration,
        logger: Logger = Logger(label: "gateway"),
        accessLog: AccessLog = AccessLog(),
        metrics: GatewayMetrics = GatewayMetrics()
    ) throws {
        let state = try GatewayState(configuration: configuration)
        let threads = configuration.eventLoops > 0 ? configuration.eventLoops : System.coreCount
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.logger = logger
        self.accessLog = accessLog
        self.metrics = metrics
        self.initialState = state
        var boxes: [ObjectIdentifier: GatewayStateBox] = [:]
        for loop in self.group.makeIterator() {
            boxes[ObjectIdentifier(loop)] = GatewayStateBox(state: state, eventLoop: loop)
        }
        self.stateBoxes = boxes
    }

    /// The bound address of each traffic listener by name, and of the admin listener.
    public var listenerAddresses: [String: SocketAddress] { self.running.addresses }
    public var adminAddress: SocketAddress? { self.running.adminAddress }

    /// Loads certificates (creating development ones where configured), binds
    /// every listener and the admin listener. Throws on the first failure, naming it.
    public func start() async throws {
        let configuration = self.initialState.configuration
        let quiescing = ServerQuiescingHelper(group: self.group)
        self.running.setQuiescing(quiescing)
        for listener in configuration.listeners {
            let tlsContext = try listener.tls.map { try self.makeTLSContext(for: listener.name, $0) }
            let channel = try await self.bindTrafficListener(
                listener, tlsContext: tlsContext, configuration: configuration, quiescing: quiescing)
            self.running.add(name: listener.name, channel: channel)
            self.logger.info(
                "listening",
                metadata: [
                    "listener": .string(listener.name),
                    "address": .string(Self.describe(channel.localAddress, configured: listener.address)),
                    "tls": .stringConvertible(tlsContext != nil),
                ])
        }
        let admin = try await self.bindAdminListener(configuration.admin.address)
        self.running.setAdmin(admin)
        self.logger.info(
            "admin listening",
            metadata: ["address": .string(Self.describe(admin.localAddress, configured: configuration.admin.address))])
        self.readiness.set(true)
    }

    /// Stops accepting, lets in-flight requests finish (keep-alive responses get
    /// `Connection: close`) until `drainTimeout`, then closes what is left and
    /// stops the event loops.
    public func shutdown(drainTimeout: Duration? = nil) async {
        self.readiness.set(false)
        let timeout = drainTimeout ?? self.initialState.configuration.shutdown.drainTimeout
        if let quiescing = self.running.quiescing {
            let drained = self.group.next().makePromise(of: Void.self)
            quiescing.initiateShutdown(promise: drained)
            let deadline = self.group.next().scheduleTask(in: TimeAmount(timeout)) {
                drained.fail(DrainTimeout())
            }
            do {
                try await drained.futureResult.get()
                self.logger.info("drained all connections")
            } catch {
                self.logger.warning("drain deadline passed; closing the remaining connections")
            }
            deadline.cancel()
        }
        // The helper completes a promise on an event loop when released: release it while the loops run.
        self.running.releaseQuiescing()
        try? await self.running.adminChannel?.close()
        try? await self.group.shutdownGracefully()
    }

    /// `host:port` as configured, with the port actually bound (port 0 picks one).
    private static func describe(_ bound: SocketAddress?, configured: SocketAddressConfiguration) -> String {
        var address = configured
        if let port = bound?.port { address.port = port }
        return address.description
    }

    // MARK: Listeners

    private func makeTLSContext(for listener: String, _ tls: TLSListenerConfiguration) throws -> TLSServerContext {
        for certificate in tls.certificates where certificate.generateIfMissing {
            let directory = (certificate.certificatePath as NSString).deletingLastPathComponent
            let caPath = directory + "/dev-ca.pem"
            let created = try DevelopmentCertificates.ensure(
                caCertificatePath: caPath, caKeyPath: directory + "/dev-ca-key.pem",
                certificatePath: certificate.certificatePath, keyPath: certificate.keyPath)
            if created {
                self.logger.notice(
                    "created a development certificate; trust its CA to connect without -k",
                    metadata: [
                        "certificate": .string(certificate.certificatePath), "ca": .string(caPath),
                    ])
            }
        }
        let context = try TLSServerContext(
            configuration: TLSServerConfiguration(
                certificates: tls.certificates.map {
                    TLSCertificateSource(
                        name: $0.name, certificatePath: $0.certificatePath, keyPath: $0.keyPath,
                        serverNames: $0.serverNames)
                },
                minimumVersion: tls.minVersion == .tls13 ? .tls1_3 : .tls1_2,
                cipherList: tls.ciphers,
                cipherSuites: tls.cipherSuites,
                applicationProtocols: ["http/1.1"],
                sessionTickets: tls.sessionTickets,
                handshakeTimeout: TimeAmount(tls.handshakeTimeout)
            ))
        for certificate in context.certificates {
            self.metrics.certificateExpiry(name: certificate.name).set(certificate.notAfter.timeIntervalSince1970)
        }
        return context
    }

    private func bindTrafficListener(
        _ listener: ListenerConfiguration,
        tlsContext: TLSServerContext?,
        configuration: GatewayConfiguration,
        quiescing: ServerQuiescingHelper
    ) async throws -> any Channel {
        let metrics = self.metrics
        let accessLog = self.accessLog
        let boxes = self.stateBoxes
        let http = configuration.http
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = http.maxHeaderBytes
        limits.maxHeaderFieldSize = http.maxHeaderBytes
        let decoderLimits = limits
        let clock = ConnectionClock(
            idleTimeout: TimeAmount(http.idleTimeout), requestHeadTimeout: TimeAmount(http.requestHeadTimeout),
            bodyTimeout: TimeAmount(http.bodyTimeout))

        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tlsContext {
                        try sync.addHandler(TLSHandler(context: tlsContext))
                        try sync.addHandler(TLSHandshakeObserver(metrics: metrics))
                    }
                    let activity = ReadActivity()
                    try sync.addHandler(
                        ByteToMessageHandler(ObservedHTTPRequestDecoder(limits: decoderLimits, activity: activity)))
                    try sync.addHandler(
                        GatewayHTTPHandler(
                            stateBox: boxes[ObjectIdentifier(channel.eventLoop)]!, metrics: metrics,
                            accessLog: accessLog, activity: activity, clock: clock))
                }
            }
        do {
            return try await bootstrap.bind(host: listener.address.host, port: listener.address.port).get()
        } catch {
            throw GatewayStartupError(message: "cannot listen on \(listener.address) for listener \"\(listener.name)\": \(error)")
        }
    }

    private func bindAdminListener(_ address: SocketAddressConfiguration) async throws -> any Channel {
        let metrics = self.metrics
        let readiness = self.readiness
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(metrics: metrics, readiness: readiness))
                }
            }
        do {
            return try await bootstrap.bind(host: address.host, port: address.port).get()
        } catch {
            throw GatewayStartupError(message: "cannot listen on \(address) for the admin listener: \(error)")
        }
    }
}

/// A listener that could not start, said in a way an operator can act on.
public struct GatewayStartupError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }
}

struct DrainTimeout: Error {}

/// The bound channels, written during start and read by shutdown and tests.
final class RunningListeners: @unchecked Sendable {
    private let lock = NSLock()
    private var channels: [(name: String, channel: any Channel)] = []
    private var admin: (any Channel)?
    private var quiescingHelper: ServerQuiescingHelper?

    func add(name: String, channel: any Channel) { self.lock.withLock { self.channels.append((name, channel)) } }
    func setAdmin(_ channel: any Channel) { self.lock.withLock { self.admin = channel } }
    func setQuiescing(_ helper: ServerQuiescingHelper) { self.lock.withLock { self.quiescingHelper = helper } }
    func releaseQuiescing() { self.lock.withLock { self.quiescingHelper = nil } }

    var addresses: [String: SocketAddress] {
        self.lock.withLock {
            var result: [String: SocketAddress] = [:]
            for (name, channel) in self.channels { result[name] = channel.localAddress }
            return result
        }
    }
    var adminAddress: SocketAddress? { self.lock.withLock { self.admin?.localAddress } }
    var adminChannel: (any Channel)? { self.lock.withLock { self.admin } }
    var quiescing: ServerQuiescingHelper? { self.lock.withLock { self.quiescingHelper } }
}
