/// `repr(float)` (CPython's "short" float repr): the shortest digits that round-trip, in
/// positional notation when the decimal exponent is in [-4, 16), else as `d.ddde±XX`.
public enum PythonFloat {
    public static func repr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        // Swift's description already gives the shortest round-trip digits; only the layout differs.
        let (negative, digits, pointPosition) = Self.shortestDigits(value)
        var out = negative ? "-" : ""
        let n = digits.count
        if pointPosition > -4 && pointPosition <= 16 {
            if pointPosition <= 0 {
                out += "0." + String(repeating: "0", count: -pointPosition) + digits
            } else if pointPosition >= n {
                out += digits + String(repeating: "0", count: pointPosition - n) + ".0"
            } else {
                let split = digits.index(digits.startIndex, offsetBy: pointPosition)
                out += digits[..<split] + "." + digits[split...]
            }
        } else {
            out.append(digits.first!)
            if n > 1 { out += "." + digits.dropFirst() }
            let exponent = pointPosition - 1
            out += exponent < 0 ? "e-" : "e+"
            if abs(exponent) < 10 { out += "0" }
            out += String(abs(exponent))
        }
        return out
    }

    /// (sign, significant digits without leading/trailing zeros, position of the decimal point
    /// relative to the first digit: value = 0.DIGITS × 10^pointPosition).
    static func shortestDigits(_ value: Double) -> (Bool, String, Int) {
        let text = value.magnitude.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...])!
        }
        var digits = ""
        var point = 0
        var seenPoint = false
        for ch in mantissa {
            if ch == "." {
                seenPoint = true
                continue
            }
            if digits.isEmpty && ch == "0" {
                if seenPoint { point -= 1 }
                continue
            }
            digits.append(ch)
            if !seenPoint { point += 1 }
        }
        while digits.count > 1 && digits.last == "0" { digits.removeLast() }
        if digits.isEmpty { return (value.sign == .minus, "0", 1) }
        return (value.sign == .minus, digits, point + exponent)
    }
}

enum PythonInt {
    /// `sys.int_info.default_max_str_digits`: int(str) and str(int) refuse longer numbers.
    static let maximumDigits = 4300

    /// `repr(int(lexeme))` for a JSON integer lexeme: only `-0` changes.
    static func canonical(jsonLexeme lexeme: String) -> String {
        lexeme == "-0" ? "0" : lexeme
    }
}
