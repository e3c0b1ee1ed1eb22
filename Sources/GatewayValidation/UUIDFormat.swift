/// `format: uuid`, validated as pydantic's `UUID`: the Rust `uuid` crate's `parse_str` (simple,
/// hyphenated, `{braced}` and `urn:uuid:` forms, any hex case) and its error messages.
enum UUIDFormat {
    static let typeFailure = ConstraintFailure(
        type: "uuid_type", message: "UUID input should be a string, bytes or UUID object", ctx: nil)

    /// The UUID in canonical form (lowercase, hyphenated), or pydantic's `uuid_parsing` failure.
    static func parse(_ text: Substring) -> Result<String, ConstraintFailure> {
        let bytes = Array(text.utf8)
        var body = bytes[...]
        switch bytes.count {
        case 32:
            if let hex = Self.hexDigits(body, hyphenated: false) { return .success(hex) }
        case 36, 38, 45:
            if bytes.count == 38 {
                guard bytes.first == UInt8(ascii: "{") && bytes.last == UInt8(ascii: "}") else { break }
                body = body.dropFirst().dropLast()
            } else if bytes.count == 45 {
                guard bytes.starts(with: Self.urnPrefix) else { break }
                body = body.dropFirst(Self.urnPrefix.count)
            }
            if let hex = Self.hexDigits(body, hyphenated: true) { return .success(hex) }
        default:
            break
        }
        return .failure(Self.failure(Self.explain(bytes)))
    }

    private static let urnPrefix = Array("urn:uuid:".utf8)

    private static func failure(_ error: String) -> ConstraintFailure {
        ConstraintFailure(
            type: "uuid_parsing", message: "Input should be a valid UUID, \(error)",
            ctx: JSONObject(["error": .string(error)]))
    }

    /// Canonical text when `body` is 32 hex digits, or 36 characters with hyphens at 8, 13, 18, 23.
    private static func hexDigits(_ body: ArraySlice<UInt8>, hyphenated: Bool) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (k, c) in body.enumerated() {
            if hyphenated && (k == 8 || k == 13 || k == 18 || k == 23) {
                guard c == UInt8(ascii: "-") else { return nil }
                out.append(c)
                continue
            }
            guard Self.isHex(c) else { return nil }
            out.append(c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F") ? c + 32 : c)
            if !hyphenated && (k == 7 || k == 11 || k == 15 || k == 19) { out.append(UInt8(ascii: "-")) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isHex(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "f"))
    }

    /// The `uuid` crate's `InvalidUuid::into_err`: why the input did not parse.
    private static func explain(_ input: [UInt8]) -> String {
        var body = input[...]
        var offset = 0
        var simple = true
        if input.count >= 2 && input.first == UInt8(ascii: "{") && input.last == UInt8(ascii: "}") {
            body = body.dropFirst().dropLast()
            offset = 1
            simple = false
        } else if input.starts(with: Self.urnPrefix) {
            body = body.dropFirst(Self.urnPrefix.count)
            offset = Self.urnPrefix.count
            simple = false
        }
        let text = String(decoding: body, as: UTF8.self)
        var hyphens = 0
        var groupBounds = [0, 0, 0, 0]
        var index = 0  // byte offset within `body`
        for scalar in text.unicodeScalars {
            defer { index += UTF8.width(scalar) }
            if scalar.value >= 0x80 {
                return "invalid character: found `\(scalar)` at \(index + offset + 1)"
            }
            let byte = UInt8(scalar.value)
            if byte == UInt8(ascii: "-") {
                if hyphens < 4 { groupBounds[hyphens] = index }
                hyphens += 1
            } else if !Self.isHex(byte) {
                return "invalid character: found `\(scalar)` at \(index + offset + 1)"
            }
        }
        if hyphens == 0 && simple {
            return "invalid length: expected length 32 for simple format, found \(input.count)"
        }
        if hyphens != 4 {
            return "invalid group count: expected 5, found \(hyphens + 1)"
        }
        let blockStarts = [0, 9, 14, 19, 24]
        let expected = [8, 4, 4, 4, 12]
        for i in 0..<4 where groupBounds[i] != blockStarts[i + 1] - 1 {
            return "invalid group length in group \(i): expected \(expected[i]), found \(groupBounds[i] - blockStarts[i])"
        }
        return "invalid group length in group 4: expected 12, found \(input.count - blockStarts[4])"
    }
}
