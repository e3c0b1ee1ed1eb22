// TLSRoundTrip: a micro-benchmark of GatewayTLS alone (no HTTP), run by hand; not part of CI.
//
//   TLSRoundTrip roundtrip [N] [--tls12]
//       A server and a client TLSHandler on two EmbeddedChannels; after the handshake and 200
//       warm-up round trips, N round trips of an 83-byte request and a 158-byte response (one
//       write + flush per response, as GatewayCore sends it). The server's half of each round
//       trip runs in `serverSideStep`, the client's in `clientSideStep`, so that callgrind
//       counts the server alone:
//
//         valgrind --tool=callgrind --toggle-collect='*serverSideStep*' TLSRoundTrip roundtrip 5000
//         valgrind --tool=callgrind --toggle-collect='*serverSideStep*' TLSRoundTrip roundtrip 15000
//
//       (Ir(15000) - Ir(5000)) / 10000 = server-side instructions per round trip. valgrind 3.19
//       cannot read Swift 6.3's DWARF 5: run it on a copy made with `strip --strip-debug`.
//       Without valgrind it prints the wall-clock time per round trip (client + server).
//
//   TLSRoundTrip idle-server [PORT [SECONDS]]
//       A NIOPosix TLS server (one event loop) that answers every read with the 158-byte
//       response; prints "listening PORT", then once a second "conns C rss_kb R"; exits after
//       SECONDS (default 3600). With bench/idle_connections.py PORT N holding N idle keep-alive
//       connections, (RSS after - RSS before) / N is the memory per idle TLS connection.
//       `--recv-initial BYTES` sets the first receive buffer size of NIO's adaptive allocator
//       (default 2048): each channel keeps its last receive buffer, idle or not.
import Foundation
import GatewayTLS
import NIOCore
import NIOEmbedded
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

let requestBytes = ByteBuffer(
    string: "GET /items/42?q=hello HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
let responseBytes = ByteBuffer(
    string:
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 55\r\n"
        + "x-request-id: 5f0c2a7e9b1d4c38\r\n\r\n"
        + "{\"id\":42,\"name\":\"item-42\",\"q\":\"hello\",\"price\":52.5000}\n"
)

/// Answers every read with the fixed response; flushes at read complete.
final class Responder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var pendingFlush = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(self.wrapOutboundOut(responseBytes), promise: nil)
        self.pendingFlush = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.pendingFlush {
            self.pendingFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }
}

/// Counts bytes arriving at the client.
final class Sink: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var received = 0
    var onRead: ((ChannelHandlerContext) -> Void)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received += self.unwrapInboundIn(data).readableBytes
        self.onRead?(context)
    }
}

func makeCertificates() throws -> (server: TLSServerContext, client: TLSClientContext) {
    let directory = NSTemporaryDirectory() + "/tls-roundtrip-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try DevelopmentCertificates.ensure(
        caCertificatePath: directory + "/ca.pem",
        caKeyPath: directory + "/ca-key.pem",
        certificatePath: directory + "/cert.pem",
        keyPath: directory + "/key.pem"
    )
    let server = try TLSServerContext(
        configuration: TLSServerConfiguration(
            certificates: [
                TLSCertificateSource(
                    name: "default",
                    certificatePath: directory + "/cert.pem",
                    keyPath: directory + "/key.pem",
                    serverNames: ["localhost"]
                )
            ]
        )
    )
    let tls12 = CommandLine.arguments.contains("--tls12")
    let client = try TLSClientContext(
        trustRootsPath: directory + "/ca.pem",
        maximumVersion: tls12 ? .tls1_2 : nil
    )
    return (server, client)
}

// MARK: - Round trips on embedded channels

@inline(never)
func serverSideStep(_ server: EmbeddedChannel, _ ciphertext: ByteBuffer) throws -> ByteBuffer? {
    try server.writeInbound(ciphertext)
    return try server.readOutbound(as: ByteBuffer.self)
}

@inline(never)
func clientSideStep(_ client: EmbeddedChannel, _ ciphertext: ByteBuffer?) throws -> ByteBuffer? {
    if let ciphertext {
        try client.writeInbound(ciphertext)
    }
    try client.writeAndFlush(requestBytes).wait()
    return try client.readOutbound(as: ByteBuffer.self)
}

func pump(_ a: EmbeddedChannel, _ b: EmbeddedChannel, _ loop: EmbeddedEventLoop) throws {
    var moved = true
    while moved {
        moved = false
        loop.run()
        if let bytes = try a.readOutbound(as: ByteBuffer.self) {
            moved = true
            try b.writeInbound(bytes)
        }
        if let bytes = try b.readOutbound(as: ByteBuffer.self) {
            moved = true
            try a.writeInbound(bytes)
        }
    }
}

