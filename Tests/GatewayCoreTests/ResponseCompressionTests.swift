import GatewayConfig
import NIOCore
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("Accept-Encoding and the compression decision")
struct ResponseCompressionTests {
    @Test(arguments: [
        ("gzip", true),
        ("GZip", true),
        ("x-gzip", true),
        ("deflate, gzip;q=1.0, br", true),
        ("*", true),
        ("*;q=0.1", true),
        ("gzip;q=0.001", true),
        ("identity;q=0, gzip", true),
        ("gzip ; q=0.5", true),
        ("", false),
        ("identity", false),
        ("br, deflate", false),
        ("gzip;q=0", false),
        ("gzip;q=0.000", false),
        ("gzip;q=0, *", false),  // gzip named: its own weight wins over `*`
        ("*;q=0", false),
        ("*;q=0, identity", false),
        ("gzip;q=2", false),  // a malformed weight ignores the element
        ("gzip;q=1.5", false),
        ("gzip;q=0.0001", false),
        ("gzip;q=abc, br", false),
        ("gzip;q=abc, *", true),
        ("gzipx", false),
    ])
    func acceptEncoding(value: String, accepted: Bool) {
        #expect(AcceptEncoding.acceptsGzip(value) == accepted, "Accept-Encoding: \(value)")
    }

    @Test func severalFieldsAreOneList() {
        var headers = HTTPHeaders()
        headers.add(name: "Accept-Encoding", value: "br")
        headers.add(name: "accept-encoding", value: "gzip")
        #expect(AcceptEncoding.acceptsGzip(headers))
        #expect(!AcceptEncoding.acceptsGzip(HTTPHeaders()))
    }

    @Test func qValues() {
        #expect(AcceptEncoding.qValue("0") == 0)
        #expect(AcceptEncoding.qValue("1") == 1)
        #expect(AcceptEncoding.qValue("0.5") == 0.5)
        #expect(AcceptEncoding.qValue("1.000") == 1)
        #expect(AcceptEncoding.qValue("0.") == 0)
        #expect(AcceptEncoding.qValue("1.001") == nil)
        #expect(AcceptEncoding.qValue(".5") == nil)
        #expect(AcceptEncoding.qValue("0.5000") == nil)
    }

    @Test func contentTypes() {
        let compression = RouteCompression(CompressionConfiguration())
        for type in [
            "application/json", "Application/JSON; charset=utf-8", "text/html", "text/plain;charset=utf-8",
            "image/svg+xml", "application/javascript", "application/xml",
        ] {
            #expect(compression.compresses(contentType: type), "\(type)")
        }
        for type in ["image/png", "application/octet-stream", "text", "text/", "application/json-seq", "textual/x", ""] {
            #expect(!compression.compresses(contentType: type), "\(type)")
        }
        #expect(!compression.compresses(contentType: nil))
    }

    private func request(_ method: HTTPMethod = .GET, accept: String? = "gzip") -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: "/")
        if let accept { head.headers.add(name: "accept-encoding", value: accept) }
        return head
    }

    @Test func decisions() {
        let compression = RouteCompression(CompressionConfiguration())
        func decide(
            _ request: HTTPRequestHead, status: HTTPResponseStatus = .ok, type: String? = "application/json",
            length: Int? = 5000, headers: HTTPHeaders? = nil
        ) -> RouteCompression.Decision {
            compression.decide(
                request: request, status: status, contentType: type, contentLength: length, responseHeaders: headers)
        }
        #expect(decide(request()) == .gzip)
        #expect(decide(request(), length: nil) == .gzip, "unknown length (chunked): compressed")
        #expect(decide(request(), length: 1024) == .gzip)
        #expect(decide(request(), length: 1023) == .vary)
        #expect(decide(request(accept: nil)) == .vary)
        #expect(decide(request(accept: "gzip;q=0")) == .vary)
        #expect(decide(request(.HEAD)) == .vary)
        for status in [HTTPResponseStatus.noContent, .notModified, .partialContent, .continue] {
            #expect(decide(request(), status: status) == .vary, "\(status)")
        }
        #expect(decide(request(), status: .notFound) == .gzip)
        #expect(decide(request(), type: "image/png") == .none)
        #expect(decide(request(), type: nil) == .none)
        #expect(decide(request(), headers: ["content-encoding": "br"]) == .none)
        #expect(decide(request(), headers: ["content-range": "bytes 0-9/100"]) == .none)
        #expect(decide(request(), headers: ["cache-control": "public, no-transform"]) == .none)
        #expect(decide(request(), headers: ["cache-control": "max-age=60"]) == .gzip)
    }

    @Test func compressedHeads() {
        var headers: HTTPHeaders = [
            "content-length": "5000", "etag": #""abc""#, "accept-ranges": "bytes", "content-type": "text/plain",
        ]
        RouteCompression.markCompressed(&headers)
        #expect(headers["content-length"].isEmpty)
        #expect(headers["accept-ranges"].isEmpty)
        #expect(headers["etag"] == [#"W/"abc""#])
        #expect(headers["content-encoding"] == ["gzip"])
        #expect(headers["vary"] == ["Accept-Encoding"])
        var weak: HTTPHeaders = ["etag": #"W/"abc""#, "vary": "Origin, accept-encoding"]
        RouteCompression.markCompressed(&weak)
        #expect(weak["etag"] == [#"W/"abc""#])
        #expect(weak["vary"] == ["Origin, accept-encoding"], "already covered")
        var other: HTTPHeaders = ["vary": "Origin"]
        RouteCompression.addVary(&other)
        #expect(other["vary"] == ["Origin", "Accept-Encoding"])
    }

    @Test func gzipEncoderStreamsAndResets() throws {
        let allocator = ByteBufferAllocator()
        var encoder = GzipEncoder()
        let text = String(repeating: "hello gzip, ", count: 500)
        for level: Int32 in [6, 6, 1] {
            try encoder.start(level: level)
            var output = try encoder.compress(ByteBuffer(string: text), allocator: allocator)
            var second = try encoder.compress(ByteBuffer(string: text), allocator: allocator)
            var end = try encoder.finish(allocator: allocator)
            output.writeBuffer(&second)
            output.writeBuffer(&end)
            #expect(output.readableBytes < text.utf8.count)
            #expect(output.getBytes(at: output.readerIndex, length: 2) == [0x1f, 0x8b])
        }
        let whole = try encoder.compress(whole: ByteBuffer(string: text), level: 9, allocator: allocator)
        #expect(whole.getBytes(at: whole.readerIndex, length: 2) == [0x1f, 0x8b])
    }

    /// A finished response gives its zlib state back to the thread's pool: an idle
    /// connection holds none, and the pool keeps at most a few.
    @Test func finishedStreamsReturnTheirZlibStateToTheThreadsPool() throws {
        let allocator = ByteBufferAllocator()
        let pool = CompressorPool.current
        let before = pool.idleCount
        var encoders = (0..<(CompressorPool.capacity + 2)).map { _ in GzipEncoder() }
        for index in encoders.indices { try encoders[index].start(level: 3) }
        #expect(pool.idleCount <= before)
        for index in encoders.indices { _ = try encoders[index].finish(allocator: allocator) }
        #expect(pool.idleCount == CompressorPool.capacity)
        // Reused states still produce a correct stream after reset.
        var encoder = GzipEncoder()
        let whole = try encoder.compress(whole: ByteBuffer(string: String(repeating: "abc", count: 1000)), level: 3, allocator: allocator)
        #expect(whole.readableBytes > 18 && whole.readableBytes < 3000)
        #expect(pool.idleCount == CompressorPool.capacity)
    }
}
