import CompressNIO
import GatewayConfig
import GatewayProxy
import NIOCore
import NIOPosix
import NIOHTTP1

/// What a client's `Accept-Encoding` says about gzip (RFC 9110 §12.5.3).
enum AcceptEncoding {
    /// Whether gzip is acceptable: its own q-value when listed (`gzip` or
    /// `x-gzip`), else that of `*`; `q=0` refuses. No field, or a field that
    /// names neither, means no gzip (as nginx does). `identity;q=0` needs no
    /// special case: it only forbids the uncompressed answer, and the gateway
    /// sends gzip whenever it can.
    static func acceptsGzip(_ headers: HTTPHeaders) -> Bool {
        var gzip: Double?
        var any: Double?
        // Scanned in place: `headers[canonicalForm:]` and `split` would allocate per request.
        for (name, value) in headers where name.caseInsensitiveEquals("accept-encoding") {
            HTTPList.forEachElement(of: value, separatedBy: UInt8(ascii: ",")) { element in
                Self.scan(element, gzip: &gzip, any: &any)
            }
        }
        if let gzip { return gzip > 0 }
        if let any { return any > 0 }
        return false
    }

    /// `acceptsGzip` for one field value (tests).
    static func acceptsGzip(_ value: String) -> Bool {
        var headers = HTTPHeaders()
        headers.add(name: "accept-encoding", value: value)
        return Self.acceptsGzip(headers)
    }

