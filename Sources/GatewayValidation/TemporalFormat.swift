/// `format: date-time` and `format: date`, validated as pydantic's lax `datetime` and `date`:
/// the `speedate` parser pydantic-core uses (RFC 3339 text, or Unix seconds, or milliseconds past
/// 2e10, as numbers or digit strings), pydantic-core's fallbacks between the two types (a date is
/// a datetime at midnight; a datetime at midnight is a date) and their error texts.
enum TemporalFormat {
    // MARK: The validators

    /// `datetime`: the value is accepted as is (the gateway forwards what it validated).
    static func dateTime(_ value: JSONValue) -> Result<JSONValue, ConstraintFailure> {
        if case .bool = value { return .failure(Self.dateTimeType) }
        var result = Self.inputDateTime(value)
        if case .failure = result, case .string(let text) = value {
            // Lax mode: a date alone is a datetime at midnight; its own parse error wins.
            switch Self.inputDate(text) {
            case .success(let date): result = .success(Moment(date: date, secondOfDay: 0, microsecond: 0))
            case .failure(.parsing(let error)):
                return .failure(Self.parsing("datetime_from_date_parsing", "Input should be a valid datetime or date", error))
            case .failure(.notADate): break
            }
        }
        switch result {
        case .success(let moment):
            if moment.date.year == 0 { return .failure(Self.parsing("datetime_parsing", Self.dateTimeWords, .yearZero)) }
            return .success(value)
        case .failure(.notADate): return .failure(Self.dateTimeType)
        case .failure(.parsing(let error)): return .failure(Self.parsing("datetime_parsing", Self.dateTimeWords, error))
        }
    }

    /// `date`.
    static func date(_ value: JSONValue) -> Result<JSONValue, ConstraintFailure> {
        var result: Result<CivilDate, InputFailure>
        if case .string(let text) = value { result = Self.inputDate(text) } else { result = .failure(.notADate) }
        if case .failure(let dateFailure) = result {
            // Lax mode: a datetime (text or timestamp) at midnight is a date; its parse error wins.
            switch Self.inputDateTime(value) {
            case .success(let moment):
                guard moment.secondOfDay == 0 && moment.microsecond == 0 else {
                    return .failure(
                        ConstraintFailure(
                            type: "date_from_datetime_inexact",
                            message: "Datetimes provided to dates should have zero time - e.g. be exact dates"))
                }
                result = .success(moment.date)
            case .failure(.parsing(let error)):
                return .failure(Self.parsing("date_from_datetime_parsing", "Input should be a valid date or datetime", error))
            case .failure(.notADate):
                result = .failure(dateFailure)
            }
        }
        switch result {
        case .success(let date):
            if date.year == 0 { return .failure(Self.parsing("date_parsing", Self.dateWords, .yearZero)) }
            return .success(value)
        case .failure(.notADate): return .failure(Self.dateType)
        case .failure(.parsing(let error)): return .failure(Self.parsing("date_parsing", Self.dateWords, error))
        }
    }

    private static let dateTimeWords = "Input should be a valid datetime"
    private static let dateWords = "Input should be a valid date in the format YYYY-MM-DD"
    private static let dateTimeType = ConstraintFailure(type: "datetime_type", message: "Input should be a valid datetime")
    private static let dateType = ConstraintFailure(type: "date_type", message: "Input should be a valid date")

    private static func parsing(_ type: String, _ words: String, _ error: SpeedateError) -> ConstraintFailure {
        ConstraintFailure(
            type: type, message: "\(words), \(error.rawValue)", ctx: JSONObject(["error": .string(error.rawValue)]))
    }

    // MARK: Inputs

    enum InputFailure: Error {
        /// Not a kind of value the type reads (`date_type` / `datetime_type`).
        case notADate
        case parsing(SpeedateError)
    }

    /// pydantic-core's `Input::validate_date` (lax, Python input): text only.
    private static func inputDate(_ text: String) -> Result<CivilDate, InputFailure> {
        Self.parseDate(Array(text.utf8)[...]).mapError { .parsing($0) }
    }

