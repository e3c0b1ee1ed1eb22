/// Strict JSON (RFC 8259) scanned in place over bytes, for the small documents
/// auth reads: a JWT's header and claims on the request path, a JWKS file at
/// configuration time. Nothing is materialised unless asked for: a member's
/// value is a range of the input, strings are compared or decoded from there.
///
/// Strict means: no trailing commas, comments, single quotes, leading zeros,
/// `NaN`, unescaped control characters, invalid UTF-8 or lone surrogates, and
/// nesting deeper than `maximumDepth`. Only what RFC 8259 allows, once.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    static let maximumDepth = 32

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// A string's content between its quotes, still escaped when `escaped`.
    struct StringToken {
        var range: Range<Int>
        var escaped: Bool
    }

    struct Failure: Error {
        var message: String
        var offset: Int
    }

    func fail(_ message: String) -> Failure { Failure(message: message, offset: self.position) }

    // MARK: Bytes

    var peek: UInt8? { self.position < self.bytes.count ? self.bytes[self.position] : nil }

    mutating func skipWhitespace() {
        while self.position < self.bytes.count {
            switch self.bytes[self.position] {
            case 0x20, 0x09, 0x0A, 0x0D: self.position += 1
            default: return
            }
        }
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard self.peek == byte else { return false }
        self.position += 1
        return true
    }

    /// After the top-level value: only whitespace may follow.
    mutating func expectEnd() throws(Failure) {
        self.skipWhitespace()
        guard self.position == self.bytes.count else { throw self.fail("unexpected data after the JSON value") }
    }

    // MARK: Objects and arrays

    /// Consumes `{`.
    mutating func beginObject() throws(Failure) {
        self.skipWhitespace()
        guard self.consume(UInt8(ascii: "{")) else { throw self.fail("expected an object") }
    }

    /// The next member's key, with its `:` consumed and the value next; nil
    /// once `}` is consumed. `first` is true before the first member.
    mutating func nextKey(first: inout Bool) throws(Failure) -> StringToken? {
        self.skipWhitespace()
        if self.consume(UInt8(ascii: "}")) { return nil }
        if !first {
            guard self.consume(UInt8(ascii: ",")) else { throw self.fail("expected \",\" or \"}\"") }
            self.skipWhitespace()
        }
        first = false
        guard self.peek == UInt8(ascii: "\"") else { throw self.fail("expected a member name") }
        let key = try self.scanString()
        self.skipWhitespace()
        guard self.consume(UInt8(ascii: ":")) else { throw self.fail("expected \":\"") }
        self.skipWhitespace()
        return key
    }

    /// Consumes `[`.
    mutating func beginArray() throws(Failure) {
        self.skipWhitespace()
        guard self.consume(UInt8(ascii: "[")) else { throw self.fail("expected an array") }
    }

    /// Whether another element follows (positioned at it); false once `]` is consumed.
    mutating func nextElement(first: inout Bool) throws(Failure) -> Bool {
        self.skipWhitespace()
        if first {
            first = false
            if self.consume(UInt8(ascii: "]")) { return false }
            return true
        }
        if self.consume(UInt8(ascii: "]")) { return false }
        guard self.consume(UInt8(ascii: ",")) else { throw self.fail("expected \",\" or \"]\"") }
        self.skipWhitespace()
        guard self.peek != UInt8(ascii: "]") else { throw self.fail("trailing comma") }
        return true
    }

    // MARK: Values

    /// Skips (and checks) one value; returns its range.
    @discardableResult
    mutating func skipValue(depth: Int = 0) throws(Failure) -> Range<Int> {
        self.skipWhitespace()
        let start = self.position
        guard let byte = self.peek else { throw self.fail("expected a value") }
        switch byte {
        case UInt8(ascii: "{"):
            guard depth < Self.maximumDepth else { throw self.fail("nested too deeply") }
            self.position += 1
            var first = true
            while try self.nextKey(first: &first) != nil { try self.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            guard depth < Self.maximumDepth else { throw self.fail("nested too deeply") }
            self.position += 1
            var first = true
            while try self.nextElement(first: &first) { try self.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""):
            _ = try self.scanString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try self.scanNumber()
        case UInt8(ascii: "t"):
            try self.scanLiteral("true")
        case UInt8(ascii: "f"):
            try self.scanLiteral("false")
        case UInt8(ascii: "n"):
            try self.scanLiteral("null")
        default:
            throw self.fail("expected a value")
        }
        return start..<self.position
    }

    mutating func scanLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        guard self.position + count <= self.bytes.count else { throw self.fail("expected a value") }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { self.bytes[self.position + $0] == expected[$0] }
        }
        guard matches else { throw self.fail("expected a value") }
        self.position += count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func scanNumber() throws(Failure) -> Range<Int> {
        let start = self.position
        _ = self.consume(UInt8(ascii: "-"))
        guard let first = self.peek, Self.isDigit(first) else { throw self.fail("invalid number") }
        self.position += 1
        if first != UInt8(ascii: "0") {
            while let byte = self.peek, Self.isDigit(byte) { self.position += 1 }
        } else if let byte = self.peek, Self.isDigit(byte) {
            throw self.fail("invalid number (leading zero)")
        }
        if self.consume(UInt8(ascii: ".")) {
            guard let byte = self.peek, Self.isDigit(byte) else { throw self.fail("invalid number") }
            while let byte = self.peek, Self.isDigit(byte) { self.position += 1 }
        }
        if self.consume(UInt8(ascii: "e")) || self.consume(UInt8(ascii: "E")) {
            if !self.consume(UInt8(ascii: "+")) { _ = self.consume(UInt8(ascii: "-")) }
            guard let byte = self.peek, Self.isDigit(byte) else { throw self.fail("invalid number") }
            while let byte = self.peek, Self.isDigit(byte) { self.position += 1 }
        }
        return start..<self.position
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// Scans a string from its opening quote: escapes, control characters and UTF-8 are checked.
    mutating func scanString() throws(Failure) -> StringToken {
        guard self.consume(UInt8(ascii: "\"")) else { throw self.fail("expected a string") }
        let start = self.position
        var escaped = false
        while true {
            guard let byte = self.peek else { throw self.fail("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                let token = StringToken(range: start..<self.position, escaped: escaped)
                self.position += 1
                return token
            case UInt8(ascii: "\\"):
                escaped = true
                self.position += 1
                try self.scanEscape()
            case 0..<0x20:
                throw self.fail("control character in a string")
            case 0x20..<0x80:
                self.position += 1
            default:
                try self.scanUTF8Sequence()
            }
        }
    }

    private mutating func scanEscape() throws(Failure) {
        guard let byte = self.peek else { throw self.fail("unterminated string") }
        self.position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return
        case UInt8(ascii: "u"):
            let unit = try self.scanHex4()
            if (0xD800..<0xDC00).contains(unit) {
                guard self.consume(UInt8(ascii: "\\")), self.consume(UInt8(ascii: "u")),
                    (0xDC00..<0xE000).contains(try self.scanHex4())
                else { throw self.fail("lone surrogate in a string") }
            } else if (0xDC00..<0xE000).contains(unit) {
                throw self.fail("lone surrogate in a string")
            }
        default:
            throw self.fail("invalid escape in a string")
        }
    }

    private mutating func scanHex4() throws(Failure) -> UInt32 {
        guard self.position + 4 <= self.bytes.count else { throw self.fail("invalid \\u escape") }
        var value: UInt32 = 0
        for offset in 0..<4 {
            guard let digit = Self.hexDigit(self.bytes[self.position + offset]) else {
                throw self.fail("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        self.position += 4
        return value
    }

    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// One well-formed UTF-8 sequence of 2–4 bytes (RFC 3629: no overlongs, surrogates or > U+10FFFF).
    private mutating func scanUTF8Sequence() throws(Failure) {
        let lead = self.bytes[self.position]
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            upper = 0x9F
        case 0xF0:
            length = 4
            lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            upper = 0x8F
        default: throw self.fail("invalid UTF-8")
        }
        guard self.position + length <= self.bytes.count else { throw self.fail("invalid UTF-8") }
        let second = self.bytes[self.position + 1]
        guard second >= lower && second <= upper else { throw self.fail("invalid UTF-8") }
        for offset in 2..<max(2, length) {
            guard self.bytes[self.position + offset] & 0xC0 == 0x80 else { throw self.fail("invalid UTF-8") }
        }
        self.position += length
    }

    // MARK: Reading what was scanned

    /// Calls `body` with a string's content unescaped: in place when it had no
    /// escapes (the common case), else from a decoded copy.
    func withUnescaped<R>(_ token: StringToken, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard token.escaped else {
            return body(UnsafeBufferPointer(rebasing: self.bytes[token.range]))
        }
        let decoded = self.unescape(token)
        return decoded.withUnsafeBufferPointer(body)
    }

    func string(_ token: StringToken) -> String {
        self.withUnescaped(token) { String(decoding: $0, as: UTF8.self) }
    }

    func equals(_ token: StringToken, _ expected: [UInt8]) -> Bool {
        self.withUnescaped(token) { $0.elementsEqual(expected) }
    }

    /// Decodes escapes of a string the scanner has already checked.
    private func unescape(_ token: StringToken) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(token.range.count)
        var index = token.range.lowerBound
        func hex4(_ at: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 << 4 | UInt32(Self.hexDigit(self.bytes[at + $1])!) }
        }
        while index < token.range.upperBound {
            let byte = self.bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            let kind = self.bytes[index + 1]
            index += 2
            switch kind {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(index)
                index += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    let low = hex4(index + 2)
                    index += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                output.append(contentsOf: Unicode.UTF8.encode(Unicode.Scalar(scalar)!)!)
            default: output.append(kind)  // " \ /
            }
        }
        return output
    }

    /// A NumericDate (RFC 7519 §2): seconds since the epoch, fractions dropped.
    /// Nil for a negative, non-finite or absurd value.
    func numericDate(_ range: Range<Int>) -> Int64? {
        var value: Int64 = 0
        var index = range.lowerBound
        while index < range.upperBound, Self.isDigit(self.bytes[index]), index - range.lowerBound < 15 {
            value = value * 10 + Int64(self.bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        if index == range.upperBound { return value }
        // A fraction, an exponent or many digits: rare enough to go through Double.
        let text = String(decoding: UnsafeBufferPointer(rebasing: self.bytes[range]), as: UTF8.self)
        guard let double = Double(text), double.isFinite, double >= 0, double < 1e15 else { return nil }
        return Int64(double.rounded(.down))
    }
}
