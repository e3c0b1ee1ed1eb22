public import NIOCore

/// `json.JSONDecodeError`: Python's message (without the "line x column y" suffix) and the
/// position in code points of the decoded text, which FastAPI reports as `loc: ["body", pos]`.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var position: Int

    public init(message: String, position: Int) {
        self.message = message
        self.position = position
    }

    public var description: String { "\(self.message) (char \(self.position))" }
}

/// Why a body is not a JSON document, split the way FastAPI answers it.
public enum JSONParseError: Error, Sendable, Equatable {
    /// `json.JSONDecodeError`: FastAPI answers 422 `json_invalid`.
    case syntax(JSONSyntaxError)
    /// Any other failure of `json.loads` (bytes that don't decode, an integer over Python's
    /// 4300-digit limit, nesting past the recursion limit): FastAPI answers 400
    /// `{"detail":"There was an error parsing the body"}`.
    case undecodable
}

/// A parsed document and what Python would still object to when writing it back.
public struct JSONDocument: Sendable, Equatable {
    public var value: JSONValue
    /// Python keeps lone UTF-16 surrogates (`"\ud800"`) in its strings and only fails when the
    /// string is encoded as UTF-8 for a response. Swift strings can't hold them: they are read
    /// as U+FFFD and this flag is set, so a writer can refuse to echo U+FFFD (see `JSONWriter`).
    public var containsLoneSurrogates: Bool

    public init(value: JSONValue, containsLoneSurrogates: Bool = false) {
        self.value = value
        self.containsLoneSurrogates = containsLoneSurrogates
    }
}

/// A JSON reader that accepts, rejects and reports exactly what Python's `json.loads(bytes)`
/// does (CPython's C scanner): the same encodings (UTF-8 with or without BOM, UTF-16, UTF-32),
/// the `NaN`/`Infinity`/`-Infinity` literals, the same error messages and positions.
public struct JSONParser: Sendable {
    /// Python's default recursion limit stops `json.loads` before this nesting; 968 is what
    /// FastAPI's own test client allows (it depends on the server's stack depth).
    public var maximumDepth: Int

    public init(maximumDepth: Int = 968) {
        self.maximumDepth = maximumDepth
    }

    public func parse(_ buffer: ByteBuffer) -> Result<JSONDocument, JSONParseError> {
        buffer.withUnsafeReadableBytes { self.parse($0) }
    }

    public func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JSONDocument, JSONParseError> {
        switch PythonTextDecoding.decode(bytes) {
        case .invalid:
            return .failure(.undecodable)
        case .utf8(let skip, let surrogates):
            return self.scan(UnsafeRawBufferPointer(rebasing: bytes[skip...]), encodedSurrogates: surrogates)
        case .transcoded(let utf8, let surrogates):
            return utf8.withUnsafeBytes { self.scan($0, encodedSurrogates: surrogates) }
        }
    }

    public func parse(_ text: String) -> Result<JSONDocument, JSONParseError> {
        var text = text
        return text.withUTF8 { self.parse(UnsafeRawBufferPointer($0)) }
    }

    private func scan(_ bytes: UnsafeRawBufferPointer, encodedSurrogates: Bool) -> Result<JSONDocument, JSONParseError> {
        var scanner = JSONScanner(bytes: bytes, maximumDepth: self.maximumDepth)
        do throws(ScanFailure) {
            let value = try scanner.document()
            return .success(
                JSONDocument(value: value, containsLoneSurrogates: encodedSurrogates || scanner.sawLoneSurrogate)
            )
        } catch {
            switch error {
            case .syntax(let message, let offset):
                let position = bytes.codePointCount(upTo: offset)
                return .failure(.syntax(JSONSyntaxError(message: message, position: position)))
            case .undecodable:
                return .failure(.undecodable)
            }
        }
    }
}

enum ScanFailure: Error {
    case syntax(String, Int)
    case undecodable
}

extension UnsafeRawBufferPointer {
    /// Code points before a byte offset of (surrogate-tolerant) UTF-8: Python positions count them.
    func codePointCount(upTo offset: Int) -> Int {
        var count = 0
        for i in 0..<Swift.min(offset, self.count) where self[i] & 0xC0 != 0x80 {
            count += 1
        }
        return count + Swift.max(0, offset - self.count)
    }
}

// MARK: - Scanner (CPython Modules/_json.c, byte for byte)

private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")

struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    let maximumDepth: Int
    var depth = 0
    var sawLoneSurrogate = false
    private var scratch: [UInt8] = []

    init(bytes: UnsafeRawBufferPointer, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    mutating func document() throws(ScanFailure) -> JSONValue {
        let start = self.skipWhitespace(0)
        let (value, end) = try self.value(at: start)
        let after = self.skipWhitespace(end)
        if after != self.bytes.count {
            throw .syntax("Extra data", after)
        }
        return value
    }

    @inline(__always)
    private func skipWhitespace(_ start: Int) -> Int {
        var i = start
        while i < self.bytes.count {
            switch self.bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return i
            }
        }
        return i
    }

    private func matches(_ literal: StaticString, at index: Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= self.bytes.count else { return false }
        let pointer = literal.utf8Start
        for k in 0..<count where self.bytes[index + k] != pointer[k] {
            return false
        }
        return true
    }

    mutating func value(at index: Int) throws(ScanFailure) -> (JSONValue, Int) {
        guard index < self.bytes.count else { throw .syntax("Expecting value", index) }
        switch self.bytes[index] {
        case quote:
            let (string, end) = try self.string(openingQuoteAt: index)
            return (.string(string), end)
        case UInt8(ascii: "{"):
            return try self.nested { (scanner: inout JSONScanner) throws(ScanFailure) in
                try scanner.object(after: index + 1)
            }
        case UInt8(ascii: "["):
            return try self.nested { (scanner: inout JSONScanner) throws(ScanFailure) in
                try scanner.array(after: index + 1)
            }
        case UInt8(ascii: "n") where self.matches("null", at: index):
            return (.null, index + 4)
        case UInt8(ascii: "t") where self.matches("true", at: index):
            return (.bool(true), index + 4)
        case UInt8(ascii: "f") where self.matches("false", at: index):
            return (.bool(false), index + 5)
        case UInt8(ascii: "N") where self.matches("NaN", at: index):
            return (.number(JSONNumber(lexeme: "NaN", isInteger: false)), index + 3)
        case UInt8(ascii: "I") where self.matches("Infinity", at: index):
            return (.number(JSONNumber(lexeme: "Infinity", isInteger: false)), index + 8)
        case UInt8(ascii: "-") where self.matches("-Infinity", at: index):
            return (.number(JSONNumber(lexeme: "-Infinity", isInteger: false)), index + 9)
        default:
            return try self.number(at: index)
        }
    }

    private mutating func nested(
        _ body: (inout JSONScanner) throws(ScanFailure) -> (JSONValue, Int)
    ) throws(ScanFailure) -> (JSONValue, Int) {
        self.depth += 1
        // Python raises RecursionError, which is not a JSONDecodeError.
        if self.depth > self.maximumDepth { throw .undecodable }
        defer { self.depth -= 1 }
        return try body(&self)
    }

    private func isDigit(_ i: Int) -> Bool {
        i < self.bytes.count && self.bytes[i] &- UInt8(ascii: "0") < 10
    }

    private func number(at start: Int) throws(ScanFailure) -> (JSONValue, Int) {
        let last = self.bytes.count - 1
        var i = start
        if self.bytes[i] == UInt8(ascii: "-") {
            i += 1
            if i > last { throw .syntax("Expecting value", start) }
        }
        let first = self.bytes[i]
        if first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") {
            i += 1
            while self.isDigit(i) { i += 1 }
        } else if first == UInt8(ascii: "0") {
            i += 1
        } else {
            throw .syntax("Expecting value", start)
        }
        var isFloat = false
        if i < last && self.bytes[i] == UInt8(ascii: ".") && self.isDigit(i + 1) {
            isFloat = true
            i += 2
            while self.isDigit(i) { i += 1 }
        }
        if i < last && (self.bytes[i] == UInt8(ascii: "e") || self.bytes[i] == UInt8(ascii: "E")) {
            let exponentStart = i
            i += 1
            if i < last && (self.bytes[i] == UInt8(ascii: "-") || self.bytes[i] == UInt8(ascii: "+")) { i += 1 }
            while self.isDigit(i) { i += 1 }
            if self.isDigit(i - 1) {
                isFloat = true
            } else {
                i = exponentStart
            }
        }
        let lexeme = String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<i]), as: UTF8.self)
        if !isFloat {
            // int(lexeme) refuses more than 4300 digits (sys.int_info.default_max_str_digits).
            let digits = i - start - (self.bytes[start] == UInt8(ascii: "-") ? 1 : 0)
            if digits > PythonInt.maximumDigits { throw .undecodable }
        }
        return (.number(JSONNumber(lexeme: lexeme, isInteger: !isFloat)), i)
    }

    mutating func string(openingQuoteAt begin: Int) throws(ScanFailure) -> (String, Int) {
        let count = self.bytes.count
        var end = begin + 1
        // Fast path: no escape before the closing quote.
        var next = end
        while next < count {
            let c = self.bytes[next]
            if c == quote {
                let string = String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[end..<next]), as: UTF8.self)
                return (string, next + 1)
            }
            if c == backslash { break }
            if c < 0x20 { throw .syntax("Invalid control character at", next) }
            next += 1
        }
        self.scratch.removeAll(keepingCapacity: true)
        while true {
            var c: UInt8 = 0
            next = end
            while next < count {
                c = self.bytes[next]
                if c == quote || c == backslash { break }
                if c < 0x20 { throw .syntax("Invalid control character at", next) }
                next += 1
            }
            if next >= count { throw .syntax("Unterminated string starting at", begin) }
            self.scratch.append(contentsOf: self.bytes[end..<next])
            next += 1
            if c == quote {
                end = next
                break
            }
            if next == count { throw .syntax("Unterminated string starting at", begin) }
            c = self.bytes[next]
            if c != UInt8(ascii: "u") {
                end = next + 1
                let unescaped: UInt8
                switch c {
                case quote, backslash, UInt8(ascii: "/"): unescaped = c
                case UInt8(ascii: "b"): unescaped = 0x08
                case UInt8(ascii: "f"): unescaped = 0x0C
                case UInt8(ascii: "n"): unescaped = 0x0A
                case UInt8(ascii: "r"): unescaped = 0x0D
                case UInt8(ascii: "t"): unescaped = 0x09
                default: throw .syntax("Invalid \\escape", end - 2)
                }
                self.scratch.append(unescaped)
                continue
            }
            next += 1
            end = next + 4
            if end >= count { throw .syntax("Invalid \\uXXXX escape", next - 1) }
            guard var scalar = self.hex4(at: next) else { throw .syntax("Invalid \\uXXXX escape", end - 5) }
            next = end
            if scalar & 0xFC00 == 0xD800 && end + 6 < count && self.bytes[next] == backslash
                && self.bytes[next + 1] == UInt8(ascii: "u")
            {
                end += 6
                guard let low = self.hex4(at: next + 2) else { throw .syntax("Invalid \\uXXXX escape", end - 5) }
                if low & 0xFC00 == 0xDC00 {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    end -= 6
                }
            }
            self.appendScalar(scalar)
        }
        return (String(decoding: self.scratch, as: UTF8.self), end)
    }

    private func hex4(at start: Int) -> UInt32? {
        var value: UInt32 = 0
        for i in start..<start + 4 {
            let c = self.bytes[i]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private mutating func appendScalar(_ value: UInt32) {
        guard let scalar = Unicode.Scalar(value) else {
            // A lone surrogate: see JSONDocument.containsLoneSurrogates.
            self.sawLoneSurrogate = true
            self.scratch.append(contentsOf: [0xEF, 0xBF, 0xBD])
            return
        }
        self.scratch.append(contentsOf: UTF8.encode(scalar)!)
    }

    private mutating func object(after open: Int) throws(ScanFailure) -> (JSONValue, Int) {
        var object = JSONObject()
        var index: [String: Int]? = nil
        var i = self.skipWhitespace(open)
        if i >= self.bytes.count || self.bytes[i] != UInt8(ascii: "}") {
            while true {
                if i >= self.bytes.count || self.bytes[i] != quote {
                    throw .syntax("Expecting property name enclosed in double quotes", i)
                }
                let (key, afterKey) = try self.string(openingQuoteAt: i)
                i = self.skipWhitespace(afterKey)
                if i >= self.bytes.count || self.bytes[i] != UInt8(ascii: ":") {
                    throw .syntax("Expecting ':' delimiter", i)
                }
                i = self.skipWhitespace(i + 1)
                let (value, afterValue) = try self.value(at: i)
                // Python's dict: a repeated key keeps its first position and takes the last value.
                if object.count >= 16 && index == nil {
                    index = Dictionary(uniqueKeysWithValues: zip(object.keys, object.keys.indices))
                }
                if let existing = index != nil ? index![key] : object.index(forKey: key) {
                    object.replaceValue(at: existing, with: value)
                } else {
                    index?[key] = object.count
                    object.appendUnique(key: key, value: value)
                }
                i = self.skipWhitespace(afterValue)
                if i < self.bytes.count && self.bytes[i] == UInt8(ascii: "}") { break }
                if i >= self.bytes.count || self.bytes[i] != UInt8(ascii: ",") {
                    throw .syntax("Expecting ',' delimiter", i)
                }
                i = self.skipWhitespace(i + 1)
            }
        }
        return (.object(object), i + 1)
    }

    private mutating func array(after open: Int) throws(ScanFailure) -> (JSONValue, Int) {
        var elements: [JSONValue] = []
        var i = self.skipWhitespace(open)
        if i >= self.bytes.count || self.bytes[i] != UInt8(ascii: "]") {
            while true {
                let (value, afterValue) = try self.value(at: i)
                elements.append(value)
                i = self.skipWhitespace(afterValue)
                if i < self.bytes.count && self.bytes[i] == UInt8(ascii: "]") { break }
                if i >= self.bytes.count || self.bytes[i] != UInt8(ascii: ",") {
                    throw .syntax("Expecting ',' delimiter", i)
                }
                i = self.skipWhitespace(i + 1)
            }
        }
        return (.array(elements), i + 1)
    }
}