    /// pydantic-core's `Input::validate_datetime` (lax, Python input): text, ints and floats.
    private static func inputDateTime(_ value: JSONValue) -> Result<Moment, InputFailure> {
        switch value {
        case .string(let text):
            return Self.parseDateTime(Array(text.utf8)[...]).mapError { .parsing($0) }
        case .number(let n) where n.isInteger:
            if let seconds = Int64(PythonInt.canonical(jsonLexeme: n.lexeme)) {
                return Self.timestamp(seconds, microsecond: 0).mapError { .parsing($0) }
            }
            guard let double = Double(PythonInt.canonical(jsonLexeme: n.lexeme)), double.isFinite else {
                return .failure(.notADate)  // float(int) overflows
            }
            return Self.timestamp(double).mapError { .parsing($0) }
        case .number(let n):
            return Self.timestamp(n.doubleValue).mapError { .parsing($0) }
        default:
            return .failure(.notADate)
        }
    }

    // MARK: speedate

    enum SpeedateError: String, Error {
        case tooShort = "input is too short"
        case extraCharacters = "unexpected extra characters at the end of the input"
        case dateTimeSeparator = "invalid datetime separator, expected `T`, `t`, `_` or space"
        case dateSeparator = "invalid date separator, expected `-`"
        case year = "invalid character in year"
        case month = "invalid character in month"
        case day = "invalid character in day"
        case timeSeparator = "invalid time separator, expected `:`"
        case hour = "invalid character in hour"
        case minute = "invalid character in minute"
        case second = "invalid character in second"
        case timezoneSign = "invalid timezone sign"
        case timezoneHour = "invalid timezone hour"
        case timezoneMinute = "invalid timezone minute"
        case monthRange = "month value is outside expected range of 1-12"
        case dayRange = "day value is outside expected range"
        case hourRange = "hour value is outside expected range of 0-23"
        case minuteRange = "minute value is outside expected range of 0-59"
        case secondRange = "second value is outside expected range of 0-59"
        case timezoneRange = "timezone offset must be less than 24 hours"
        case timezoneMinuteRange = "timezone minute value is outside expected range of 0-59"
        case fractionMissing = "second fraction digits missing after `.`"
        case tooSmall = "dates before 0000 are not supported as unix timestamps"
        case tooLarge = "dates after 9999 are not supported as unix timestamps"
        case notExact = "timestamp must be a date"
        case notANumber = "NaN values not permitted"
        case yearZero = "year 0 is out of range"
    }

    struct CivilDate {
        var year: Int
        var month: Int
        var day: Int
    }

    /// A UTC offset is parsed and checked but not kept: only the calendar date and whether the
    /// time is midnight matter here.
    struct Moment {
        var date: CivilDate
        var secondOfDay: Int
        var microsecond: Int
    }

    private typealias Bytes = ArraySlice<UInt8>

    private static func digit(_ b: Bytes, _ i: Int) -> Int? {
        let k = b.startIndex + i
        guard k < b.endIndex, b[k] &- UInt8(ascii: "0") < 10 else { return nil }
        return Int(b[k] &- UInt8(ascii: "0"))
    }

    private static func byte(_ b: Bytes, _ i: Int) -> UInt8? {
        let k = b.startIndex + i
        return k < b.endIndex ? b[k] : nil
    }

