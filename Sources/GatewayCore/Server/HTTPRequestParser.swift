import NIOCore
import NIOHTTP1

/// Why the bytes on a connection are not an HTTP/1.1 request. The handler answers
/// 431 or 400 and closes: past this point the byte stream can't be trusted.
enum HTTPRequestParseError: Error, Equatable {
    /// The request target, a header field, the header section or the trailers are
    /// over `http.max_header_bytes`.
    case headerOverflow
    /// Anything else; the reason is for the debug log and the tests.
    case malformed(String)
}

/// The gateway's HTTP/1.1 request parser (RFC 9112), run inside `GatewayHTTPHandler`:
/// it turns the connection's plaintext into NIO's `HTTPServerRequestPart`s without
/// a `ByteToMessageHandler`, llhttp's callbacks or a pipeline hop per part.
///
/// It is strict where leniency lets two parsers disagree about where a request ends
/// (request smuggling): lines end in CRLF; no whitespace before a field's colon; no
/// obs-fold; `Content-Length` is digits, and several must agree; `Transfer-Encoding`
/// must end in `chunked` and can't come with `Content-Length`. Body parts are slices
/// of the bytes read (no copy); only a head or chunk line split across reads is copied.
struct HTTPRequestParser {
    let maxHeaderBytes: Int

    private enum Stage {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case end
        case failed
    }

    /// Bytes read and not yet parsed (nil when none, so a consumed read buffer is let go).
    private var input: ByteBuffer?
    private var stage = Stage.head
    /// How far the search for the end of a head (or of the trailers) already looked.
    private var searched = 0

    /// The longest chunk-size line (with extensions) accepted.
    static let maxChunkLineBytes = 4096

    init(maxHeaderBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Whether bytes are waiting to be parsed.
    var hasUnparsedBytes: Bool {
        (self.input?.readableBytes ?? 0) > 0
    }

    /// Adds bytes read from the connection.
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

    /// Forgets unparsed bytes (the connection is closing).
    mutating func discardUnparsedBytes() {
        self.input = nil
    }

    /// The next part of the request stream, or nil until more bytes arrive.
    mutating func next() throws(HTTPRequestParseError) -> HTTPServerRequestPart? {
        guard var buffer = self.input.take() else {
            if case .end = self.stage {
                self.stage = .head
                return .end(nil)
            }
            return nil
        }
        defer { self.input = buffer.readableBytes > 0 ? buffer : nil }
        do {
            return try self.next(from: &buffer)
        } catch {
            self.stage = .failed
            buffer.clear()
            throw error
        }
    }

    private mutating func next(from buffer: inout ByteBuffer) throws(HTTPRequestParseError) -> HTTPServerRequestPart? {
        while true {
            switch self.stage {
            case .head:
                guard let head = try self.readHead(from: &buffer) else { return nil }
                return .head(head)
            case .fixedBody(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let length = min(remaining, buffer.readableBytes)
                self.stage = length == remaining ? .end : .fixedBody(remaining: remaining - length)
                return .body(buffer.readSlice(length: length)!)
            case .chunkSize:
                guard let size = try self.readChunkSize(from: &buffer) else { return nil }
                self.stage = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let length = min(remaining, buffer.readableBytes)
                self.stage = length == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - length)
                return .body(buffer.readSlice(length: length)!)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else {
                    throw .malformed("chunk data not followed by CRLF")
                }
                self.stage = .chunkSize
            case .trailers:
                // Trailer fields are read and dropped, as nginx does.
                guard try self.skipTrailers(in: &buffer) else { return nil }
                self.stage = .head
                return .end(nil)
            case .end:
                self.stage = .head
                return .end(nil)
            case .failed:
                buffer.clear()
                return nil
            }
        }
    }

    // MARK: Head

    private mutating func readHead(from buffer: inout ByteBuffer) throws(HTTPRequestParseError) -> HTTPRequestHead? {
        // RFC 9112 §2.2: empty lines before a request line are ignored.
        while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
        }
        guard let headLength = self.findBlankLine(in: buffer) else {
            // The target and the fields are each limited, so a longer head can't be accepted.
            if buffer.readableBytes > 2 * self.maxHeaderBytes + 64 { throw .headerOverflow }
            return nil
        }
        let head = try buffer.withUnsafeReadableBytes { bytes throws(HTTPRequestParseError) in
            try self.parseHead(UnsafeRawBufferPointer(rebasing: bytes[..<headLength]))
        }
        buffer.moveReaderIndex(forwardBy: headLength)
        return head
    }

