// A small strict RFC 8259 parser. We write our own instead of using
// JSONSerialization so that a syntax error carries a line and column, and so
// that booleans, numbers and member order survive (see JSONValue).

/// A syntax error, positioned for an operator's editor (1-based line and column,
/// columns counted in Unicode scalars).
struct JSONSyntaxError: Error, Sendable, Equatable {
    var line: Int
    var column: Int
    var reason: String

    var message: String {
        "invalid JSON at line \(line), column \(column): \(reason)"
    }
}

struct JSONParser {
    /// Deep enough for any sensible configuration, shallow enough to never overflow the stack.
    static let maximumDepth = 256

    private let bytes: [UInt8]
    private var index: Int = 0
    private var depth: Int = 0
    /// 3 when the document starts with a UTF-8 byte order mark, which is not a column.
    private var contentStart: Int = 0

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        // Tolerate a UTF-8 byte order mark; some editors on Windows write one.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            parser.index = 3
            parser.contentStart = 3
        }
        parser.skipWhitespace()
        if parser.index == bytes.count {
            throw parser.error("the document is empty", at: parser.index)
        }
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.index < bytes.count {
            throw parser.error("unexpected content after the end of the document", at: parser.index)
        }
        return value
    }

    // MARK: Values

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard let byte = peek() else {
            throw error("unexpected end of input, expected a value", at: index)
        }
        switch byte {
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "/"):
            throw error("comments are not allowed in JSON", at: index)
        case UInt8(ascii: "'"):
            throw error("strings must use double quotes", at: index)
        default:
            if isWordByte(byte) {
                try expectLiteral(unknownWordAt: index)
            }
            throw error("unexpected \(describeCharacter(at: index)), expected a value", at: index)
        }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        index += 1  // {
        var members: [JSONMember] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard let byte = peek() else {
                throw error("unexpected end of input inside an object", at: index)
            }
            guard byte == UInt8(ascii: "\"") else {
                if byte == UInt8(ascii: "}") && !members.isEmpty {
                    throw error("trailing comma before '}'", at: index)
                }
                if byte == UInt8(ascii: "/") {
                    throw error("comments are not allowed in JSON", at: index)
                }
                throw error(
                    "unexpected \(describeCharacter(at: index)), expected a member name in double quotes",
                    at: index
                )
            }
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw error("expected ':' after the member name \"\(key)\"", at: index)
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append(JSONMember(key: key, value: value))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(members)
            case nil:
                throw error("unexpected end of input inside an object, expected ',' or '}'", at: index)
            default:
                throw error(
                    "unexpected \(describeCharacter(at: index)) after an object member, expected ',' or '}'",
                    at: index
                )
            }
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if peek() == UInt8(ascii: "]") && !elements.isEmpty {
                throw error("trailing comma before ']'", at: index)
            }
            elements.append(try parseValue())
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements)
            case nil:
                throw error("unexpected end of input inside an array, expected ',' or ']'", at: index)
            default:
                throw error(
                    "unexpected \(describeCharacter(at: index)) after an array element, expected ',' or ']'",
                    at: index
                )
            }
        }
    }

    private mutating func enterContainer() throws(JSONSyntaxError) {
        depth += 1
        if depth > Self.maximumDepth {
            throw error("nesting deeper than \(Self.maximumDepth) levels", at: index)
        }
    }

    // MARK: Strings

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = index
        index += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw error("unterminated string", at: start)
            }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let string = String(validating: utf8, as: UTF8.self) else {
                    throw error("string is not valid UTF-8", at: start)
                }
                return string
            case UInt8(ascii: "\\"):
                index += 1
                try parseEscape(into: &utf8)
            case 0x00..<0x20:
                throw error("control character in string (escape it, e.g. \"\\n\")", at: index)
            default:
                utf8.append(byte)
                index += 1
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONSyntaxError) {
        guard let byte = peek() else {
            throw error("unterminated string", at: index)
        }
        let escapeStart = index - 1
        index += 1
        switch byte {
        case UInt8(ascii: "\""): utf8.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): utf8.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): utf8.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalarValue = UInt32(try parseHex4(escapeStart: escapeStart))
            if (0xD800..<0xDC00).contains(scalarValue) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard peek() == UInt8(ascii: "\\"), peek(offset: 1) == UInt8(ascii: "u") else {
                    throw error("unpaired UTF-16 surrogate in \\u escape", at: escapeStart)
                }
                index += 2
                let low = UInt32(try parseHex4(escapeStart: escapeStart))
                guard (0xDC00..<0xE000).contains(low) else {
                    throw error("unpaired UTF-16 surrogate in \\u escape", at: escapeStart)
                }
                scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw error("unpaired UTF-16 surrogate in \\u escape", at: escapeStart)
            }
            utf8.append(contentsOf: String(Character(scalar)).utf8)
        default:
            throw error(
                "invalid escape sequence \"\\\(describeCharacter(at: index - 1, quoted: false))\"",
                at: escapeStart
            )
        }
    }

    private mutating func parseHex4(escapeStart: Int) throws(JSONSyntaxError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = hexValue(byte) else {
                throw error("\\u must be followed by four hexadecimal digits", at: escapeStart)
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    // MARK: Numbers and literals

    private mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = index
        if peek() == UInt8(ascii: "-") {
            index += 1
        }
        guard let first = peek(), isDigit(first) else {
            throw error("invalid number: expected a digit", at: index)
        }
        index += 1
        if first == UInt8(ascii: "0"), let next = peek(), isDigit(next) {
            throw error("invalid number: leading zeros are not allowed", at: start)
        }
        skipDigits()
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let digit = peek(), isDigit(digit) else {
                throw error("invalid number: expected a digit after '.'", at: index)
            }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") {
                index += 1
            }
            guard let digit = peek(), isDigit(digit) else {
                throw error("invalid number: expected a digit in the exponent", at: index)
            }
            skipDigits()
        }
        // Only ASCII bytes were consumed, so this cannot fail.
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) {
            index += 1
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func expectLiteral(_ literal: String) throws(JSONSyntaxError) {
        let start = index
        for expected in literal.utf8 {
            guard peek() == expected else {
                try expectLiteral(unknownWordAt: start)
                return
            }
            index += 1
        }
        if let next = peek(), isWordByte(next) {
            try expectLiteral(unknownWordAt: start)
        }
    }

    /// Always throws: names the bare word at `start` (`True`, `nil`, `yes`…) and
    /// suggests the JSON literal it probably meant.
    private func expectLiteral(unknownWordAt start: Int) throws(JSONSyntaxError) {
        var end = start
        while end < bytes.count, isWordByte(bytes[end]) {
            end += 1
        }
        let word = String(decoding: bytes[start..<max(end, start + 1)], as: UTF8.self)
        var message = "unexpected \"\(word)\", expected a value"
        switch word.lowercased() {
        case "true", "yes", "on": message += " (did you mean \"true\"?)"
        case "false", "no", "off": message += " (did you mean \"false\"?)"
        case "null", "nil", "none": message += " (did you mean \"null\"?)"
        default: message += " (strings need double quotes)"
        }
        throw error(message, at: start)
    }

    private func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            true
        default:
            false
        }
    }

    // MARK: Positions

    private mutating func skipWhitespace() {
        while let byte = peek(),
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                || byte == UInt8(ascii: "\t")
        {
            index += 1
        }
    }

    private func peek(offset: Int = 0) -> UInt8? {
        let position = index + offset
        return position < bytes.count ? bytes[position] : nil
    }

    /// `'x'` for a printable character, `U+0001` otherwise; used in messages.
    private func describeCharacter(at position: Int, quoted: Bool = true) -> String {
        guard position < bytes.count else { return "end of input" }
        var end = position + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 {
            end += 1
        }
        let text = String(decoding: bytes[position..<end], as: UTF8.self)
        if let scalar = text.unicodeScalars.first, scalar.value < 0x20 || scalar.value == 0x7F {
            return "U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4)
        }
        return quoted ? "'\(text)'" : text
    }

    private func error(_ reason: String, at position: Int) -> JSONSyntaxError {
        var line = 1
        var column = 1
        for byte in bytes[contentStart..<max(contentStart, min(position, bytes.count))] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                // Count scalars, not bytes: continuation bytes do not start a column.
                column += 1
            }
        }
        return JSONSyntaxError(line: line, column: column, reason: reason)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
