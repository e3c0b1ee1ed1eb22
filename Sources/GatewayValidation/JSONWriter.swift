public import NIOCore

/// Why Python could not have produced the body: FastAPI answers 500 Internal Server Error.
public enum JSONWriteError: Error, Sendable, Equatable {
    /// `ValueError: Out of range float values are not JSON compliant` (allow_nan=False).
    case nonFiniteFloat
    /// `UnicodeEncodeError: surrogates not allowed` when the text is encoded as UTF-8.
    case loneSurrogate
}

/// Serialises like Starlette's `JSONResponse.render`: `json.dumps(content, ensure_ascii=False,
/// allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")`.
public struct JSONWriter: Sendable {
    /// Treat U+FFFD in strings as a lone surrogate (see `JSONDocument.containsLoneSurrogates`);
    /// set it when writing values that came from a document with lone surrogates.
    public var rejectsReplacementCharacter: Bool

    public init(rejectsReplacementCharacter: Bool = false) {
        self.rejectsReplacementCharacter = rejectsReplacementCharacter
    }

    public func write(_ value: JSONValue, into buffer: inout ByteBuffer) throws(JSONWriteError) {
        switch value {
        case .null: buffer.writeStaticString("null")
        case .bool(let b): buffer.writeStaticString(b ? "true" : "false")
        case .number(let number): try self.write(number, into: &buffer)
        case .string(let string): try self.write(string: string, into: &buffer)
        case .array(let elements):
            buffer.writeInteger(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                try self.write(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .object(let object):
            try self.write(object, into: &buffer)
        }
    }

    public func write(_ object: JSONObject, into buffer: inout ByteBuffer) throws(JSONWriteError) {
        buffer.writeInteger(UInt8(ascii: "{"))
        var first = true
        for (key, value) in object.pairs {
            if !first { buffer.writeInteger(UInt8(ascii: ",")) }
            first = false
            try self.write(string: key, into: &buffer)
            buffer.writeInteger(UInt8(ascii: ":"))
            try self.write(value, into: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    public func write(_ number: JSONNumber, into buffer: inout ByteBuffer) throws(JSONWriteError) {
        if number.isInteger {
            buffer.writeString(PythonInt.canonical(jsonLexeme: number.lexeme))
        } else {
            let value = number.doubleValue
            guard value.isFinite else { throw .nonFiniteFloat }
            buffer.writeString(PythonFloat.repr(value))
        }
    }

    public func write(double value: Double, into buffer: inout ByteBuffer) throws(JSONWriteError) {
        guard value.isFinite else { throw .nonFiniteFloat }
        buffer.writeString(PythonFloat.repr(value))
    }

    public func write(string: String, into buffer: inout ByteBuffer) throws(JSONWriteError) {
        var string = string
        let result = string.withUTF8 { utf8 in
            Result { () throws(JSONWriteError) in try self.write(utf8: UnsafeRawBufferPointer(utf8), into: &buffer) }
        }
        try result.get()
    }

    public func write(string: Substring, into buffer: inout ByteBuffer) throws(JSONWriteError) {
        var string = string
        let result = string.withUTF8 { utf8 in
            Result { () throws(JSONWriteError) in try self.write(utf8: UnsafeRawBufferPointer(utf8), into: &buffer) }
        }
        try result.get()
    }

    /// Writes a quoted JSON string from valid UTF-8.
    public func write(utf8 bytes: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) throws(JSONWriteError) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var runStart = 0
        var i = 0
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            if c >= 0x20 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") {
                if c == 0xEF && self.rejectsReplacementCharacter && i + 2 < n && bytes[i + 1] == 0xBF
                    && bytes[i + 2] == 0xBD
                {
                    throw .loneSurrogate
                }
                i += 1
                continue
            }
            if runStart < i { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<i])) }
            switch c {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            case 0x09: buffer.writeStaticString("\\t")
            case 0x08: buffer.writeStaticString("\\b")
            case 0x0C: buffer.writeStaticString("\\f")
            default:
                let hex: StaticString = "0123456789abcdef"
                buffer.writeStaticString("\\u00")
                buffer.writeInteger(hex.utf8Start[Int(c >> 4)])
                buffer.writeInteger(hex.utf8Start[Int(c & 0xF)])
            }
            i += 1
            runStart = i
        }
        if runStart < n { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<n])) }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// The whole value as bytes.
    public func bytes(_ value: JSONValue, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(JSONWriteError)
        -> ByteBuffer
    {
        var buffer = allocator.buffer(capacity: 64)
        try self.write(value, into: &buffer)
        return buffer
    }
}

extension ByteBuffer {
    /// Decimal digits of an integer without going through String.
    @inlinable
    public mutating func writeDecimal(_ value: Int) {
        if value < 0 {
            self.writeInteger(UInt8(ascii: "-"))
        }
        var magnitude = value.magnitude
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes, enough for 20 digits
        withUnsafeMutableBytes(of: &scratch) { digits in
            var i = digits.count
            repeat {
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            self.writeBytes(UnsafeRawBufferPointer(rebasing: digits[i...]))
        }
    }
}
