import Foundation
import GatewayTLS
import NIOCore
import NIOPosix

/// One keep-alive HTTP/1.1 connection over TLS, on the project's own OpenSSL
/// client side: requests go one at a time on the same connection, so a test can
/// keep it open across reloads or use several as a bounded load.
final class KeepAliveClient: Sendable {
    struct Response: Sendable {
        var status: Int
        var head: String
        var body: String
    }

    struct ConnectionClosed: Error {}

    private let channel: any Channel
    private let reader: ResponseReader

    private init(channel: any Channel, reader: ResponseReader) {
        self.channel = channel
        self.reader = reader
    }

    static func connect(group: any EventLoopGroup, port: Int, caPath: String) async throws -> KeepAliveClient {
        let context = try TLSClientContext(trustRootsPath: caPath)
        let reader = ResponseReader()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        TLSHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(reader)
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return KeepAliveClient(channel: channel, reader: reader)
    }

    func get(_ path: String) async throws -> Response {
        let promise = self.channel.eventLoop.makePromise(of: Response.self)
        let reader = self.reader
        try await self.channel.eventLoop.submit { reader.expect(promise) }.get()
        let request = "GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n"
        self.channel.writeAndFlush(ByteBuffer(string: request), promise: nil)
        return try await promise.futureResult.get()
    }

    func close() async {
        try? await self.channel.close()
    }
}

/// Collects bytes until one whole response (head plus `content-length` body) is there.
/// Used on its channel's event loop only.
private final class ResponseReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var received: [UInt8] = []
    private var pending: EventLoopPromise<KeepAliveClient.Response>?

    func expect(_ promise: EventLoopPromise<KeepAliveClient.Response>) {
        self.pending = promise
        self.complete()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        self.received += buffer.readableBytesView
        self.complete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.pending?.fail(KeepAliveClient.ConnectionClosed())
        self.pending = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.pending?.fail(error)
        self.pending = nil
        context.close(promise: nil)
    }

    private func complete() {
        guard let pending = self.pending,
            let headEnd = self.received.indices.first(where: { index in
                index + 3 < self.received.count && self.received[index..<index + 4].elementsEqual("\r\n\r\n".utf8)
            })
        else { return }
        let head = String(decoding: self.received[..<headEnd], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        let length =
            lines.first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        let bodyStart = headEnd + 4
        guard self.received.count - bodyStart >= length else { return }
        let body = String(decoding: self.received[bodyStart..<bodyStart + length], as: UTF8.self)
        self.received.removeFirst(bodyStart + length)
        self.pending = nil
        pending.succeed(KeepAliveClient.Response(status: status, head: head, body: body))
    }
}