    /// `Date::parse_bytes_partial`: `YYYY-MM-DD` at the start.
    private static func parseDatePrefix(_ b: Bytes) -> Result<CivilDate, SpeedateError> {
        guard b.count >= 10 else { return .failure(.tooShort) }
        var year = 0
        for i in 0..<4 {
            guard let d = Self.digit(b, i) else { return .failure(.year) }
            year = year * 10 + d
        }
        guard Self.byte(b, 4) == UInt8(ascii: "-") else { return .failure(.dateSeparator) }
        guard let m1 = Self.digit(b, 5), let m2 = Self.digit(b, 6) else { return .failure(.month) }
        guard Self.byte(b, 7) == UInt8(ascii: "-") else { return .failure(.dateSeparator) }
        guard let d1 = Self.digit(b, 8), let d2 = Self.digit(b, 9) else { return .failure(.day) }
        let month = m1 * 10 + m2
        let day = d1 * 10 + d2
        let maxDays: Int
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: maxDays = 31
        case 4, 6, 9, 11: maxDays = 30
        case 2: maxDays = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        default: return .failure(.monthRange)
        }
        guard day >= 1 && day <= maxDays else { return .failure(.dayRange) }
        return .success(CivilDate(year: year, month: month, day: day))
    }

    /// `Date::parse_bytes`: an RFC 3339 date, else an integer timestamp exactly at midnight.
    private static func parseDate(_ b: Bytes) -> Result<CivilDate, SpeedateError> {
        var error: SpeedateError
        switch Self.parseDatePrefix(b) {
        case .success(let date):
            if b.count == 10 { return .success(date) }
            error = .extraCharacters
        case .failure(let e):
            error = e
        }
        guard let integer = Self.integerText(b) else { return .failure(error) }
        switch Self.timestamp(integer, microsecond: 0) {
        case .failure(let e): error = e
        case .success(let moment):
            guard moment.secondOfDay == 0 && moment.microsecond == 0 else { return .failure(.notExact) }
            return .success(moment.date)
        }
        return .failure(error)
    }

    /// `DateTime::parse_bytes`: RFC 3339, else an integer or decimal timestamp.
    private static func parseDateTime(_ b: Bytes) -> Result<Moment, SpeedateError> {
        let rfc = Self.parseRFC3339(b)
        guard case .failure(let error) = rfc else { return rfc }
        if let integer = Self.integerText(b) {
            return Self.timestamp(integer, microsecond: 0)
        }
        if var value = Self.decimalText(b) {
            if value.magnitude > Self.millisecondWatershed { value /= 1000 }
            let seconds = value.rounded(.down)
            let microsecond = Int(((value - seconds) * 1_000_000).rounded())
            return Self.timestamp(Self.clampedInt64(seconds), microsecond: microsecond)
        }
        return .failure(error)
    }

    private static func parseRFC3339(_ b: Bytes) -> Result<Moment, SpeedateError> {
        let date: CivilDate
        switch Self.parseDatePrefix(b) {
        case .failure(let e): return .failure(e)
        case .success(let d): date = d
        }
        guard let separator = Self.byte(b, 10),
            separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == UInt8(ascii: " ")
                || separator == UInt8(ascii: "_")
        else { return .failure(.dateTimeSeparator) }
        return Self.parseTime(b.dropFirst(11)).map { Moment(date: date, secondOfDay: $0.0, microsecond: $0.1) }
    }

    /// `Time::parse_bytes_offset`: `HH:MM[:SS[.ffffff]][Z|±HH[:]MM]`, fractions past 6 digits
    /// truncated (pydantic's default).
    private static func parseTime(_ b: Bytes) -> Result<(Int, Int), SpeedateError> {
        guard b.count >= 5 else { return .failure(.tooShort) }
        guard let h1 = Self.digit(b, 0), let h2 = Self.digit(b, 1) else { return .failure(.hour) }
        guard Self.byte(b, 2) == UInt8(ascii: ":") else { return .failure(.timeSeparator) }
        let hour = h1 * 10 + h2
        guard hour <= 23 else { return .failure(.hourRange) }
        guard let n1 = Self.digit(b, 3), let n2 = Self.digit(b, 4) else { return .failure(.minute) }
        let minute = n1 * 10 + n2
        guard minute <= 59 else { return .failure(.minuteRange) }
        var second = 0
        var microsecond = 0
        var i = 5
        if Self.byte(b, i) == UInt8(ascii: ":") {
            guard let s1 = Self.digit(b, i + 1), let s2 = Self.digit(b, i + 2) else { return .failure(.second) }
            second = s1 * 10 + s2
            guard second <= 59 else { return .failure(.secondRange) }
            i += 3
            if let c = Self.byte(b, i), c == UInt8(ascii: ".") || c == UInt8(ascii: ",") {
                i += 1
                var count = 0
                while let d = Self.digit(b, i + count) {
                    if count < 6 { microsecond = microsecond * 10 + d }
                    count += 1
                }
                guard count > 0 else { return .failure(.fractionMissing) }
                for _ in min(count, 6)..<6 { microsecond *= 10 }
                i += count
            }
        }
        if let c = Self.byte(b, i) {
            i += 1
            if c != UInt8(ascii: "Z") && c != UInt8(ascii: "z") {
                let sign: Int
                if c == UInt8(ascii: "+") {
                    sign = 1
                } else if c == UInt8(ascii: "-") {
                    sign = -1
                } else if c == 0xE2 && Self.byte(b, i) == 0x88 && Self.byte(b, i + 1) == 0x92 {
                    sign = -1  // U+2212 MINUS SIGN
                    i += 2
                } else {
                    return .failure(.timezoneSign)
                }
                guard let t1 = Self.digit(b, i), let t2 = Self.digit(b, i + 1) else { return .failure(.timezoneHour) }
                let m1: Int
                if Self.byte(b, i + 2) == UInt8(ascii: ":") {
                    i += 3
                    guard let d = Self.digit(b, i) else { return .failure(.timezoneMinute) }
                    m1 = d
                } else if let d = Self.digit(b, i + 2) {
                    i += 2
                    m1 = d
                } else {
                    return .failure(.timezoneMinute)
                }
                guard let m2 = Self.digit(b, i + 1) else { return .failure(.timezoneMinute) }
                let minutes = m1 * 10 + m2
                guard minutes < 60 else { return .failure(.timezoneMinuteRange) }
                let offset = sign * (t1 * 10 + t2) * 3600 + sign * minutes * 60
                guard offset.magnitude < 86_400 else { return .failure(.timezoneRange) }
                i += 2
            }
        }
        guard i >= b.count else { return .failure(.extraCharacters) }
        return .success((hour * 3600 + minute * 60 + second, microsecond))
    }

    // MARK: Timestamps

    /// Past 2e10 in magnitude, a timestamp is in milliseconds.
    private static let millisecondWatershed: Double = 20_000_000_000
    private static let unix0000: Int64 = -62_167_219_200
    private static let unix9999: Int64 = 253_402_300_799

    /// `int_parse_bytes`: an optional sign and ASCII digits that fit an i64.
    private static func integerText(_ b: Bytes) -> Int64? {
        var digits = b
        var negative = false
        if let first = digits.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        for c in digits {
            guard c &- UInt8(ascii: "0") < 10 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(c &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = sum
        }
        return negative ? -value : value
    }

    /// `float_parse_bytes` for a decimal that is not an integer: sign, digits, one `.`, digits,
    /// with an integer part that fits an i64.
    private static func decimalText(_ b: Bytes) -> Double? {
        var body = b
        var sign = ""
        if let first = body.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            sign = first == UInt8(ascii: "-") ? "-" : ""
            body = body.dropFirst()
        }
        guard let dot = body.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        let whole = body[..<dot]
        let fraction = body[(dot + 1)...]
        guard !(whole.isEmpty && fraction.isEmpty) else { return nil }
        guard whole.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }), fraction.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 })
        else { return nil }
        if !whole.isEmpty && Self.integerText(whole) == nil { return nil }
        let text =
            sign + (whole.isEmpty ? "0" : String(decoding: whole, as: UTF8.self)) + "."
            + (fraction.isEmpty ? "0" : String(decoding: fraction, as: UTF8.self))
        return Double(text)
    }

    private static func clampedInt64(_ value: Double) -> Int64 {
        if value <= -9.223372036854775808e18 { return .min }
        if value >= 9.223372036854775807e18 { return .max }
        return Int64(value)
    }

    /// `float_as_datetime`: NaN refused, whole seconds by floor, the fraction rounded to
    /// microseconds (to milliseconds' fractions past the watershed, where the unit is ms).
    private static func timestamp(_ value: Double) -> Result<Moment, SpeedateError> {
        if value.isNaN { return .failure(.notANumber) }
        let seconds = value.rounded(.down)
        let scale: Double = value.magnitude > Self.millisecondWatershed ? 1_000 : 1_000_000
        let fraction = (value - value.rounded(.towardZero)).magnitude
        let microsecond = fraction.isFinite ? Int((fraction * scale).rounded()) : 0
        return Self.timestamp(Self.clampedInt64(seconds), microsecond: microsecond)
    }

    /// `DateTime::from_timestamp` in UTC, seconds or (past the watershed) milliseconds.
    private static func timestamp(_ value: Int64, microsecond: Int) -> Result<Moment, SpeedateError> {
        guard value != .min else { return .failure(.tooSmall) }
        var seconds = value
        var total = microsecond
        if Double(value.magnitude) > Self.millisecondWatershed {
            seconds = value / 1000
            var extra = Int(value % 1000) * 1000
            if extra < 0 {
                seconds -= 1
                extra += 1_000_000
            }
            total += extra
        }
        if total >= 1_000_000 {
            seconds += Int64(total / 1_000_000)
            total %= 1_000_000
        }
        guard seconds >= Self.unix0000 else { return .failure(.tooSmall) }
        guard seconds <= Self.unix9999 else { return .failure(.tooLarge) }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86_400
        }
        return .success(Moment(date: Self.civil(days: Int(days)), secondOfDay: Int(secondOfDay), microsecond: total))
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func civil(days: Int) -> CivilDate {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return CivilDate(year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day)
    }
}