    /// The length up to and including the first CRLF CRLF, searching on from where the
    /// last search stopped (a head that arrives a byte at a time is scanned once).
    private mutating func findBlankLine(in buffer: ByteBuffer) -> Int? {
        let found: Int? = buffer.withUnsafeReadableBytes { bytes in
            let count = bytes.count
            var index = max(0, self.searched - 3)
            while index + 3 < count {
                if bytes[index + 3] != 0x0A {
                    index += bytes[index + 3] == 0x0D ? 1 : 4
                    continue
                }
                if bytes[index] == 0x0D, bytes[index + 1] == 0x0A, bytes[index + 2] == 0x0D {
                    return index + 4
                }
                index += 1
            }
            return nil
        }
        self.searched = found == nil ? buffer.readableBytes : 0
        return found
    }

    private mutating func parseHead(_ bytes: UnsafeRawBufferPointer) throws(HTTPRequestParseError) -> HTTPRequestHead {
        // Request line: method SP request-target SP HTTP-version CRLF.
        var index = 0
        while index < bytes.count, HTTPSyntax.isTokenByte(bytes[index]) { index += 1 }
        guard index > 0, index < bytes.count, bytes[index] == 0x20 else { throw .malformed("invalid method") }
        let method = HTTPSyntax.method(UnsafeRawBufferPointer(rebasing: bytes[..<index]))
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
        let version: HTTPVersion
        switch UnsafeRawBufferPointer(rebasing: bytes[index..<index + 8]).loadUnaligned(as: UInt64.self) {
        case HTTPSyntax.http11: version = .http1_1
        case HTTPSyntax.http10: version = .http1_0
        default: throw .malformed("unsupported HTTP version")
        }
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

        // Header fields: field-name ":" OWS field-value OWS CRLF, up to the blank line.
        var fields: [(String, String)] = []
        var fieldBytes = 0
        var contentLength: Int?
        var chunked = false
        var sawTransferEncoding = false
        let end = bytes.count - 2  // the blank line's CRLF
        while index < end {
            let nameStart = index
            while index < end, HTTPSyntax.isTokenByte(bytes[index]) { index += 1 }
            guard index > nameStart, index < end, bytes[index] == 0x3A else {
                throw .malformed(
                    index == nameStart && (bytes[index] == 0x20 || bytes[index] == 0x09)
                        ? "obsolete line folding" : "invalid header field name")
            }
            let nameEnd = index
            index += 1
            while index < end, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
            let valueStart = index
            var valueEnd = index
            while true {
                let byte = bytes[index]
                if byte == 0x0D { break }
                guard byte >= 0x20 || byte == 0x09, byte != 0x7F else {
                    throw .malformed("invalid character in header field value")
                }
                index += 1
                if byte != 0x20 && byte != 0x09 { valueEnd = index }
            }
            guard bytes[index + 1] == 0x0A else { throw .malformed("CR without LF") }
            index += 2
            let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameEnd])
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            fieldBytes += name.count + value.count
            if fieldBytes > self.maxHeaderBytes { throw .headerOverflow }
            if HTTPSyntax.equalsLowercase(name, HTTPSyntax.contentLength) {
                guard let length = HTTPSyntax.decimal(value), contentLength == nil || contentLength == length else {
                    throw .malformed("invalid Content-Length")
                }
                contentLength = length
            } else if HTTPSyntax.equalsLowercase(name, HTTPSyntax.transferEncoding) {
                sawTransferEncoding = true
                chunked = HTTPSyntax.endsInChunked(value)
            }
            fields.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        if sawTransferEncoding {
            // RFC 9112 §6.3: a request whose final coding isn't chunked has no knowable length.
            guard chunked else { throw .malformed("Transfer-Encoding does not end in chunked") }
            guard contentLength == nil else { throw .malformed("both Content-Length and Transfer-Encoding") }
        }
        if chunked {
            self.stage = .chunkSize
        } else if let contentLength, contentLength > 0 {
            self.stage = .fixedBody(remaining: contentLength)
        } else {
            self.stage = .end
        }
        return HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(fields))
    }

    // MARK: Chunked body

    private func readChunkSize(from buffer: inout ByteBuffer) throws(HTTPRequestParseError) -> Int? {
        let parsed = try buffer.withUnsafeReadableBytes { bytes throws(HTTPRequestParseError) -> (size: Int, length: Int)? in
            var index = 0
            var size = 0
            while index < bytes.count, let digit = HTTPSyntax.hexValue(bytes[index]) {
                guard index < 15 else { throw .malformed("chunk size too large") }
                size = size << 4 | digit
                index += 1
            }
            if index == bytes.count { return nil }
            guard index > 0 else { throw .malformed("invalid chunk size") }
            // Chunk extensions are ignored (RFC 9112 §7.1.1), their bytes checked.
            while index < bytes.count, bytes[index] != 0x0D {
                let byte = bytes[index]
                guard byte >= 0x20 || byte == 0x09, byte != 0x7F else { throw .malformed("invalid chunk extension") }
                guard index < Self.maxChunkLineBytes else { throw .malformed("chunk extension too long") }
                index += 1
            }
            guard index + 1 < bytes.count else { return nil }
            guard bytes[index + 1] == 0x0A else { throw .malformed("CR without LF") }
            return (size, index + 2)
        }
        guard let parsed else {
            if buffer.readableBytes > Self.maxChunkLineBytes { throw .malformed("chunk extension too long") }
            return nil
        }
        buffer.moveReaderIndex(forwardBy: parsed.length)
        return parsed.size
    }

    /// Reads past the trailer section (or the last chunk's bare CRLF); false until it is all here.
    private mutating func skipTrailers(in buffer: inout ByteBuffer) throws(HTTPRequestParseError) -> Bool {
        guard buffer.readableBytes >= 2 else { return false }
        if buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
            return true
        }
        guard let length = self.findBlankLine(in: buffer) else {
            if buffer.readableBytes > self.maxHeaderBytes { throw .headerOverflow }
            return false
        }
        if length - 4 > self.maxHeaderBytes { throw .headerOverflow }
        buffer.moveReaderIndex(forwardBy: length)
        return true
    }
}