func roundTrips(count: Int) throws {
    let (serverContext, clientContext) = try makeCertificates()
    let loop = EmbeddedEventLoop()
    let sink = Sink()
    let server = EmbeddedChannel(handlers: [TLSHandler(context: serverContext), Responder()], loop: loop)
    let client = EmbeddedChannel(
        handlers: [TLSHandler(context: clientContext, serverHostname: "localhost"), sink],
        loop: loop
    )
    let address = try SocketAddress(ipAddress: "127.0.0.1", port: 443)
    try server.connect(to: address).wait()
    try client.connect(to: address).wait()
    try pump(client, server, loop)

    // Warm-up: tickets delivered, buffers grown, lazy state made.
    var toClient: ByteBuffer? = nil
    for _ in 0..<200 {
        guard let request = try clientSideStep(client, toClient) else { fatalError("no request") }
        toClient = try serverSideStep(server, request)
    }
    let warmReceived = sink.received
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<count {
        guard let request = try clientSideStep(client, toClient) else { fatalError("no request") }
        guard let response = try serverSideStep(server, request) else { fatalError("no response") }
        toClient = response
    }
    if let toClient {
        try client.writeInbound(toClient)
    }
    let elapsed = DispatchTime.now().uptimeNanoseconds - start
    let expected = (count + 1) * responseBytes.readableBytes
    guard sink.received - warmReceived + responseBytes.readableBytes >= expected else {
        fatalError("client received \(sink.received - warmReceived) bytes, expected \(expected)")
    }
    print("round trips \(count): \(Double(elapsed) / Double(count)) ns each (client + server, wall clock)")
    _ = try? client.finish(acceptAlreadyClosed: true)
    _ = try? server.finish(acceptAlreadyClosed: true)
}

// MARK: - Idle connections on loopback

func residentKB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }
    return 0
}

final class ConnectionCounter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    static let lock = NSLock()
    nonisolated(unsafe) static var open = 0

    func channelActive(context: ChannelHandlerContext) {
        Self.lock.withLock { Self.open += 1 }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        Self.lock.withLock { Self.open -= 1 }
        context.fireChannelInactive()
    }

    static var count: Int { Self.lock.withLock { Self.open } }
}

/// `--recv-initial N`: the first receive buffer size of NIO's adaptive allocator (NIO's default
/// is 2048; the channel keeps its last receive buffer, idle or not).
func receiveAllocator() -> AdaptiveRecvByteBufferAllocator {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: "--recv-initial"), index + 1 < arguments.count,
        let initial = Int(arguments[index + 1])
    {
        return AdaptiveRecvByteBufferAllocator(minimum: 64, initial: initial, maximum: 65536)
    }
    return AdaptiveRecvByteBufferAllocator()
}

func startServer(group: EventLoopGroup, context: TLSServerContext, port: Int) throws -> Channel {
    try ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 4096)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.recvAllocator, value: receiveAllocator())
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandlers([
                    TLSHandler(context: context), ConnectionCounter(), Responder(),
                ])
            }
        }
        .bind(host: "127.0.0.1", port: port)
        .wait()
}

func idleServer(port: Int, seconds: Int) throws {
    let (serverContext, _) = try makeCertificates()
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let channel = try startServer(group: group, context: serverContext, port: port)
    print("listening \(channel.localAddress!.port!)")
    print("baseline rss_kb \(residentKB())")
    fflush(nil)
    for _ in 0..<seconds {
        sleep(1)
        print("conns \(ConnectionCounter.count) rss_kb \(residentKB())")
        fflush(nil)
    }
}

// MARK: - main

/// Positional arguments: everything but flags and the value after `--recv-initial`.
let arguments: [String] = {
    var positional: [String] = []
    var skipNext = false
    for argument in CommandLine.arguments.dropFirst() {
        if skipNext {
            skipNext = false
        } else if argument == "--recv-initial" {
            skipNext = true
        } else if !argument.hasPrefix("--") {
            positional.append(argument)
        }
    }
    return positional
}()
switch arguments.first {
case "roundtrip":
    try roundTrips(count: arguments.dropFirst().first.flatMap { Int($0) } ?? 20_000)
case "idle-server":
    try idleServer(
        port: arguments.dropFirst().first.flatMap { Int($0) } ?? 0,
        seconds: arguments.dropFirst(2).first.flatMap { Int($0) } ?? 3600
    )
default:
    print("usage: TLSRoundTrip roundtrip [N] [--tls12] | idle-server [PORT [SECONDS]] [--recv-initial BYTES]")
    exit(2)
}
