import Foundation
import GatewayTLS
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 upstream on 127.0.0.1, port 0, in the test process.
///
/// - any path: echoes `{"upstream","method","uri","headers":{name:[values]},"body_bytes","connection"}` as JSON
/// - `/big?bytes=N`: N bytes of `x` with a Content-Length, written a piece at a time as the socket drains
/// - `/chunked?parts=N`: N parts of `part-i;` in a chunked body
/// - `/typed?bytes=N&type=T`: `typedBody(bytes: N)` as `T` (`json`, `text`, `png`, `svg`), with
///   `ETag: "v1"` and a Content-Length; `&chunked=1` chunked instead, 4 KiB parts each flushed;
///   `&encoding=E` says `Content-Encoding: E`
/// - `/echo-body`: the request body as it arrived, with the request's framing fields
///   as `x-request-content-length`, `x-request-content-encoding`, `x-request-transfer-encoding`
///   and `x-request-content-type` (`-` when absent)
/// - `/slow?ms=N`: the echo after N milliseconds
/// - `/hop`: a response carrying hop-by-hop fields the gateway must remove
/// - `/cors`: `ok` with the upstream's own `Access-Control-*` fields and `Vary: Accept-Language`
/// - `/reset`: the connection closed once the request was read, without a response
/// - `/healthz`: `healthStatus` with an empty body (counted in `healthChecks`, not `requests`)
///
/// `forcedStatus`, when set, answers every path but `/healthz` with that status.
final class ProxyTestUpstream: @unchecked Sendable {
    let name: String
    let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let stats: Stats

    final class Stats: @unchecked Sendable {
        private let lock = NIOLock()
        private var _connections = 0
        private var _requests = 0
        private var _healthChecks = 0
        private var _healthStatus = 200
        private var _forcedStatus: Int?
        var connections: Int { self.lock.withLock { self._connections } }
        var requests: Int { self.lock.withLock { self._requests } }
        var healthChecks: Int { self.lock.withLock { self._healthChecks } }
        var healthStatus: Int {
            get { self.lock.withLock { self._healthStatus } }
            set { self.lock.withLock { self._healthStatus = newValue } }
        }
        var forcedStatus: Int? {
            get { self.lock.withLock { self._forcedStatus } }
            set { self.lock.withLock { self._forcedStatus = newValue } }
        }
        func healthChecked() { self.lock.withLock { self._healthChecks += 1 } }
        func connected() -> Int {
            self.lock.withLock {
                self._connections += 1; return self._connections
            }
        }
        func requested() { self.lock.withLock { self._requests += 1 } }
    }

    var connections: Int { self.stats.connections }
    var requests: Int { self.stats.requests }
    var healthChecks: Int { self.stats.healthChecks }
    /// What `/healthz` answers.
    var healthStatus: Int {
        get { self.stats.healthStatus }
        set { self.stats.healthStatus = newValue }
    }
    /// The status every other path answers, when set.
    var forcedStatus: Int? {
        get { self.stats.forcedStatus }
        set { self.stats.forcedStatus = newValue }
    }

    /// With `tls`, the upstream speaks HTTPS (see `makeTLSCertificates`).
    static func start(name: String = "a", tls: TLSServerContext? = nil) async throws -> ProxyTestUpstream {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let stats = Stats()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let id = stats.connected()
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(TLSHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        Handler(name: name, connection: id, stats: stats))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ProxyTestUpstream(
            name: name, port: channel.localAddress!.port!, group: group, channel: channel, stats: stats)
    }

    private init(name: String, port: Int, group: MultiThreadedEventLoopGroup, channel: any Channel, stats: Stats) {
        self.name = name
        self.port = port
        self.group = group
        self.channel = channel
        self.stats = stats
    }

    var address: String { "127.0.0.1:\(self.port)" }

