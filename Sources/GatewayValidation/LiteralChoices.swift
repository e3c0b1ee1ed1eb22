/// `Literal[...]` from `enum` or `const`: strings, ints, booleans and None. pydantic-core looks a
/// value up by Python equality, so `1.0` and `true` match `1`, and `1` matches `True`; a string
/// only matches a string.
struct LiteralChoices: Sendable {
    enum Choice: Sendable, Equatable {
        case string(String)
        case integer(Int)
        case bool(Bool)
        case null
    }

    let choices: [Choice]
    /// pydantic's `expected`: reprs joined as `'a', 'b' or 'c'`.
    let expected: String
    private let hasIntegers: Bool

    init(_ choices: [Choice]) {
        self.choices = choices
        let reprs = choices.map(Self.repr)
        if reprs.count == 1 {
            self.expected = reprs[0]
        } else {
            self.expected = reprs.dropLast().joined(separator: ", ") + " or " + reprs.last!
        }
        self.hasIntegers = choices.contains { if case .integer = $0 { return true } else { return false } }
    }

    /// The matched choice as a JSON value, or the failure for `value`.
    func match(_ value: JSONValue) -> Result<JSONValue, ConstraintFailure> {
        switch value {
        case .string(let text):
            if self.choices.contains(.string(text)) { return .success(value) }
        case .null:
            if self.choices.contains(.null) { return .success(.null) }
        case .bool(let b):
            if let hit = self.numeric(b ? 1 : 0) { return .success(hit) }
        case .number(let n) where n.isInteger:
            if let small = Int(PythonInt.canonical(jsonLexeme: n.lexeme)) {
                if let hit = self.numeric(small) { return .success(hit) }
            } else if self.hasIntegers {
                // pydantic-core turns an int input into an i64 to look it up, and that fails.
                return .failure(
                    ConstraintFailure(type: CoercionFailure.intParsingSize.type, message: CoercionFailure.intParsingSize.message)
                )
            }
        case .number(let n):
            let d = n.doubleValue
            if d.rounded(.towardZero) == d, let exact = Int(exactly: d), let hit = self.numeric(exact) {
                return .success(hit)
            }
        case .array, .object:
            break
        }
        return .failure(self.failure)
    }

    /// A text parameter: only string choices can match.
    func match(text: Substring) -> Result<JSONValue, ConstraintFailure> {
        for choice in self.choices {
            if case .string(let s) = choice, s == text { return .success(.string(s)) }
        }
        return .failure(self.failure)
    }

    var failure: ConstraintFailure {
        ConstraintFailure(
            type: "literal_error",
            message: "Input should be \(self.expected)",
            ctx: JSONObject(["expected": .string(self.expected)])
        )
    }

    /// Python `==` between a number (or bool as 0/1) and the int or bool choices.
    private func numeric(_ value: Int) -> JSONValue? {
        for choice in self.choices {
            switch choice {
            case .integer(let i) where i == value: return .number(JSONNumber(i))
            case .bool(let b) where (b ? 1 : 0) == value: return .bool(b)
            default: continue
            }
        }
        return nil
    }

    /// Python's `repr` of a choice.
    static func repr(_ choice: Choice) -> String {
        switch choice {
        case .string(let s): return PythonRepr.string(s)
        case .integer(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .null: return "None"
        }
    }
}

/// Python's `repr` for `str`.
enum PythonRepr {
    static func string(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Character(scalar) == quote: out += "\\" + String(quote)
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\x" + Self.hex(scalar.value, width: 2)
            case _ where scalar.value >= 0x80 && !Self.isPrintable(scalar):
                if scalar.value <= 0xFF {
                    out += "\\x" + Self.hex(scalar.value, width: 2)
                } else if scalar.value <= 0xFFFF {
                    out += "\\u" + Self.hex(scalar.value, width: 4)
                } else {
                    out += "\\U" + Self.hex(scalar.value, width: 8)
                }
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append(quote)
        return out
    }

    /// Python's `str.isprintable` for one code point: not in categories Cc, Cf, Cs, Co, Cn, Zl,
    /// Zp, Zs (except the ASCII space).
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
            .spaceSeparator:
            return false
        default: return true
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
