import Foundation
import GatewayTLS
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// TLSHandler on real loopback sockets, against itself, `openssl s_client` and `curl`.
@Suite("TLS over loopback sockets", .serialized)
struct LoopbackTests {
    @Test("a NIOPosix client and server exchange data through TLSHandler")
    func nioClientAndServer() async throws {
        let certificates = try CertificateFixture()
        let server = try TestTLSServer(context: try certificates.serverContext(), responder: .echo)
        defer { server.shutdown() }

        let clientContext = try certificates.clientContext()
        let payloadSize = 300_000
        let received = server.group.next().makePromise(of: ByteBuffer.self)
        let handshake = server.group.next().makePromise(of: TLSHandshakeInfo.self)
        let channel = try await ClientBootstrap(group: server.group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        TLSHandler(context: clientContext, serverHostname: "localhost"),
                        CollectingHandler(expectedBytes: payloadSize, received: received, handshake: handshake),
                    ])
                }
            }
            .connect(host: "127.0.0.1", port: server.port)
            .get()

        try await channel.writeAndFlush(ByteBuffer(repeating: 0x7A, count: payloadSize))
        let info = try await handshake.futureResult.get()
        #expect(info.version == "TLSv1.3")
        #expect(info.applicationProtocol == "http/1.1")
        let echoed = try await received.futureResult.get()
        #expect(echoed == ByteBuffer(repeating: 0x7A, count: payloadSize))

        try await channel.close()
        #expect(server.log.errors.isEmpty)
    }

    @Test("openssl s_client: TLS 1.1 is refused, TLS 1.2 and 1.3 connect and verify")
    func opensslClient() throws {
        let certificates = try CertificateFixture()
        let server = try TestTLSServer(context: try certificates.serverContext(), responder: .echo)
        defer { server.shutdown() }
        let common = [
            "s_client", "-connect", "127.0.0.1:\(server.port)", "-servername", "localhost",
            "-CAfile", certificates.caCertificatePath, "-verify_return_error",
        ]

        // OpenSSL 3 allows TLS 1.1 only at security level 0; lower it so that the server refuses.
        let old = try runProcess("/usr/bin/openssl", common + ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        #expect(old.status != 0)
        #expect(old.output.contains("protocol version"), "\(old.output)")

        let tls12 = try runProcess("/usr/bin/openssl", common + ["-tls1_2"])
        #expect(tls12.status == 0, "\(tls12.output)")
        #expect(tls12.output.contains("Verify return code: 0 (ok)"))
        #expect(tls12.output.contains("Protocol  : TLSv1.2") || tls12.output.contains("Protocol: TLSv1.2"))

        let tls13 = try runProcess("/usr/bin/openssl", common + ["-tls1_3", "-alpn", "h2,http/1.1"])
        #expect(tls13.status == 0, "\(tls13.output)")
        #expect(tls13.output.contains("TLSv1.3"))
        #expect(tls13.output.contains("ALPN protocol: http/1.1"))

        #expect(server.log.waitFor { !$0.errors.isEmpty })
        let failures = server.log.errors
        #expect(
            failures.contains { $0.contains("handshake failed") && $0.contains("unsupported protocol") }, "\(failures)")
    }

    @Test("a TLS 1.2 session is resumed and reported as reused", arguments: [true, false])
    func sessionResumption(sessionTickets: Bool) throws {
        let certificates = try CertificateFixture()
        let context = try TLSServerContext(
            configuration: TLSServerConfiguration(certificates: [certificates.source], sessionTickets: sessionTickets)
        )
        let server = try TestTLSServer(context: context, responder: .echo)
        defer { server.shutdown() }
        let session = certificates.directory.file("session.pem")
        let common = [
            "s_client", "-connect", "127.0.0.1:\(server.port)", "-servername", "localhost",
            "-CAfile", certificates.caCertificatePath, "-verify_return_error", "-tls1_2",
        ]

        let first = try runProcess("/usr/bin/openssl", common + ["-sess_out", session])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("TLS session ticket:") == sessionTickets, "\(first.output)")
        let second = try runProcess("/usr/bin/openssl", common + ["-sess_in", session])
        #expect(second.status == 0, "\(second.output)")
        // Without tickets the server's session-id cache resumes it.
        #expect(second.output.contains("Reused, TLSv1.2"), "\(second.output)")
        #expect(server.log.waitFor { $0.handshakes.count == 2 })
        #expect(server.log.handshakes.map(\.sessionReused) == [false, true])
    }

    @Test("curl --cacert gets a response over HTTPS")
    func curlClient() throws {
        let certificates = try CertificateFixture()
        let server = try TestTLSServer(context: try certificates.serverContext(), responder: .http)
        defer { server.shutdown() }

        let result = try runProcess(
            "/usr/bin/curl",
            [
                "-sS", "--http1.1", "--max-time", "10",
                "--cacert", certificates.caCertificatePath,
                "--resolve", "localhost:\(server.port):127.0.0.1",
                "-w", " %{http_code} %{ssl_verify_result}",
                "https://localhost:\(server.port)/hello",
            ]
        )
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "hello from TLS 200 0")
        #expect(server.log.errors.isEmpty, "\(server.log.errors)")
        #expect(server.log.handshakes.first?.applicationProtocol == "http/1.1")
    }

    @Test("curl without the CA refuses the development certificate")
    func curlWithoutTrust() throws {
        let certificates = try CertificateFixture()
        let server = try TestTLSServer(context: try certificates.serverContext(), responder: .http)
        defer { server.shutdown() }

        // A CA that did not sign the server's certificate.
        let stranger = try CertificateFixture(directory: certificates.directory, prefix: "stranger-")
        let result = try runProcess(
            "/usr/bin/curl",
            [
                "-sS", "--max-time", "10", "--cacert", stranger.caCertificatePath,
                "--resolve", "localhost:\(server.port):127.0.0.1",
                "https://localhost:\(server.port)/",
            ]
        )
        #expect(result.status == 60, "\(result.output)")  // CURLE_PEER_FAILED_VERIFICATION
    }
}