    /// The body of `/typed`: numbered lines, compressible but not one repeated byte.
    static func typedBody(bytes: Int) -> String {
        var text = ""
        var index = 0
        while text.utf8.count < bytes {
            text += "{\"line\":\(index),\"value\":\(index * 7919 % 10007)}\n"
            index += 1
        }
        return String(text.utf8.prefix(bytes))!
    }

    func stop() async {
        try? await self.channel.close()
        try? await self.group.shutdownGracefully()
    }

    /// A development CA and a leaf for localhost and 127.0.0.1 in a new temporary
    /// directory (remove it when done), and a server context serving the leaf.
    static func makeTLSCertificates() throws -> (directory: URL, caPath: String, context: TLSServerContext) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("upstream-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let caPath = directory.appendingPathComponent("ca.pem").path
        let certificatePath = directory.appendingPathComponent("leaf.pem").path
        let keyPath = directory.appendingPathComponent("leaf-key.pem").path
        try DevelopmentCertificates.ensure(
            caCertificatePath: caPath, caKeyPath: directory.appendingPathComponent("ca-key.pem").path,
            certificatePath: certificatePath, keyPath: keyPath, hostnames: ["localhost"], ipAddresses: ["127.0.0.1"])
        let context = try TLSServerContext(
            configuration: TLSServerConfiguration(certificates: [
                TLSCertificateSource(name: "upstream", certificatePath: certificatePath, keyPath: keyPath)
            ]))
        return (directory, caPath, context)
    }

    /// A port nothing listens on (bound, then closed).
    static func closedPort() async throws -> Int {
        let upstream = try await ProxyTestUpstream.start()
        let port = upstream.port
        await upstream.stop()
        return port
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let name: String
        let connection: Int
        let stats: Stats
        var head: HTTPRequestHead?
        var bodyBytes = 0
        /// Kept only for `/echo-body`.
        var body: ByteBuffer?

        init(name: String, connection: Int, stats: Stats) {
            self.name = name
            self.connection = connection
            self.stats = stats
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                self.bodyBytes = 0
                self.body = head.uri.hasPrefix("/echo-body") ? ByteBuffer() : nil
            case .body(var chunk):
                self.bodyBytes += chunk.readableBytes
                self.body?.writeBuffer(&chunk)
            case .end:
                if self.head?.uri != "/healthz" { self.stats.requested() }
                self.respond(context: context)
            }
        }

        private func query(_ key: String) -> Int? {
            guard let uri = self.head?.uri, let components = URLComponents(string: uri) else { return nil }
            return components.queryItems?.first(where: { $0.name == key })?.value.flatMap { Int($0) }
        }

