public import NIOCore
public import NIOHTTP1

/// The HTTP/1.1 response parser of an upstream connection, run inside its handler
/// (no `ByteToMessageHandler` or llhttp callbacks). The connection tells it whether
/// each request was a HEAD (`expectResponse(toHead:)`), whose response has no body.
///
/// Framing follows RFC 9112 §6.3: no body for HEAD, 204 and 304; `Transfer-Encoding`
/// ending in `chunked`; `Content-Length`; else everything until the upstream closes
/// (`finish` ends such a body). Interim 1xx responses are read and dropped; a 101 or a
/// response framed both ways is an error, as is anything malformed.
public struct HTTPResponseParser {
    private var stream: HTTPMessageStream<ResponseHeadReader>

    public init(maxHeaderBytes: Int = 65536) {
        self.stream = HTTPMessageStream(ResponseHeadReader(maxHeaderBytes: maxHeaderBytes))
    }

    /// Call before writing a request: whether it is a HEAD request.
    public mutating func expectResponse(toHead: Bool) {
        self.stream.reader.requestWasHead = toHead
    }

    /// Whether bytes are waiting to be parsed.
    public var hasUnparsedBytes: Bool { self.stream.hasUnparsedBytes }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: ByteBuffer) { self.stream.append(bytes) }

    /// The next part of the response, or nil until more bytes arrive. After an
    /// error it returns nil for good.
    public mutating func next() throws(HTTPParseError) -> HTTPClientResponsePart? {
        switch try self.stream.next() {
        case .head(let head)?: return .head(head)
        case .body(let piece)?: return .body(piece)
        case .end?: return .end(nil)
        case nil: return nil
        }
    }

    /// The connection closed: the end of a body that lasts until the close, nil when
    /// no response was under way, or an error for a response cut short.
    public mutating func finish() throws(HTTPParseError) -> HTTPClientResponsePart? {
        try self.stream.finish() ? .end(nil) : nil
    }
}

/// A status line and its fields.
struct ResponseHeadReader: HTTPHeadReader {
    let maxHeaderBytes: Int
    var requestWasHead = false
    private var headSearch = BlankLineSearch()

    init(maxHeaderBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
    }

    mutating func readHead(from buffer: inout ByteBuffer) throws(HTTPParseError) -> HTTPHeadReading<HTTPResponseHead>? {
        guard let headLength = self.headSearch.find(in: buffer) else {
            if buffer.readableBytes > self.maxHeaderBytes + 1024 { throw .headerOverflow }
            return nil
        }
        let head = try buffer.withUnsafeReadableBytes { bytes throws(HTTPParseError) in
            try self.parseHead(UnsafeRawBufferPointer(rebasing: bytes[..<headLength]))
        }
        buffer.moveReaderIndex(forwardBy: headLength)
        guard let head else { return .skip }  // an interim 1xx response, dropped
        return .head(head.0, head.1)
    }

    private func parseHead(
        _ bytes: UnsafeRawBufferPointer
    ) throws(HTTPParseError) -> (HTTPResponseHead, HTTPBodyReader.Framing)? {
        // Status line: HTTP-version SP 3DIGIT SP [reason-phrase] CRLF.
        guard bytes.count >= 14, let version = HTTPSyntax.version(bytes, at: 0), bytes[8] == 0x20 else {
            throw .malformed("invalid status line")
        }
        var code = 0
        for index in 9..<12 {
            guard bytes[index] >= 0x30, bytes[index] <= 0x39 else { throw .malformed("invalid status code") }
            code = code * 10 + Int(bytes[index] - 0x30)
        }
        guard code >= 100 else { throw .malformed("invalid status code") }
        var index = 12
        var reasonEnd = 12
        if bytes[index] == 0x20 {
            index += 1
            while bytes[index] != 0x0D {
                guard HTTPSyntax.isFieldValueByte(bytes[index]) else { throw .malformed("invalid reason phrase") }
                index += 1
            }
            reasonEnd = index
        }
        guard bytes[index] == 0x0D, bytes[index + 1] == 0x0A else { throw .malformed("invalid status line") }
        let reasonStart = min(13, reasonEnd)
        index += 2

        let section = try HTTPFieldSection.parse(bytes, from: index, maxBytes: self.maxHeaderBytes)
        if code < 200 {
            guard code != 101 else { throw .malformed("101 Switching Protocols was not asked for") }
            return nil
        }
        let framing: HTTPBodyReader.Framing
        if self.requestWasHead || code == 204 || code == 304 {
            framing = .empty
        } else if section.hasTransferEncoding {
            guard section.contentLength == nil else { throw .malformed("both Content-Length and Transfer-Encoding") }
            framing = section.isChunked ? .chunked : .untilClose
        } else if let length = section.contentLength {
            framing = .length(length)
        } else {
            framing = .untilClose
        }
        // NIO names the statuses it knows itself; the upstream's words matter only for others.
        var status = HTTPResponseStatus(statusCode: code)
        if case .custom = status {
            let reason = UnsafeRawBufferPointer(rebasing: bytes[reasonStart..<reasonEnd])
            status = HTTPResponseStatus(statusCode: code, reasonPhrase: String(decoding: reason, as: UTF8.self))
        }
        let head = HTTPResponseHead(
            version: HTTPVersion(major: version.major, minor: version.minor), status: status,
            headers: HTTPHeaders(section.fields))
        return (head, framing)
    }
}
