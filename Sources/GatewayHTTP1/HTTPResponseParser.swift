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
    public let maxHeaderBytes: Int

    private var input: ByteBuffer?
    /// The body being read; nil while waiting for a head.
    private var body: HTTPBodyReader?
    private var headSearch = BlankLineSearch()
    private var requestWasHead = false
    private var failed = false

    public init(maxHeaderBytes: Int = 65536) {
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Call before writing a request: whether it is a HEAD request.
    public mutating func expectResponse(toHead: Bool) {
        self.requestWasHead = toHead
    }

    /// Whether bytes are waiting to be parsed.
    public var hasUnparsedBytes: Bool {
        (self.input?.readableBytes ?? 0) > 0
    }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: ByteBuffer) {
        self.input.appendRead(bytes)
    }

    /// The next part of the response, or nil until more bytes arrive. After an
    /// error it returns nil for good.
    public mutating func next() throws(HTTPParseError) -> HTTPClientResponsePart? {
        guard var buffer = self.input.take() else {
            if self.body?.isAtEnd == true {
                self.body = nil
                return .end(nil)
            }
            return nil
        }
        defer { self.input = buffer.readableBytes > 0 ? buffer : nil }
        guard !self.failed else {
            buffer.clear()
            return nil
        }
        do {
            if self.body == nil {
                guard let head = try self.readHead(from: &buffer) else { return nil }
                return .head(head)
            }
            switch try self.body!.next(from: &buffer, maxTrailerBytes: self.maxHeaderBytes) {
            case .body(let piece): return .body(piece)
            case .end:
                self.body = nil
                return .end(nil)
            case nil: return nil
            }
        } catch {
            self.failed = true
            buffer.clear()
            throw error
        }
    }

    /// The connection closed: the end of a body that lasts until the close, nil when
    /// no response was under way, or an error for a response cut short.
    public mutating func finish() throws(HTTPParseError) -> HTTPClientResponsePart? {
        defer { self.input = nil }
        guard !self.failed else { return nil }
        if let body = self.body {
            self.body = nil
            guard body.endsAtClose || body.isAtEnd else { throw .malformed("connection closed mid-body") }
            return .end(nil)
        }
        if self.hasUnparsedBytes { throw .malformed("connection closed mid-head") }
        return nil
    }

    private mutating func readHead(from buffer: inout ByteBuffer) throws(HTTPParseError) -> HTTPResponseHead? {
        while true {
            guard let headLength = self.headSearch.find(in: buffer) else {
                if buffer.readableBytes > self.maxHeaderBytes + 1024 { throw .headerOverflow }
                return nil
            }
            let head = try buffer.withUnsafeReadableBytes { bytes throws(HTTPParseError) in
                try self.parseHead(UnsafeRawBufferPointer(rebasing: bytes[..<headLength]))
            }
            buffer.moveReaderIndex(forwardBy: headLength)
            if let head { return head }  // else an interim 1xx response, dropped
        }
    }

    private mutating func parseHead(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPResponseHead? {
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
        if self.requestWasHead || code == 204 || code == 304 {
            self.body = HTTPBodyReader(.empty)
        } else if section.hasTransferEncoding {
            guard section.contentLength == nil else { throw .malformed("both Content-Length and Transfer-Encoding") }
            self.body = HTTPBodyReader(section.isChunked ? .chunked : .untilClose)
        } else if let length = section.contentLength {
            self.body = HTTPBodyReader(.length(length))
        } else {
            self.body = HTTPBodyReader(.untilClose)
        }
        // NIO names the statuses it knows itself; the upstream's words matter only for others.
        var status = HTTPResponseStatus(statusCode: code)
        if case .custom = status {
            let reason = UnsafeRawBufferPointer(rebasing: bytes[reasonStart..<reasonEnd])
            status = HTTPResponseStatus(statusCode: code, reasonPhrase: String(decoding: reason, as: UTF8.self))
        }
        return HTTPResponseHead(
            version: HTTPVersion(major: version.major, minor: version.minor), status: status,
            headers: HTTPHeaders(section.fields))
    }
}