        private func respond(context: ChannelHandlerContext) {
            guard let head = self.head else { return }
            let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
            if path == "/healthz" {
                self.stats.healthChecked()
                self.sendStatus(self.stats.healthStatus, context: context)
                return
            }
            if let status = self.stats.forcedStatus {
                self.sendStatus(status, context: context)
                return
            }
            switch path {
            case "/reset":
                context.close(promise: nil)
            case "/big":
                self.sendBig(bytes: self.query("bytes") ?? 1_000_000, context: context)
            case "/chunked":
                var headers = HTTPHeaders()
                headers.add(name: "content-type", value: "text/plain")
                context.write(
                    self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                    promise: nil)
                for index in 0..<(self.query("parts") ?? 3) {
                    context.write(
                        self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "part-\(index);")))), promise: nil)
                }
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            case "/typed":
                self.sendTyped(context: context)
            case "/echo-body":
                var headers = HTTPHeaders()
                headers.add(name: "content-type", value: "application/octet-stream")
                headers.add(name: "content-length", value: String(self.body?.readableBytes ?? 0))
                for name in ["content-length", "content-encoding", "transfer-encoding", "content-type"] {
                    let values = head.headers[name]
                    headers.add(name: "x-request-\(name)", value: values.isEmpty ? "-" : values.joined(separator: ","))
                }
                context.write(
                    self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                    promise: nil)
                context.write(self.wrapOutboundOut(.body(.byteBuffer(self.body ?? ByteBuffer()))), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            case "/slow":
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(Int64(self.query("ms") ?? 1000))) {
                    let (handler, context) = loopBound.value
                    handler.sendEcho(head: head, context: context)
                }
            case "/cors":
                // An upstream with CORS answers of its own, which a `cors` route replaces.
                self.sendOK(
                    headers: [
                        ("access-control-allow-origin", "https://upstream.example"),
                        ("access-control-allow-credentials", "true"),
                        ("access-control-expose-headers", "x-upstream-secret"),
                        ("access-control-allow-methods", "PATCH"), ("vary", "Accept-Language"),
                    ], context: context)
            case "/hop":
                self.sendOK(
                    headers: [("connection", "x-hop"), ("x-hop", "secret"), ("keep-alive", "timeout=5")],
                    context: context)
            default:
                self.sendEcho(head: head, context: context)
            }
        }

        /// `200 ok` as text/plain with `extra` fields and `x-upstream`.
        private func sendOK(headers extra: [(String, String)], context: ChannelHandlerContext) {
            var headers = HTTPHeaders([("content-type", "text/plain"), ("content-length", "2")])
            headers.add(contentsOf: extra)
            headers.add(name: "x-upstream", value: self.name)
            context.write(
                self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }

        private func sendStatus(_ status: Int, context: ChannelHandlerContext) {
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: "0")
            headers.add(name: "x-upstream", value: self.name)
            context.write(
                self.wrapOutboundOut(
                    .head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))),
                promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }

        private func sendEcho(head: HTTPRequestHead, context: ChannelHandlerContext) {
            var names: [String: [String]] = [:]
            for (name, value) in head.headers { names[name.lowercased(), default: []].append(value) }
            let object: [String: Any] = [
                "upstream": self.name, "method": head.method.rawValue, "uri": head.uri, "headers": names,
                "body_bytes": self.bodyBytes, "connection": self.connection,
            ]
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(data.count))
            headers.add(name: "x-upstream", value: self.name)
            context.write(
                self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: data)))), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }

        private func sendTyped(context: ChannelHandlerContext) {
            let components = self.head.flatMap { URLComponents(string: $0.uri) }
            let parameter = { (name: String) in components?.queryItems?.first { $0.name == name }?.value }
            let types = [
                "json": "application/json; charset=utf-8", "text": "text/plain", "png": "image/png",
                "svg": "image/svg+xml",
            ]
            let body = ProxyTestUpstream.typedBody(bytes: self.query("bytes") ?? 10_000)
            let chunked = parameter("chunked") == "1"
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: types[parameter("type") ?? "json"] ?? "application/json")
            headers.add(name: "etag", value: #""v1""#)
            if let encoding = parameter("encoding") { headers.add(name: "content-encoding", value: encoding) }
            if !chunked { headers.add(name: "content-length", value: String(body.utf8.count)) }
            context.write(
                self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                promise: nil)
            let bytes = Array(body.utf8)
            let part = chunked ? 4096 : max(bytes.count, 1)
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + part, bytes.count)
                context.writeAndFlush(
                    self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: bytes[offset..<end])))), promise: nil)
                offset = end
            }
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }

        /// Writes the next piece only when the previous one reached the socket, so
        /// the upstream never holds the body itself (the test measures the gateway's memory).
        private func sendBig(bytes: Int, context: ChannelHandlerContext) {
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/octet-stream")
            headers.add(name: "content-length", value: String(bytes))
            context.write(
                self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                promise: nil)
            let piece = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            func next(_ remaining: Int) {
                let (handler, context) = loopBound.value
                guard remaining > 0 else {
                    context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
                    return
                }
                let size = min(remaining, piece.readableBytes)
                context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(piece.getSlice(at: 0, length: size)!))))
                    .assumeIsolated().whenSuccess { next(remaining - size) }
            }
            next(bytes)
        }
    }
}

/// Reads this process's resident memory (kB) from /proc/self/status.
func residentKilobytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
}
