import GatewayTLS
import NIOCore
import NIOEmbedded
import Testing

/// A server and a client TLSHandler on two EmbeddedChannels, pumped against each other.
@Suite("TLSHandler over embedded channels")
struct TLSHandlerTests {
    @Test("handshake negotiates TLS 1.3 and ALPN http/1.1 and fires handshakeCompleted")
    func handshake() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()

        let serverInfo = try #require(pair.serverRecorder.handshakeInfo)
        let clientInfo = try #require(pair.clientRecorder.handshakeInfo)
        #expect(serverInfo.version == "TLSv1.3")
        #expect(clientInfo.version == "TLSv1.3")
        #expect(serverInfo.applicationProtocol == "http/1.1")
        #expect(clientInfo.applicationProtocol == "http/1.1")
        #expect(serverInfo.serverName == "localhost")
        #expect(serverInfo.cipher.hasPrefix("TLS_"))
        #expect(serverInfo.cipher == clientInfo.cipher)
        #expect(!serverInfo.sessionReused)
        #expect(serverInfo.duration >= .zero)
        #expect(pair.serverHandler.handshakeInfo == serverInfo)
        #expect(pair.serverRecorder.errors.isEmpty)
        #expect(pair.clientRecorder.errors.isEmpty)
        #expect(pair.clientHandler.peerCertificateSubject?.contains("CN=localhost") == true)
    }

    @Test("ALPN without overlap continues without a protocol")
    func alpnWithoutOverlap() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(
            server: try certificates.serverContext(applicationProtocols: ["h2", "http/1.1"]),
            client: try certificates.clientContext(applicationProtocols: ["spdy/3"])
        )
        defer { pair.close() }
        try pair.connect()
        #expect(pair.serverRecorder.handshakeInfo?.applicationProtocol == nil)
        #expect(pair.clientRecorder.handshakeInfo?.applicationProtocol == nil)
        #expect(pair.clientRecorder.handshakeInfo?.version == "TLSv1.3")
    }

    @Test("ALPN follows the server's preference")
    func alpnServerPreference() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(
            server: try certificates.serverContext(applicationProtocols: ["h2", "http/1.1"]),
            client: try certificates.clientContext(applicationProtocols: ["http/1.1", "h2"])
        )
        defer { pair.close() }
        try pair.connect()
        #expect(pair.serverRecorder.handshakeInfo?.applicationProtocol == "h2")
    }

    @Test("data flows both ways, including a 1 MB write")
    func dataBothWays() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()

        try pair.client.writeOutbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        try pair.pump()
        #expect(pair.serverRecorder.receivedString == "GET / HTTP/1.1\r\n\r\n")

        let megabyte = ByteBuffer(repeating: 0x61, count: 1 << 20)
        let written = pair.server.writeAndFlush(megabyte)
        try pair.pump()
        try written.wait()
        #expect(pair.clientRecorder.received.readableBytes == 1 << 20)
        #expect(pair.clientRecorder.received == megabyte)

        try pair.client.writeOutbound(megabyte)
        try pair.pump()
        #expect(pair.serverRecorder.received.readableBytes == (1 << 20) + 18)

        // Traffic goes on after 1 MB each way.
        try pair.server.writeOutbound(ByteBuffer(string: "after"))
        try pair.client.writeOutbound(ByteBuffer(string: "after"))
        try pair.pump()
        #expect(pair.clientRecorder.receivedString.hasSuffix("aaaafter"))
        #expect(pair.serverRecorder.receivedString.hasSuffix("aaaafter"))
        #expect(pair.serverRecorder.errors.isEmpty)
        #expect(pair.clientRecorder.errors.isEmpty)
    }

    @Test("several writes pending at one flush go out as one TLS record in one buffer")
    func coalescedWrites() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()
        pair.clearCapturedTraffic()

        let head = pair.server.write(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"))
        let empty = pair.server.write(ByteBuffer())
        let body = pair.server.write(ByteBuffer(string: "hello"))
        pair.server.flush()
        try pair.pump()
        try head.wait()
        try empty.wait()
        try body.wait()

        #expect(pair.serverToClient.count == 1)
        let records = tlsRecords(in: try #require(pair.serverToClient.first))
        #expect(records.count == 1)
        #expect(records.first?.type == 23)  // application_data
        #expect(pair.clientRecorder.receivedString == "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
    }

    @Test("an empty write completes its promise without sending a record")
    func emptyWrite() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()
        pair.clearCapturedTraffic()

        let written = pair.server.writeAndFlush(ByteBuffer())
        try pair.pump()
        try written.wait()
        #expect(pair.serverToClient.isEmpty)
    }

    @Test("writes made before the handshake completes are delivered after it")
    func writesBeforeHandshake() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 443)
        try pair.server.connect(to: address).wait()
        try pair.client.connect(to: address).wait()

        let first = pair.client.write(ByteBuffer(string: "early "))
        let second = pair.client.writeAndFlush(ByteBuffer(string: "data"))
        #expect(pair.clientRecorder.handshakeInfo == nil)
        try pair.pump()
        try first.wait()
        try second.wait()
        #expect(pair.serverRecorder.receivedString == "early data")
    }

    @Test("closing the client sends close_notify; the server answers and closes")
    func closeNotifyFromClient() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()
        pair.clearCapturedTraffic()

        let closed = pair.client.close()
        try pair.pump()
        try closed.wait()
        #expect(pair.serverRecorder.events.contains(.shutdownCompleted))
        #expect(pair.serverRecorder.isInactive)
        #expect(pair.serverRecorder.errors.isEmpty)
        #expect(pair.clientRecorder.errors.isEmpty)
        let alert = try #require(pair.clientToServer.first)
        #expect(tlsRecords(in: alert).count == 1)
    }

    @Test("closing the server sends close_notify; the client answers and closes")
    func closeNotifyFromServer() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()

        try pair.server.writeOutbound(ByteBuffer(string: "bye"))
        let closed = pair.server.close()
        try pair.pump()
        try closed.wait()
        #expect(pair.clientRecorder.receivedString == "bye")
        #expect(pair.clientRecorder.events.contains(.shutdownCompleted))
        #expect(pair.clientRecorder.isInactive)
        #expect(pair.clientRecorder.errors.isEmpty)
        #expect(pair.serverRecorder.errors.isEmpty)
    }

    @Test("EOF without close_notify after the handshake is an unclean shutdown")
    func uncleanShutdown() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()

        pair.server.pipeline.fireChannelInactive()
        #expect(pair.serverRecorder.tlsErrors.map(\.kind) == [.uncleanShutdown])
    }

    @Test("EOF during the handshake is a handshake failure")
    func eofDuringHandshake() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.server.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()

        pair.server.pipeline.fireChannelInactive()
        #expect(pair.serverRecorder.tlsErrors.map(\.kind) == [.handshakeFailed])
    }

    @Test("garbage instead of a ClientHello fails the handshake with OpenSSL errors and closes")
    func garbage() throws {
        let certificates = try CertificateFixture()
        let handler = TLSHandler(context: try certificates.serverContext())
        let recorder = InboundRecorder()
        let channel = EmbeddedChannel(handlers: [handler, recorder])
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()

        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
        let error = try #require(recorder.tlsErrors.first)
        #expect(error.kind == .handshakeFailed)
        #expect(!error.openSSLErrors.isEmpty)
        #expect(error.description.contains("SSL routines"))
        #expect(!channel.isActive)
        #expect(recorder.events.isEmpty)
    }

    @Test("a TLS 1.2-only client cannot connect to a server that requires TLS 1.3")
    func versionMismatch() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(
            server: try certificates.serverContext(minimumVersion: .tls1_3),
            client: try certificates.clientContext(maximumVersion: .tls1_2)
        )
        defer { pair.close() }
        try pair.connect()

        let serverError = try #require(pair.serverRecorder.tlsErrors.first)
        #expect(serverError.kind == .handshakeFailed)
        #expect(serverError.openSSLErrors.contains { $0.contains("unsupported protocol") })
        let clientError = try #require(pair.clientRecorder.tlsErrors.first)
        #expect(clientError.kind == .handshakeFailed)
        #expect(pair.serverRecorder.handshakeInfo == nil)
        #expect(!pair.server.isActive)
        #expect(!pair.client.isActive)
    }

    @Test("a TLS 1.2 client negotiates TLS 1.2 with an intermediate-profile cipher")
    func tls12() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(
            server: try certificates.serverContext(),
            client: try certificates.clientContext(maximumVersion: .tls1_2)
        )
        defer { pair.close() }
        try pair.connect()
        let info = try #require(pair.serverRecorder.handshakeInfo)
        #expect(info.version == "TLSv1.2")
        #expect(info.cipher.hasPrefix("ECDHE-ECDSA-"))
        try pair.client.writeOutbound(ByteBuffer(string: "ping"))
        try pair.pump()
        #expect(pair.serverRecorder.receivedString == "ping")
    }

    @Test("the handshake times out on the event loop's clock")
    func handshakeTimeout() throws {
        let certificates = try CertificateFixture()
        let handler = TLSHandler(context: try certificates.serverContext(handshakeTimeout: .seconds(5)))
        let recorder = InboundRecorder()
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handlers: [handler, recorder], loop: loop)
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()

        loop.advanceTime(by: .seconds(4))
        #expect(recorder.errors.isEmpty)
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(2))
        let error = try #require(recorder.tlsErrors.first)
        #expect(error.kind == .handshakeTimeout)
        #expect(!channel.isActive)
    }

    @Test("the handshake timeout is cancelled when the handshake completes")
    func handshakeTimeoutCancelled() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(
            server: try certificates.serverContext(handshakeTimeout: .seconds(5)),
            client: try certificates.clientContext()
        )
        defer { pair.close() }
        try pair.connect()
        pair.loop.advanceTime(by: .seconds(60))
        #expect(pair.serverRecorder.errors.isEmpty)
        #expect(pair.server.isActive)
    }

    @Test("a handler added to an active channel starts the handshake")
    func addedToActiveChannel() throws {
        let certificates = try CertificateFixture()
        let loop = EmbeddedEventLoop()
        let server = EmbeddedChannel(loop: loop)
        let client = EmbeddedChannel(loop: loop)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 443)
        try server.connect(to: address).wait()
        try client.connect(to: address).wait()
        let serverRecorder = InboundRecorder()
        let clientRecorder = InboundRecorder()
        try server.pipeline.syncOperations.addHandlers([
            TLSHandler(context: try certificates.serverContext()), serverRecorder,
        ])
        try client.pipeline.syncOperations.addHandlers([
            TLSHandler(context: try certificates.clientContext(), serverHostname: "localhost"), clientRecorder,
        ])
        var moved = true
        while moved {
            moved = false
            if let bytes = try client.readOutbound(as: ByteBuffer.self) {
                try server.writeInbound(bytes)
                moved = true
            }
            if let bytes = try server.readOutbound(as: ByteBuffer.self) {
                try client.writeInbound(bytes)
                moved = true
            }
        }
        #expect(serverRecorder.handshakeInfo != nil)
        #expect(clientRecorder.handshakeInfo != nil)
        _ = try? server.finish(acceptAlreadyClosed: true)
        _ = try? client.finish(acceptAlreadyClosed: true)
    }
}
