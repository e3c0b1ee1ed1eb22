/// A failed constraint, before it is placed: pydantic's type, message and ctx.
struct ConstraintFailure: Error, Sendable {
    var type: String
    var message: String
    var ctx: JSONObject?

    func issue(at loc: [ValidationIssue.LocationElement], input: JSONValue) -> ValidationIssue {
        ValidationIssue(type: self.type, loc: loc, msg: self.message, input: input, ctx: self.ctx)
    }

    /// pydantic's bound errors; `shown` is how the bound prints in the message.
    static func bound(_ kind: BoundKind, shown: String, ctx: JSONValue) -> Self {
        let (type, words): (String, String)
        switch kind {
        case .multipleOf: (type, words) = ("multiple_of", "a multiple of")
        case .le: (type, words) = ("less_than_equal", "less than or equal to")
        case .lt: (type, words) = ("less_than", "less than")
        case .ge: (type, words) = ("greater_than_equal", "greater than or equal to")
        case .gt: (type, words) = ("greater_than", "greater than")
        }
        var context = JSONObject()
        context.appendUnique(key: kind.rawValue, value: ctx)
        return Self(type: type, message: "Input should be \(words) \(shown)", ctx: context)
    }
}

/// The ctx keys of pydantic's numeric bounds, in the order pydantic-core checks them.
enum BoundKind: String, Sendable, CaseIterable {
    case multipleOf = "multiple_of", le, lt, ge, gt
}

/// `int` with `Field(multiple_of=, le=, lt=, ge=, gt=)`. Bounds are Python ints (a schema's `2.0`
/// is the int 2, as pydantic coerces it); the value is compared exactly, however large.
struct IntegerConstraints: Sendable {
    var multipleOf: Int?
    var le: PythonInteger?
    var lt: PythonInteger?
    var ge: PythonInteger?
    var gt: PythonInteger?

    func check(_ value: PythonInteger) -> ConstraintFailure? {
        if let multipleOf, value.remainder(dividingBy: multipleOf) != 0 {
            return .bound(.multipleOf, shown: String(multipleOf), ctx: .number(JSONNumber(multipleOf)))
        }
        if let le, value.compare(to: le) > 0 { return Self.failure(.le, le) }
        if let lt, value.compare(to: lt) >= 0 { return Self.failure(.lt, lt) }
        if let ge, value.compare(to: ge) < 0 { return Self.failure(.ge, ge) }
        if let gt, value.compare(to: gt) <= 0 { return Self.failure(.gt, gt) }
        return nil
    }

    private static func failure(_ kind: BoundKind, _ bound: PythonInteger) -> ConstraintFailure {
        .bound(kind, shown: bound.decimalText, ctx: bound.jsonValue)
    }
}

/// `float` with `Field(multiple_of=, le=, lt=, ge=, gt=)`. pydantic turns every bound into a
/// float (ctx `5.0`) but prints it with Rust's `Display` (message `5`); NaN fails every bound.
struct FloatConstraints: Sendable {
    var multipleOf: Double?
    var le: Double?
    var lt: Double?
    var ge: Double?
    var gt: Double?

    func check(_ value: Double) -> ConstraintFailure? {
        if let multipleOf {
            // pydantic-core's check: the quotient is within 1e-9 of a whole number (NaN and
            // infinities pass, as the comparison is false for them).
            let quotient = value / multipleOf
            if (quotient - quotient.rounded()).magnitude > 1e-9 {
                return Self.failure(.multipleOf, multipleOf)
            }
        }
        if let le, !(value <= le) { return Self.failure(.le, le) }
        if let lt, !(value < lt) { return Self.failure(.lt, lt) }
        if let ge, !(value >= ge) { return Self.failure(.ge, ge) }
        if let gt, !(value > gt) { return Self.failure(.gt, gt) }
        return nil
    }

    private static func failure(_ kind: BoundKind, _ bound: Double) -> ConstraintFailure {
        .bound(kind, shown: RustFloat.display(bound), ctx: .number(JSONNumber(bound)))
    }
}

/// Rust's `Display` for `f64`, which pydantic-core uses in messages: the shortest round-trip
/// digits, never in exponent notation (`1e20` prints as `100000000000000000000`).
enum RustFloat {
    static func display(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        let (negative, digits, point) = PythonFloat.shortestDigits(value)
        var out = negative ? "-" : ""
        if digits == "0" { return out + "0" }
        if point <= 0 {
            out += "0." + String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            out += digits + String(repeating: "0", count: point - digits.count)
        } else {
            let split = digits.index(digits.startIndex, offsetBy: point)
            out += digits[..<split] + "." + digits[split...]
        }
        return out
    }
}

// MARK: - Python int arithmetic the bounds need

extension PythonInteger {
    /// `repr(int)`.
    var decimalText: String {
        switch self {
        case .small(let value): return String(value)
        case .large(let digits): return digits
        }
    }

    /// Sign and magnitude digits without leading zeros.
    private var signAndDigits: (negative: Bool, digits: Substring) {
        let text = self.decimalText
        if text.hasPrefix("-") { return (true, text.dropFirst()) }
        return (false, Substring(text))
    }

    /// -1, 0 or 1, as Python compares ints.
    func compare(to other: PythonInteger) -> Int {
        if case .small(let a) = self, case .small(let b) = other { return a < b ? -1 : (a == b ? 0 : 1) }
        let (aNegative, aDigits) = self.signAndDigits
        let (bNegative, bDigits) = other.signAndDigits
        let aZero = aDigits == "0"
        let bZero = bDigits == "0"
        if aZero && bZero { return 0 }
        if aNegative != bNegative && !(aZero || bZero) { return aNegative ? -1 : 1 }
        let aSign = aZero ? 0 : (aNegative ? -1 : 1)
        let bSign = bZero ? 0 : (bNegative ? -1 : 1)
        if aSign != bSign { return aSign < bSign ? -1 : 1 }
        // Same sign: compare magnitudes, then flip for negatives.
        var magnitude: Int
        if aDigits.count != bDigits.count {
            magnitude = aDigits.count < bDigits.count ? -1 : 1
        } else {
            magnitude = aDigits == bDigits ? 0 : (aDigits < bDigits ? -1 : 1)
        }
        if aSign < 0 { magnitude = -magnitude }
        return magnitude
    }

    /// The magnitude of the remainder of dividing by a positive divisor (0 when divisible).
    func remainder(dividingBy divisor: Int) -> Int {
        switch self {
        case .small(let value): return (value % divisor).magnitude == 0 ? 0 : 1
        case .large:
            var remainder = 0
            for c in self.signAndDigits.digits.utf8 {
                remainder = Int((UInt64(remainder) * 10 + UInt64(c &- UInt8(ascii: "0"))) % UInt64(divisor))
            }
            return remainder
        }
    }

    /// A JSON number's value as a Python int: JSON ints as they are, integral floats truncated
    /// like `int(2.0)`; nil for fractional or non-finite floats.
    init?(exactly number: JSONNumber) {
        if number.isInteger {
            let canonical = PythonInt.canonical(jsonLexeme: number.lexeme)
            self = Int(canonical).map(PythonInteger.small) ?? .large(canonical)
            return
        }
        let value = number.doubleValue
        guard value.isFinite, value.rounded(.towardZero) == value, let exact = Int(exactly: value) else {
            return nil
        }
        self = .small(exact)
    }
}
