/// An integer as Python holds it: small ones stay machine integers, the rest keep their digits.
public enum PythonInteger: Sendable, Equatable {
    case small(Int)
    /// Canonical decimal digits (`-` sign, no leading zeros), up to 4300 digits.
    case large(String)

    public var jsonValue: JSONValue {
        switch self {
        case .small(let value): return .number(JSONNumber(value))
        case .large(let digits): return .number(JSONNumber(lexeme: digits, isInteger: true))
        }
    }
}

/// pydantic v2 lax-mode coercion (Python input, as FastAPI validates parameters and JSON that
/// `json.loads` produced), for the scalar types the engine supports.
public enum LaxCoercion {
    // MARK: From strings (path, query, header values; JSON strings)

    /// `int` from `str`: surrounding Unicode whitespace, a sign, `_` between digits and a `.0…`
    /// fraction are accepted (`" +1_000.00 "` is 1000); more than 4300 digits is `int_parsing_size`.
    public static func integer(fromString text: Substring) -> Result<PythonInteger, CoercionFailure> {
        var utf8 = Array(text.utf8)[...]
        // Fast path: plain ASCII digits that fit.
        if !utf8.isEmpty && utf8.count <= 18 && utf8.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) {
            var value = 0
            for d in utf8 { value = value * 10 + Int(d &- UInt8(ascii: "0")) }
            return .success(.small(value))
        }
        let trimmed = Self.trimUnicodeWhitespace(text)
        let leadingWhitespace = trimmed.startIndex != text.startIndex
        utf8 = Array(trimmed.utf8)[...]
        var negative = false
        if let first = utf8.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        // Optional fraction of zeros only.
        if let dot = utf8.firstIndex(of: UInt8(ascii: ".")) {
            let fraction = utf8[(dot + 1)...]
            guard !fraction.isEmpty, fraction.allSatisfy({ $0 == UInt8(ascii: "0") }) else {
                return .failure(.intParsing)
            }
            utf8 = utf8[..<dot]
        }
        // Digits, single underscores between digits.
        var digits: [UInt8] = []
        digits.reserveCapacity(utf8.count)
        var previousWasDigit = false
        for (k, c) in zip(utf8.indices, utf8) {
            if c &- UInt8(ascii: "0") < 10 {
                if !(digits.isEmpty && c == UInt8(ascii: "0")) { digits.append(c) }
                previousWasDigit = true
            } else if c == UInt8(ascii: "_") && previousWasDigit && k + 1 < utf8.endIndex
                && utf8[k + 1] &- UInt8(ascii: "0") < 10
            {
                previousWasDigit = false
            } else {
                return .failure(.intParsing)
            }
        }
        guard previousWasDigit else { return .failure(.intParsing) }
        if digits.count + (negative ? 1 : 0) > PythonInt.maximumDigits {
            // Observed pydantic-core behaviour: a `-` counts towards the limit, and with leading
            // whitespace the size check reports a plain parsing error.
            return .failure(leadingWhitespace ? .intParsing : .intParsingSize)
        }
        if digits.isEmpty { return .success(.small(0)) }
        if digits.count <= 18 {
            var value = 0
            for d in digits { value = value * 10 + Int(d - UInt8(ascii: "0")) }
            return .success(.small(negative ? -value : value))
        }
        return .success(.large((negative ? "-" : "") + String(decoding: digits, as: UTF8.self)))
    }

    /// `float` from `str`: Rust's float grammar (`inf`, `infinity`, `nan` in any case, `5.`, `.5`)
    /// after trimming whitespace; failing that, underscores removed (none leading, trailing or
    /// doubled) from the untrimmed text.
    public static func float(fromString text: Substring) -> Result<Double, CoercionFailure> {
        if let value = Self.rustFloat(Self.trimUnicodeWhitespace(text).utf8) {
            return .success(value)
        }
        let utf8 = text.utf8
        if utf8.first == UInt8(ascii: "_") || utf8.last == UInt8(ascii: "_") || text.contains("__") {
            return .failure(.floatParsing)
        }
        if utf8.contains(UInt8(ascii: "_")), let value = Self.rustFloat(utf8.filter { $0 != UInt8(ascii: "_") }) {
            return .success(value)
        }
        return .failure(.floatParsing)
    }

    /// `bool` from `str`: the exact words pydantic knows, in any case, nothing trimmed.
    public static func bool(fromString text: Substring) -> Result<Bool, CoercionFailure> {
        switch text.lowercased() {
        case "1", "on", "t", "true", "y", "yes": return .success(true)
        case "0", "off", "f", "false", "n", "no": return .success(false)
        default: return .failure(.boolParsing)
        }
    }

    // MARK: From JSON values

    public static func string(from value: JSONValue) -> Result<String, CoercionFailure> {
        if case .string(let s) = value { return .success(s) }
        return .failure(.stringType)
    }

    public static func float(from value: JSONValue) -> Result<Double, CoercionFailure> {
        switch value {
        case .number(let n) where n.isInteger:
            // float(int): `-0` is the int 0; too large overflows instead of giving infinity.
            let d = Double(PythonInt.canonical(jsonLexeme: n.lexeme)) ?? .infinity
            return d.isFinite ? .success(d) : .failure(.floatType)
        case .number(let n):
            return .success(n.doubleValue)
        case .bool(let b): return .success(b ? 1 : 0)
        case .string(let s): return Self.float(fromString: s[...])
        default: return .failure(.floatType)
        }
    }

    public static func integer(from value: JSONValue) -> Result<PythonInteger, CoercionFailure> {
        switch value {
        case .number(let n) where n.isInteger:
            let canonical = PythonInt.canonical(jsonLexeme: n.lexeme)
            return .success(Int(canonical).map(PythonInteger.small) ?? .large(canonical))
        case .number(let n):
            let d = n.doubleValue
            if !d.isFinite { return .failure(.finiteNumber) }
            if d.rounded(.towardZero) != d { return .failure(.intFromFloat) }
            guard let i = Int(exactly: d) else { return .failure(.intParsingSize) }
            return .success(.small(i))
        case .bool(let b): return .success(.small(b ? 1 : 0))
        case .string(let s): return Self.integer(fromString: s[...])
        default: return .failure(.intType)
        }
    }

    public static func bool(from value: JSONValue) -> Result<Bool, CoercionFailure> {
        switch value {
        case .bool(let b): return .success(b)
        case .number(let n) where n.isInteger:
            switch PythonInt.canonical(jsonLexeme: n.lexeme) {
            case "0": return .success(false)
            case "1": return .success(true)
            default: return .failure(.boolParsing)
            }
        case .number(let n):
            let d = n.doubleValue
            if d == 0 { return .success(false) }
            if d == 1 { return .success(true) }
            return .failure(d.rounded(.towardZero) == d ? .boolParsing : .boolType)
        case .string(let s): return Self.bool(fromString: s[...])
        default: return .failure(.boolType)
        }
    }

    // MARK: Helpers

    /// Rust's `str::trim`: Unicode White_Space at both ends.
    static func trimUnicodeWhitespace(_ text: Substring) -> Substring {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else {
            return text[text.endIndex...]
        }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return Substring(scalars[first...last])
    }

    /// Rust's `f64::from_str`.
    static func rustFloat<C: Collection<UInt8>>(_ utf8: C) -> Double? {
        var bytes = Array(utf8)[...]
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        let word = String(decoding: bytes, as: UTF8.self).lowercased()
        if word == "inf" || word == "infinity" { return negative ? -.infinity : .infinity }
        if word == "nan" { return .nan }
        var i = bytes.startIndex
        func digits() -> Int {
            let start = i
            while i < bytes.endIndex && bytes[i] &- UInt8(ascii: "0") < 10 { i += 1 }
            return i - start
        }
        var mantissaDigits = digits()
        if i < bytes.endIndex && bytes[i] == UInt8(ascii: ".") {
            i += 1
            mantissaDigits += digits()
        }
        guard mantissaDigits > 0 else { return nil }
        if i < bytes.endIndex && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            i += 1
            if i < bytes.endIndex && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
            guard digits() > 0 else { return nil }
        }
        guard i == bytes.endIndex else { return nil }
        guard let magnitude = Double(String(decoding: bytes, as: UTF8.self)) else { return nil }
        return negative ? -magnitude : magnitude
    }
}
