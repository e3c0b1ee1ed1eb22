import Foundation
import GatewayTLS
import NIOCore
import NIOEmbedded
import Testing

// MARK: - Temporary files and certificates

/// A directory removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/gateway-tls-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        self.path = String(cString: try #require(created))
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }

    func file(_ name: String) -> String {
        self.path + "/" + name
    }
}

/// A development CA and a leaf certificate signed by it, generated into a temporary directory.
struct CertificateFixture {
    let directory: TemporaryDirectory
    let caCertificatePath: String
    let caKeyPath: String
    let certificatePath: String
    let keyPath: String

    /// The default: CA + leaf for localhost, 127.0.0.1 and ::1.
    init(directory: TemporaryDirectory? = nil, prefix: String = "") throws {
        let directory = try directory ?? TemporaryDirectory()
        self.directory = directory
        self.caCertificatePath = directory.file("\(prefix)ca.pem")
        self.caKeyPath = directory.file("\(prefix)ca-key.pem")
        self.certificatePath = directory.file("\(prefix)cert.pem")
        self.keyPath = directory.file("\(prefix)key.pem")
        try DevelopmentCertificates.ensure(
            caCertificatePath: self.caCertificatePath,
            caKeyPath: self.caKeyPath,
            certificatePath: self.certificatePath,
            keyPath: self.keyPath
        )
    }

    /// Another leaf signed by the same CA.
    func makeLeaf(
        named name: String,
        hostnames: [String],
        validDays: Int = 825,
        backdatedDays: Int = 1
    ) throws -> (certificatePath: String, keyPath: String) {
        let certificatePath = self.directory.file("\(name)-cert.pem")
        let keyPath = self.directory.file("\(name)-key.pem")
        try DevelopmentCertificates.makeCertificate(
            hostnames: hostnames,
            caCertificatePath: self.caCertificatePath,
            caKeyPath: self.caKeyPath,
            certificatePath: certificatePath,
            keyPath: keyPath,
            validDays: validDays,
            backdatedDays: backdatedDays
        )
        return (certificatePath, keyPath)
    }

    var source: TLSCertificateSource {
        TLSCertificateSource(
            name: "default",
            certificatePath: self.certificatePath,
            keyPath: self.keyPath,
            serverNames: ["localhost"]
        )
    }

    func serverContext(
        minimumVersion: TLSVersion = .tls1_2,
        applicationProtocols: [String] = ["http/1.1"],
        handshakeTimeout: TimeAmount = .seconds(10)
    ) throws -> TLSServerContext {
        try TLSServerContext(
            configuration: TLSServerConfiguration(
                certificates: [self.source],
                minimumVersion: minimumVersion,
                applicationProtocols: applicationProtocols,
                handshakeTimeout: handshakeTimeout
            )
        )
    }

    func clientContext(
        minimumVersion: TLSVersion = .tls1_2,
        maximumVersion: TLSVersion? = nil,
        applicationProtocols: [String] = ["http/1.1"]
    ) throws -> TLSClientContext {
        try TLSClientContext(
            trustRootsPath: self.caCertificatePath,
            minimumVersion: minimumVersion,
            maximumVersion: maximumVersion,
            applicationProtocols: applicationProtocols
        )
    }
}

// MARK: - Handlers for tests

/// Records what reaches the end of a pipeline.
final class InboundRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    var received = ByteBuffer()
    var readCount = 0
    var readCompleteCount = 0
    var events: [TLSUserEvent] = []
    var errors: [any Error] = []
    var isInactive = false

    var tlsErrors: [TLSError] {
        self.errors.compactMap { $0 as? TLSError }
    }

    var handshakeInfo: TLSHandshakeInfo? {
        for event in self.events {
            if case .handshakeCompleted(let info) = event {
                return info
            }
        }
        return nil
    }

    var receivedString: String {
        String(buffer: self.received)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        self.readCount += 1
        self.received.writeBuffer(&buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.readCompleteCount += 1
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent {
            self.events.append(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.errors.append(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isInactive = true
    }
}

// MARK: - Two embedded channels talking TLS

/// A server and a client `EmbeddedChannel` on one loop, each with a TLSHandler and a recorder.
final class TLSPair {
    let loop = EmbeddedEventLoop()
    let server: EmbeddedChannel
    let client: EmbeddedChannel
    let serverHandler: TLSHandler
    let clientHandler: TLSHandler
    let serverRecorder = InboundRecorder()
    let clientRecorder = InboundRecorder()
    /// Every buffer the client's TLS handler wrote to the network, in order.
    private(set) var clientToServer: [ByteBuffer] = []
    private(set) var serverToClient: [ByteBuffer] = []

    init(server: TLSServerContext, client: TLSClientContext, serverHostname: String? = "localhost") throws {
        self.serverHandler = TLSHandler(context: server)
        self.clientHandler = TLSHandler(context: client, serverHostname: serverHostname)
        self.server = EmbeddedChannel(handlers: [self.serverHandler, self.serverRecorder], loop: self.loop)
        self.client = EmbeddedChannel(handlers: [self.clientHandler, self.clientRecorder], loop: self.loop)
    }

    /// Makes both channels active (the client starts the handshake) and runs it to the end.
    func connect() throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 443)
        try self.server.connect(to: address).wait()
        try self.client.connect(to: address).wait()
        try self.pump()
    }

    /// Moves bytes between the channels until neither has anything more to send.
    func pump() throws {
        var moved = true
        while moved {
            moved = false
            self.loop.run()
            if let bytes = try self.client.readOutbound(as: ByteBuffer.self) {
                self.clientToServer.append(bytes)
                moved = true
                _ = try? self.server.writeInbound(bytes)
            }
            if let bytes = try self.server.readOutbound(as: ByteBuffer.self) {
                self.serverToClient.append(bytes)
                moved = true
                _ = try? self.client.writeInbound(bytes)
            }
        }
    }

    func clearCapturedTraffic() {
        self.clientToServer.removeAll()
        self.serverToClient.removeAll()
    }

    func close() {
        _ = try? self.client.finish(acceptAlreadyClosed: true)
        _ = try? self.server.finish(acceptAlreadyClosed: true)
    }
}

/// The TLS records in `buffer`: (content type, length) for each complete record header.
func tlsRecords(in buffer: ByteBuffer) -> [(type: UInt8, length: Int)] {
    var buffer = buffer
    var records: [(UInt8, Int)] = []
    while let type = buffer.readInteger(as: UInt8.self),
        buffer.readInteger(as: UInt16.self) != nil,
        let length = buffer.readInteger(as: UInt16.self)
    {
        records.append((type, Int(length)))
        buffer.moveReaderIndex(forwardBy: min(Int(length), buffer.readableBytes))
    }
    return records
}

extension ByteBuffer {
    init(repeating byte: UInt8, count: Int) {
        self.init()
        self.writeRepeatingByte(byte, count: count)
    }
}
