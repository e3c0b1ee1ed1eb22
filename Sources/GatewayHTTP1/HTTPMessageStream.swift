import NIOCore

/// How the head of one kind of message is read (a request's or a response's).
protocol HTTPHeadReader {
    associatedtype Head
    /// A head from the start of `buffer` (consumed) and its body's framing, or nil (nothing
    /// consumed) until all of it is there. Returns `.skip` for a head the stream drops
    /// (an interim 1xx response).
    mutating func readHead(from buffer: inout ByteBuffer) throws(HTTPParseError) -> HTTPHeadReading<Head>?
    /// The limit for the trailer section of a chunked body.
    var maxHeaderBytes: Int { get }
}

enum HTTPHeadReading<Head> {
    case head(Head, HTTPBodyReader.Framing)
    case skip
}

/// One direction of an HTTP/1.1 connection as a stream of messages: the bytes read and not
/// yet parsed, the body being read, and whether the stream failed (for good). What the
/// request and the response parsers share; each brings its `HTTPHeadReader`.
struct HTTPMessageStream<Reader: HTTPHeadReader> {
    enum Part {
        case head(Reader.Head)
        case body(ByteBuffer)
        case end
    }

    var reader: Reader
    /// Bytes read and not yet parsed (nil when none, so a consumed read buffer is let go).
    private var input: ByteBuffer?
    /// The body being read; nil while waiting for a head.
    private var body: HTTPBodyReader?
    private var failed = false

    init(_ reader: Reader) {
        self.reader = reader
    }

    var hasUnparsedBytes: Bool {
        (self.input?.readableBytes ?? 0) > 0
    }

    /// Whether the next part is the `.end` of a message whose head said it has no body.
    var nextIsEnd: Bool {
        self.body?.isAtEnd == true
    }

    mutating func consumeEnd() {
        precondition(self.nextIsEnd)
        self.body = nil
    }

    /// Adds bytes read: the read buffer itself when nothing is held (no copy).
    mutating func append(_ bytes: ByteBuffer) {
        guard var held = self.input.take(), held.readableBytes > 0 else {
            self.input = bytes
            return
        }
        // Rare: part of a head or chunk line came in an earlier read.
        var bytes = bytes
        held.writeBuffer(&bytes)
        self.input = held
    }

    mutating func discardUnparsedBytes() {
        self.input = nil
    }

    /// The next part, or nil until more bytes arrive. After an error, nil for good.
    mutating func next() throws(HTTPParseError) -> Part? {
        guard var buffer = self.input.take() else {
            if self.nextIsEnd {
                self.body = nil
                return .end
            }
            return nil
        }
        defer { self.input = buffer.readableBytes > 0 ? buffer : nil }
        guard !self.failed else {
            buffer.clear()
            return nil
        }
        do {
            while self.body == nil {
                switch try self.reader.readHead(from: &buffer) {
                case .head(let head, let framing)?:
                    self.body = HTTPBodyReader(framing)
                    return .head(head)
                case .skip?:
                    continue
                case nil:
                    return nil
                }
            }
            switch try self.body!.next(from: &buffer, maxTrailerBytes: self.reader.maxHeaderBytes) {
            case .body(let piece): return .body(piece)
            case .end:
                self.body = nil
                return .end
            case nil: return nil
            }
        } catch {
            self.failed = true
            buffer.clear()
            throw error
        }
    }

    /// The connection closed: whether that ends a body read until the close (or one already
    /// complete); an error for a message cut short; false when no message was under way.
    mutating func finish() throws(HTTPParseError) -> Bool {
        defer { self.input = nil }
        guard !self.failed else { return false }
        if let body = self.body {
            self.body = nil
            guard body.endsAtClose || body.isAtEnd else { throw .malformed("connection closed mid-body") }
            return true
        }
        if self.hasUnparsedBytes { throw .malformed("connection closed mid-head") }
        return false
    }
}
