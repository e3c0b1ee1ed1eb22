// Durations in the file are strings like "250ms", "1.5s", "10s", "2m", "1h":
// an integer or decimal number and one unit, nothing else. Converted with integer
// arithmetic so "0.1s" is exactly 100 ms.

enum DurationSyntax {
    private static let attosecondsPerSecond: Int128 = 1_000_000_000_000_000_000

    private static let units: [(suffix: String, attoseconds: Int128)] = [
        // "ms" before "m" and "s": the longest suffix must win.
        ("ms", attosecondsPerSecond / 1000),
        ("s", attosecondsPerSecond),
        ("m", attosecondsPerSecond * 60),
        ("h", attosecondsPerSecond * 3600),
    ]

    static func parse(_ text: String) throws(InvalidValue) -> Duration {
        let invalid = InvalidValue(
            "invalid duration \"\(text)\" "
                + "(expected a number and a unit ms, s, m or h, e.g. \"250ms\", \"1.5s\", \"2m\")"
        )
        guard let unit = units.first(where: { text.hasSuffix($0.suffix) }) else {
            throw invalid
        }
        let number = text.dropLast(unit.suffix.count)
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) else {
            throw invalid
        }
        let integerDigits = parts[0]
        let fractionDigits = parts.count == 2 ? parts[1] : ""
        // 18 fraction digits reach attoseconds; more than that is not a timeout anyone means.
        guard fractionDigits.count <= 18 else {
            throw InvalidValue("duration \"\(text)\" has more than 18 decimal places")
        }
        guard integerDigits.count <= 18 else {
            throw InvalidValue("duration \"\(text)\" is out of range")
        }
        var scale: Int128 = 1
        for _ in fractionDigits {
            scale *= 10
        }
        let mantissa = Int128(integerDigits + fractionDigits)!
        let (product, overflow) = mantissa.multipliedReportingOverflow(by: unit.attoseconds)
        guard !overflow else {
            throw InvalidValue("duration \"\(text)\" is out of range")
        }
        let attoseconds = product / scale
        let seconds = attoseconds / attosecondsPerSecond
        guard seconds <= Int128(Int64.max) else {
            throw InvalidValue("duration \"\(text)\" is out of range")
        }
        guard attoseconds > 0 else {
            throw InvalidValue("duration must be greater than 0, got \"\(text)\"")
        }
        return Duration(
            secondsComponent: Int64(seconds),
            attosecondsComponent: Int64(attoseconds % attosecondsPerSecond)
        )
    }

    /// A canonical spelling that ``parse(_:)`` reads back to the same value, e.g. `1.5s`, `0.25s`.
    static func render(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard attoseconds != 0 else { return "\(seconds)s" }
        var fraction = String(attoseconds)
        fraction = String(repeating: "0", count: 18 - fraction.count) + fraction
        while fraction.hasSuffix("0") {
            fraction.removeLast()
        }
        return "\(seconds).\(fraction)s"
    }
}