    /// One list element (`gzip;q=0.5`).
    private static func scan(_ element: UnsafeRawBufferPointer, gzip: inout Double?, any: inout Double?) {
        let (codingBytes, parameters) = HTTPList.split(element, at: UInt8(ascii: ";"))
        let coding = HTTPList.trimmingWhitespace(codingBytes)
        let isAny = coding.count == 1 && coding[0] == UInt8(ascii: "*")
        guard isAny || coding.caseInsensitiveEquals("gzip") || coding.caseInsensitiveEquals("x-gzip") else { return }
        var q = 1.0
        var malformed = false
        if let parameters {
            HTTPList.forEachElement(of: parameters, separatedBy: UInt8(ascii: ";")) { parameter in
                let (name, value) = HTTPList.split(parameter, at: UInt8(ascii: "="))
                guard let value, HTTPList.trimmingWhitespace(name).caseInsensitiveEquals("q") else { return }
                let weight = HTTPList.trimmingWhitespace(value)
                if weight.isEmpty { return }
                // A malformed weight: the element is ignored.
                guard let parsed = Self.qValue(weight) else {
                    malformed = true
                    return
                }
                q = parsed
            }
        }
        if malformed { return }
        if isAny {
            any = max(any ?? 0, q)
        } else {
            gzip = max(gzip ?? 0, q)
        }
    }

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`
    static func qValue(_ text: Substring) -> Double? {
        Self.qValue(text.utf8)
    }

    static func qValue<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Double? {
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        if bytes.count == 1 { return first == UInt8(ascii: "1") ? 1 : 0 }
        guard bytes.dropFirst().first == UInt8(ascii: "."), bytes.count <= 5 else { return nil }
        var thousandths = 0
        var scale = 100
        for digit in bytes.dropFirst(2) {
            guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9") else { return nil }
            thousandths += Int(digit - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        if first == UInt8(ascii: "1") { return thousandths == 0 ? 1 : nil }
        return Double(thousandths) / 1000
    }
}

extension Substring {
    func trimmingHTTPWhitespace() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}

/// A route's compression settings, compiled: which responses it gzips.
struct RouteCompression: Sendable {
    enum Decision: Equatable {
        /// Not a compressible response: sent as it is, no `Vary`.
        case none
        /// Compressible, but not this time (the client, the size, the method or
        /// the status): sent as it is, with `Vary: Accept-Encoding`.
        case vary
        /// Sent gzip-encoded, with `Vary: Accept-Encoding`.
        case gzip
    }

    let minSize: Int
    let level: Int32
    /// Lowercased media types, and prefixes for `type/*`.
    private let types: [String]
    /// `text/` for `text/*`.
    private let typePrefixes: [String]

    init(_ configuration: CompressionConfiguration) {
        self.minSize = configuration.minSize
        self.level = Int32(configuration.level)
        self.types = configuration.types.filter { !$0.hasSuffix("/*") }.map { $0.lowercased() }
        self.typePrefixes = configuration.types.filter { $0.hasSuffix("/*") }.map { String($0.dropLast()).lowercased() }
    }

    /// Whether a `Content-Type` (parameters ignored) is in the route's list.
    func compresses(contentType: String?) -> Bool {
        guard var contentType else { return false }
        // Compared in place, ignoring case: a lowercased copy would allocate per response.
        return contentType.withUTF8 { utf8 in
            let type = HTTPList.trimmingWhitespace(HTTPList.split(UnsafeRawBufferPointer(utf8), at: UInt8(ascii: ";")).before)
            if self.types.contains(where: { type.caseInsensitiveEquals(lowercase: $0.utf8) }) { return true }
            return self.typePrefixes.contains { prefix in
                type.count > prefix.utf8.count
                    && type.prefix(prefix.utf8.count).caseInsensitiveEquals(lowercase: prefix.utf8)
            }
        }
    }

    /// The decision for one response.
    /// - Parameters:
    ///   - contentLength: the body's length when known; nil for a streamed body of unknown length.
    ///   - responseHeaders: the upstream's fields, checked for `Content-Encoding`,
    ///     `Content-Range` and `Cache-Control: no-transform`; nil for the gateway's own answers.
    func decide(
        request: HTTPRequestHead, status: HTTPResponseStatus, contentType: String?, contentLength: Int?,
        responseHeaders: HTTPHeaders? = nil
    ) -> Decision {
        guard self.compresses(contentType: contentType) else { return .none }
        if let headers = responseHeaders {
            // Never twice, never a part of a body, never against the upstream's wish.
            if headers.contains(name: "content-encoding") || headers.contains(name: "content-range") { return .none }
            if headers[canonicalForm: "cache-control"].contains(where: { $0.lowercased() == "no-transform" }) {
                return .none
            }
        }
        let code = status.code
        if request.method == .HEAD || code < 200 || code == 204 || code == 206 || code == 304 { return .vary }
        if let contentLength, contentLength < self.minSize { return .vary }
        return AcceptEncoding.acceptsGzip(request.headers) ? .gzip : .vary
    }

    /// The fields a response compressed by the gateway gets: `Content-Encoding`,
    /// `Vary`, a weak `ETag` (the bytes differ from the identity ones, as nginx
    /// does), and no `Content-Length` or `Accept-Ranges`.
    static func markCompressed(_ headers: inout HTTPHeaders) {
        headers.remove(name: "content-length")
        headers.remove(name: "accept-ranges")
        if let etag = headers.first(name: "etag"), !etag.hasPrefix("W/") {
            headers.replaceOrAdd(name: "etag", value: "W/" + etag)
        }
        headers.add(name: "content-encoding", value: "gzip")
        Self.addVary(&headers)
    }

    /// `Vary: Accept-Encoding`, unless the upstream's `Vary` already covers it.
    static func addVary(_ headers: inout HTTPHeaders) {
        let covered = headers[canonicalForm: "vary"].contains {
            $0 == "*" || $0.lowercased() == "accept-encoding"
        }
        if !covered { headers.add(name: "vary", value: "Accept-Encoding") }
    }
}

/// The gzip stream of one response. The zlib state (about 260 KB at level 6)
/// is borrowed from this thread's `CompressorPool` at `start` and given back at
/// `finish`, so an idle keep-alive connection holds none, and a thread keeps
/// only a few for reuse. Not Sendable; lives in the connection's handler on its
/// event loop.
struct GzipEncoder {
    private var compressor: ZlibCompressor?
    private var level: Int32 = 0

    /// Starts a response's stream at `level`.
    mutating func start(level: Int32) throws {
        if let compressor { CompressorPool.current.giveBack(compressor, level: self.level) }
        self.compressor = try CompressorPool.current.take(level: level)
        self.level = level
    }

    /// One piece of a streamed body, sync-flushed: the client can inflate
    /// everything sent so far, and nothing waits inside zlib between reads.
    /// `headroom` bytes are left free before the compressed bytes (for a chunk's
    /// size line, written in place).
    func compress(_ chunk: ByteBuffer, headroom: Int = 0, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        var chunk = chunk
        var output = Self.buffer(headroom: headroom, capacity: self.compressor!.maxSize(from: chunk), allocator: allocator)
        try chunk.compressStream(to: &output, with: self.compressor!, flush: .sync)
        return output
    }

    /// The end of the stream (the last deflate block and the gzip trailer), with
    /// `headroom` free bytes before it and room for `tailroom` after; the zlib state
    /// goes back to the thread's pool.
    mutating func finish(headroom: Int = 0, tailroom: Int = 0, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        var empty = ByteBuffer()
        defer { self.release() }
        var output = Self.buffer(
            headroom: headroom, capacity: self.compressor!.maxSize(from: empty) + tailroom, allocator: allocator)
        try empty.compressStream(to: &output, with: self.compressor!, flush: .finish)
        return output
    }

    private static func buffer(headroom: Int, capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: headroom + capacity)
        buffer.moveWriterIndex(forwardBy: headroom)
        buffer.moveReaderIndex(forwardBy: headroom)
        return buffer
    }

    /// A whole body at once.
    mutating func compress(whole body: ByteBuffer, level: Int32, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        try self.start(level: level)
        defer { self.release() }
        var body = body
        return try body.compressStream(with: self.compressor!, flush: .finish, allocator: allocator)
    }

    private mutating func release() {
        if let compressor { CompressorPool.current.giveBack(compressor, level: self.level) }
        self.compressor = nil
    }
}

/// A few idle zlib states per thread (event loop), reset and reused, so a
/// compressed response costs neither a 260 KB allocation nor a held buffer per
/// connection. Touched only by its own thread.
final class CompressorPool: @unchecked Sendable {  // each instance belongs to one thread
    private static let perThread = ThreadSpecificVariable<CompressorPool>()
    /// Enough for the compressed responses one loop has in flight at once, usually.
    static let capacity = 4

    private var idle: [(level: Int32, compressor: ZlibCompressor)] = []

    static var current: CompressorPool {
        if let pool = Self.perThread.currentValue { return pool }
        let pool = CompressorPool()
        Self.perThread.currentValue = pool
        return pool
    }

    func take(level: Int32) throws -> ZlibCompressor {
        if let index = self.idle.lastIndex(where: { $0.level == level }) {
            let compressor = self.idle.remove(at: index).compressor
            try compressor.reset()
            return compressor
        }
        return try ZlibCompressor(
            algorithm: .gzip,
            configuration: ZlibConfiguration(windowSize: 15, compressionLevel: level, memoryLevel: 8))
    }

    /// Idle states kept for reuse (for tests).
    var idleCount: Int { self.idle.count }

    func giveBack(_ compressor: ZlibCompressor, level: Int32) {
        guard self.idle.count < Self.capacity else { return }
        self.idle.append((level, compressor))
    }
}
