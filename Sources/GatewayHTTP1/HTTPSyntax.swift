/// Byte classes and constants of HTTP/1.1's syntax (RFC 9110, RFC 9112).
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

    /// Bytes allowed in a field value or a reason phrase: HTAB, SP, VCHAR, obs-text.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        (byte >= 0x20 || byte == 0x09) && byte != 0x7F
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09
    }

    /// "HTTP/1.1" and "HTTP/1.0" as the little-endian `UInt64`s their bytes load as.
    static let http11 = UInt64(littleEndianBytes: "HTTP/1.1")
    static let http10 = UInt64(littleEndianBytes: "HTTP/1.0")
    static let contentLength: StaticString = "content-length"
    static let transferEncoding: StaticString = "transfer-encoding"
    static let chunked: StaticString = "chunked"

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
        while end > 0, Self.isWhitespace(bytes[end - 1]) { end -= 1 }
        var start = end
        while start > 0, bytes[start - 1] != 0x2C, !Self.isWhitespace(bytes[start - 1]) { start -= 1 }
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

    /// The HTTP version of the 8 bytes at `index` ("HTTP/1.1" or "HTTP/1.0"), nil for any other.
    @inline(__always)
    static func version(_ bytes: UnsafeRawBufferPointer, at index: Int) -> (major: Int, minor: Int)? {
        switch UnsafeRawBufferPointer(rebasing: bytes[index..<index + 8]).loadUnaligned(as: UInt64.self) {
        case Self.http11: return (1, 1)
        case Self.http10: return (1, 0)
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