/// Byte classes and constants of HTTP/1.1's syntax.
enum HTTPSyntax {
    /// tchar (RFC 9110 §5.6.2): the bytes of a method or a field name.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x61...0x7A, 0x41...0x5A, 0x30...0x39,  // letters, digits
            0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E...0x60, 0x7C, 0x7E:  // !#$%&'*+-.^_`|~
            return true
        default:
            return false
        }
    }

    /// "HTTP/1.1" and "HTTP/1.0" as the little-endian `UInt64`s their bytes load as.
    static let http11 = UInt64(littleEndianBytes: "HTTP/1.1")
    static let http10 = UInt64(littleEndianBytes: "HTTP/1.0")
    static let contentLength: StaticString = "content-length"
    static let transferEncoding: StaticString = "transfer-encoding"
    static let chunked: StaticString = "chunked"

    static func method(_ bytes: UnsafeRawBufferPointer) -> HTTPMethod {
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

    /// Whether `bytes`, ASCII-lowercased, equal `lowercase` (letters, digits and '-').
    @inline(__always)
    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        for index in 0..<bytes.count where bytes[index] | 0x20 != expected[index] { return false }
        return true
    }

    /// 1*DIGIT as an `Int`; nil for anything else or a value too large.
    static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    /// Whether a `Transfer-Encoding` value's last coding is `chunked`.
    static func endsInChunked(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        var start = end
        while start > 0, bytes[start - 1] != 0x2C, bytes[start - 1] != 0x20, bytes[start - 1] != 0x09 { start -= 1 }
        return Self.equalsLowercase(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), Self.chunked)
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        default: return nil
        }
    }
}

extension UInt64 {
    /// The integer whose little-endian bytes are the first 8 of `ascii`.
    fileprivate init(littleEndianBytes ascii: StaticString) {
        var value: UInt64 = 0
        ascii.withUTF8Buffer { bytes in
            for index in (0..<8).reversed() { value = value << 8 | UInt64(bytes[index]) }
        }
        self = value
    }
}
