/// `str` with `Field(min_length=, max_length=, pattern=)`, checked in pydantic-core's order.
/// Lengths count code points, as Python's `len` does.
struct StringConstraints: Sendable {
    var minLength: Int?
    var maxLength: Int?
    var pattern: StringPattern?

    var isEmpty: Bool { self.minLength == nil && self.maxLength == nil && self.pattern == nil }

    func check(_ text: Substring) -> ConstraintFailure? {
        if self.minLength != nil || self.maxLength != nil {
            let length = text.unicodeScalars.count
            if let minLength, length < minLength {
                return ConstraintFailure(
                    type: "string_too_short",
                    message: "String should have at least \(Self.characters(minLength))",
                    ctx: JSONObject(["min_length": .number(JSONNumber(minLength))])
                )
            }
            if let maxLength, length > maxLength {
                return ConstraintFailure(
                    type: "string_too_long",
                    message: "String should have at most \(Self.characters(maxLength))",
                    ctx: JSONObject(["max_length": .number(JSONNumber(maxLength))])
                )
            }
        }
        if let pattern, !pattern.matches(text) {
            return ConstraintFailure(
                type: "string_pattern_mismatch",
                message: "String should match pattern '\(pattern.source)'",
                ctx: JSONObject(["pattern": .string(pattern.source)])
            )
        }
        return nil
    }

    private static func characters(_ n: Int) -> String { n == 1 ? "1 character" : "\(n) characters" }
}

/// A `pattern`, compiled once. pydantic searches with Rust's `regex` crate (unanchored, code point
/// semantics); Swift's Regex does the same with Unicode-scalar semantics. What Rust's crate refuses
/// (look-around, backreferences, atomic groups) is refused here too, so a pattern means the same
/// thing in both.
struct StringPattern: @unchecked Sendable {
    // Regex is immutable once built; it is not marked Sendable, hence the unchecked conformance.
    let source: String
    private let regex: Regex<AnyRegexOutput>

    enum CompileError: Error {
        case unsupported(String)
        case invalid(String)
    }

    init(_ source: String) throws(CompileError) {
        if let unsupported = Self.unsupportedConstruct(in: source) { throw .unsupported(unsupported) }
        do {
            self.regex = try Regex(source).matchingSemantics(.unicodeScalar)
        } catch {
            throw .invalid("\(error)")
        }
        self.source = source
        // Regex lowers its program on first use: do it now, at config load, not on a request.
        _ = self.matches("")
    }

    func matches(_ text: Substring) -> Bool {
        (try? self.regex.firstMatch(in: text)) != nil
    }

    /// The first construct Rust's regex crate rejects, outside character classes.
    private static func unsupportedConstruct(in pattern: String) -> String? {
        let chars = Array(pattern.unicodeScalars)
        var i = 0
        var inClass = false
        while i < chars.count {
            let c = chars[i]
            if c == "\\" {
                if i + 1 < chars.count {
                    let next = chars[i + 1]
                    if !inClass && (("1"..."9").contains(next) || next == "k") {
                        return "backreferences are not supported"
                    }
                }
                i += 2
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
            } else if c == "[" {
                inClass = true
                // A `]` right after `[` or `[^` is a literal.
                if i + 1 < chars.count && chars[i + 1] == "^" { i += 1 }
                if i + 1 < chars.count && chars[i + 1] == "]" { i += 1 }
            } else if c == "(" && i + 2 < chars.count && chars[i + 1] == "?" {
                let kind = chars[i + 2]
                if kind == "=" || kind == "!" { return "look-around is not supported" }
                if kind == "<" && i + 3 < chars.count && (chars[i + 3] == "=" || chars[i + 3] == "!") {
                    return "look-around is not supported"
                }
                if kind == ">" { return "atomic groups are not supported" }
            } else if (c == "+" || c == "*" || c == "?" || c == "}") && i + 1 < chars.count && chars[i + 1] == "+" {
                return "possessive quantifiers are not supported"
            }
            i += 1
        }
        return nil
    }
}
