public import NIOCore
public import NIOHTTP1

/// The gateway's HTTP/1.1 request parser (RFC 9112), run inside the connection's
/// handler: it turns the plaintext into NIO's `HTTPServerRequestPart`s without a
/// `ByteToMessageHandler`, llhttp's callbacks or a pipeline hop per part.
///
/// It is strict where leniency lets two parsers disagree about where a request ends
/// (request smuggling): lines end in CRLF; no whitespace before a field's colon; no
/// obs-fold; `Content-Length` is digits, and several must agree; `Transfer-Encoding`
/// must end in `chunked` and can't come with `Content-Length`. Body parts are slices
/// of the bytes read (no copy); only a head or chunk line split across reads is copied.
public struct HTTPRequestParser {
    private var stream: HTTPMessageStream<RequestHeadReader>

    public var maxHeaderBytes: Int { self.stream.reader.maxHeaderBytes }

    public init(maxHeaderBytes: Int) {
        self.stream = HTTPMessageStream(RequestHeadReader(maxHeaderBytes: maxHeaderBytes))
    }

    /// Whether bytes are waiting to be parsed.
    public var hasUnparsedBytes: Bool { self.stream.hasUnparsedBytes }

    /// Whether the next part is the `.end` of a request whose head said it has no body.
    public var nextIsEnd: Bool { self.stream.nextIsEnd }

    /// Consumes that `.end` (the caller serves the request as ended).
    public mutating func consumeEnd() { self.stream.consumeEnd() }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: ByteBuffer) { self.stream.append(bytes) }

    /// Forgets unparsed bytes (the connection is closing).
    public mutating func discardUnparsedBytes() { self.stream.discardUnparsedBytes() }

    /// The next part of the request stream, or nil until more bytes arrive. After an
    /// error it returns nil for good.
    public mutating func next() throws(HTTPParseError) -> HTTPServerRequestPart? {
        switch try self.stream.next() {
        case .head(let head)?: return .head(head)
        case .body(let piece)?: return .body(piece)
        case .end?: return .end(nil)
        case nil: return nil
        }
    }
}

/// A request line and its fields.
struct RequestHeadReader: HTTPHeadReader {
    let maxHeaderBytes: Int
    private var headSearch = BlankLineSearch()

    init(maxHeaderBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
    }

    mutating func readHead(from buffer: inout ByteBuffer) throws(HTTPParseError) -> HTTPHeadReading<HTTPRequestHead>? {
        // RFC 9112 §2.2: empty lines before a request line are ignored.
        while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
        }
        guard let headLength = self.headSearch.find(in: buffer) else {
            // The target and the fields are each limited, so a longer head can't be accepted.
            if buffer.readableBytes > 2 * self.maxHeaderBytes + 64 { throw .headerOverflow }
            return nil
        }
        let head = try buffer.withUnsafeReadableBytes { bytes throws(HTTPParseError) in
            try self.parseHead(UnsafeRawBufferPointer(rebasing: bytes[..<headLength]))
        }
        buffer.moveReaderIndex(forwardBy: headLength)
        return .head(head.0, head.1)
    }

    private func parseHead(
        _ bytes: UnsafeRawBufferPointer
    ) throws(HTTPParseError) -> (HTTPRequestHead, HTTPBodyReader.Framing) {
        // Request line: method SP request-target SP HTTP-version CRLF.
        var index = 0
        while index < bytes.count, HTTPSyntax.isTokenByte(bytes[index]) { index += 1 }
        guard index > 0, index < bytes.count, bytes[index] == 0x20 else { throw .malformed("invalid method") }
        let method = Self.method(UnsafeRawBufferPointer(rebasing: bytes[..<index]))
        index += 1
        let targetStart = index
        var targetIsASCII = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte <= 0x20 || byte == 0x7F { break }
            if byte >= 0x80 { targetIsASCII = false }
            index += 1
        }
        let targetEnd = index
        guard targetEnd > targetStart, index < bytes.count, bytes[index] == 0x20 else {
            throw .malformed("invalid request target")
        }
        if targetEnd - targetStart > self.maxHeaderBytes { throw .headerOverflow }
        index += 1
        guard bytes.count - index >= 10, bytes[index + 8] == 0x0D, bytes[index + 9] == 0x0A else {
            throw .malformed("invalid HTTP version")
        }
        guard let version = HTTPSyntax.version(bytes, at: index) else { throw .malformed("unsupported HTTP version") }
        index += 10
        let target = UnsafeRawBufferPointer(rebasing: bytes[targetStart..<targetEnd])
        let uri: String
        if targetIsASCII {
            uri = String(decoding: target, as: UTF8.self)
        } else {
            guard let valid = String(validating: target, as: UTF8.self) else {
                throw .malformed("request target is not UTF-8")
            }
            uri = valid
        }

        let section = try HTTPFieldSection.parse(bytes, from: index, maxBytes: self.maxHeaderBytes)
        let framing: HTTPBodyReader.Framing
        if section.hasTransferEncoding {
            // RFC 9112 §6.3: a request whose final coding isn't chunked has no knowable length.
            guard section.isChunked else { throw .malformed("Transfer-Encoding does not end in chunked") }
            guard section.contentLength == nil else { throw .malformed("both Content-Length and Transfer-Encoding") }
            framing = .chunked
        } else {
            framing = .length(section.contentLength ?? 0)
        }
        let head = HTTPRequestHead(
            version: HTTPVersion(major: version.major, minor: version.minor), method: method, uri: uri,
            headers: HTTPHeaders(section.fields))
        return (head, framing)
    }

    private static func method(_ bytes: UnsafeRawBufferPointer) -> HTTPMethod {
        switch bytes.count {
        case 3:
            if bytes[0] == 0x47, bytes[1] == 0x45, bytes[2] == 0x54 { return .GET }
            if bytes[0] == 0x50, bytes[1] == 0x55, bytes[2] == 0x54 { return .PUT }
        case 4:
            if bytes.elementsEqual("POST".utf8) { return .POST }
            if bytes.elementsEqual("HEAD".utf8) { return .HEAD }
        case 5:
            if bytes.elementsEqual("PATCH".utf8) { return .PATCH }
        case 6:
            if bytes.elementsEqual("DELETE".utf8) { return .DELETE }
        case 7:
            if bytes.elementsEqual("OPTIONS".utf8) { return .OPTIONS }
        default:
            break
        }
        return HTTPMethod(rawValue: String(decoding: bytes, as: UTF8.self))
    }
}
