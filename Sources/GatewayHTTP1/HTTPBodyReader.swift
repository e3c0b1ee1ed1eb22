import NIOCore

/// Reads one message body as its framing says (RFC 9112 §6.3, §7.1): a length,
/// chunks (extensions and trailers read and dropped, as nginx does), or everything
/// until the connection closes. Body pieces are slices of the bytes read, not copies.
struct HTTPBodyReader {
    enum Framing {
        case empty
        case length(Int)
        case chunked
        case untilClose
    }

    enum Event {
        case body(ByteBuffer)
        case end
    }

    private enum Stage {
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case end
    }

    /// The longest chunk-size line (with extensions) accepted.
    static let maxChunkLineBytes = 4096

    private var stage: Stage
    private var trailerSearch = BlankLineSearch()

    init(_ framing: Framing) {
        switch framing {
        case .empty, .length(0): self.stage = .end
        case .length(let length): self.stage = .fixed(remaining: length)
        case .chunked: self.stage = .chunkSize
        case .untilClose: self.stage = .untilClose
        }
    }

    /// Whether the body ends only when the connection closes.
    var endsAtClose: Bool {
        if case .untilClose = self.stage { return true }
        return false
    }

    /// Whether the end is due without more bytes.
    var isAtEnd: Bool {
        if case .end = self.stage { return true }
        return false
    }

    /// The next piece of the body, `.end` once it is over, nil until more bytes arrive.
    mutating func next(from buffer: inout ByteBuffer, maxTrailerBytes: Int) throws(HTTPParseError) -> Event? {
        while true {
            switch self.stage {
            case .fixed(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let length = min(remaining, buffer.readableBytes)
                self.stage = length == remaining ? .end : .fixed(remaining: remaining - length)
                return .body(buffer.readSlice(length: length)!)
            case .chunkSize:
                guard let size = try Self.readChunkSize(from: &buffer) else { return nil }
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
                guard try self.skipTrailers(in: &buffer, maxBytes: maxTrailerBytes) else { return nil }
                self.stage = .end
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .end:
                return .end
            }
        }
    }

    private static func readChunkSize(from buffer: inout ByteBuffer) throws(HTTPParseError) -> Int? {
        let parsed = try buffer.withUnsafeReadableBytes { bytes throws(HTTPParseError) -> (size: Int, length: Int)? in
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
                guard HTTPSyntax.isFieldValueByte(bytes[index]) else { throw .malformed("invalid chunk extension") }
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
    private mutating func skipTrailers(in buffer: inout ByteBuffer, maxBytes: Int) throws(HTTPParseError) -> Bool {
        guard buffer.readableBytes >= 2 else { return false }
        if buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
            return true
        }
        guard let length = self.trailerSearch.find(in: buffer) else {
            if buffer.readableBytes > maxBytes { throw .headerOverflow }
            return false
        }
        if length - 4 > maxBytes { throw .headerOverflow }
        buffer.moveReaderIndex(forwardBy: length)
        return true
    }
}

/// The search for the blank line (CRLF CRLF) that ends a head or a trailer section,
/// going on from where the last search stopped, so bytes that arrive one at a time
/// are scanned once.
struct BlankLineSearch {
    private var searched = 0

    /// The length up to and including the first CRLF CRLF of `buffer`'s readable bytes.
    mutating func find(in buffer: ByteBuffer) -> Int? {
        let found: Int? = buffer.withUnsafeReadableBytes { bytes in
            let count = bytes.count
            var index = max(0, self.searched - 3)
            while index + 3 < count {
                let last = bytes[index + 3]
                if last != 0x0A {
                    // No match can include a byte that is neither CR nor LF.
                    index += last == 0x0D ? 1 : 4
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
}