// MARK: - A TLS server on port 0

/// What the test server saw, from its event loop threads.
final class ServerLog: Sendable {
    private let state = Mutex<(errors: [String], handshakes: [TLSHandshakeInfo])>(([], []))

    var errors: [String] { self.state.withLock { $0.errors } }
    var handshakes: [TLSHandshakeInfo] { self.state.withLock { $0.handshakes } }

    func record(error: any Error) {
        self.state.withLock { $0.errors.append("\(error)") }
    }

    /// Polls until `condition` holds (the server may log just after the client process exited).
    func waitFor(seconds: Double = 5, _ condition: (ServerLog) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition(self) {
            if Date() > deadline {
                return false
            }
            usleep(10_000)
        }
        return true
    }

    func record(handshake: TLSHandshakeInfo) {
        self.state.withLock { $0.handshakes.append(handshake) }
    }
}

final class TestTLSServer {
    enum Responder {
        /// Sends back whatever arrives.
        case echo
        /// Answers the first request with a fixed HTTP/1.1 response and closes.
        case http
    }

    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let log = ServerLog()
    private let channel: any Channel
    let port: Int

    init(context: TLSServerContext, responder: Responder) throws {
        let log = self.log
        self.channel = try ServerBootstrap(group: self.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let application: any ChannelHandler =
                        switch responder {
                        case .echo: EchoHandler(log: log)
                        case .http: TinyHTTPResponder(log: log)
                        }
                    try channel.pipeline.syncOperations.addHandlers([TLSHandler(context: context), application])
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .wait()
        self.port = try #require(self.channel.localAddress?.port)
    }

    func shutdown() {
        try? self.channel.close().wait()
        try? self.group.syncShutdownGracefully()
    }
}

/// Logs TLS events and errors of a server connection.
private protocol LoggingServerHandler: ChannelInboundHandler {
    var log: ServerLog { get }
}

extension LoggingServerHandler {
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let info) = event as? TLSUserEvent {
            self.log.record(handshake: info)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.log.record(error: error)
    }
}

private final class EchoHandler: LoggingServerHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let log: ServerLog

    init(log: ServerLog) {
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

private final class TinyHTTPResponder: LoggingServerHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let log: ServerLog
    private var request = ByteBuffer()
    private var answered = false

    init(log: ServerLog) {
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        self.request.writeBuffer(&buffer)
        guard !self.answered, String(buffer: self.request).contains("\r\n\r\n") else {
            return
        }
        self.answered = true
        let body = "hello from TLS"
        // Head and body as two writes and one flush: one TLS record on the wire.
        context.write(
            self.wrapOutboundOut(
                ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: \(body.utf8.count)\r\nconnection: close\r\n\r\n")
            ),
            promise: nil
        )
        context.write(self.wrapOutboundOut(ByteBuffer(string: body)), promise: nil)
        context.flush()
        context.close(promise: nil)
    }
}

/// Collects plaintext on a client connection until `expectedBytes` arrived.
private final class CollectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let expectedBytes: Int
    private let received: EventLoopPromise<ByteBuffer>
    private let handshake: EventLoopPromise<TLSHandshakeInfo>
    private var buffer = ByteBuffer()
    private var done = false

    init(expectedBytes: Int, received: EventLoopPromise<ByteBuffer>, handshake: EventLoopPromise<TLSHandshakeInfo>) {
        self.expectedBytes = expectedBytes
        self.received = received
        self.handshake = handshake
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = self.unwrapInboundIn(data)
        self.buffer.writeBuffer(&chunk)
        if !self.done, self.buffer.readableBytes >= self.expectedBytes {
            self.done = true
            self.received.succeed(self.buffer)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let info) = event as? TLSUserEvent {
            self.handshake.succeed(info)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.handshake.fail(error)
        if !self.done {
            self.done = true
            self.received.fail(error)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.done {
            self.done = true
            self.received.fail(ChannelError.eof)
        }
    }
}
