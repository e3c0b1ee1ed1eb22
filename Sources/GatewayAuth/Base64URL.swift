/// Strict base64url without padding (RFC 7515 §2, RFC 4648 §5), as JWS and JWK
/// use it. Anything else is refused: padding, the `+`/`/` alphabet, whitespace,
/// a length of 1 mod 4, and unused low bits that are not zero, so each value
/// has exactly one spelling and a token cannot be altered without changing
/// what it decodes to.
public enum Base64URL {
    /// The decoded length of `count` encoded characters, or nil for an impossible length.
    public static func decodedCount(_ count: Int) -> Int? {
        switch count % 4 {
        case 0: return count / 4 * 3
        case 2: return count / 4 * 3 + 1
        case 3: return count / 4 * 3 + 2
        default: return nil
        }
    }

    /// Decodes `input` into `output`, which must hold `decodedCount(input.count)`
    /// bytes; returns that count, or nil when `input` is not strict base64url.
    public static func decode(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>)
        -> Int?
    {
        guard let count = decodedCount(input.count), output.count >= count else { return nil }
        var written = 0
        var index = 0
        let whole = input.count / 4 * 4
        while index < whole {
            guard let a = value(input[index]), let b = value(input[index + 1]), let c = value(input[index + 2]),
                let d = value(input[index + 3])
            else { return nil }
            output[written] = a << 2 | b >> 4
            output[written + 1] = b << 4 | c >> 2
            output[written + 2] = c << 6 | d
            written += 3
            index += 4
        }
        switch input.count - whole {
        case 2:
            guard let a = value(input[index]), let b = value(input[index + 1]), b & 0x0F == 0 else { return nil }
            output[written] = a << 2 | b >> 4
            written += 1
        case 3:
            guard let a = value(input[index]), let b = value(input[index + 1]), let c = value(input[index + 2]),
                c & 0x03 == 0
            else { return nil }
            output[written] = a << 2 | b >> 4
            output[written + 1] = b << 4 | c >> 2
            written += 2
        default:
            break
        }
        return written
    }

    /// Decodes a whole string (configuration time: JWK members).
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { input in
            guard let count = decodedCount(input.count) else { return nil }
            var result = [UInt8](repeating: 0, count: count)
            let written = result.withUnsafeMutableBufferPointer { decode(input, into: $0) }
            return written == nil ? nil : result
        }
    }

    /// Encodes without padding (tests and diagnostics).
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let bytes = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { output.append(alphabet[Int(chunk >> UInt32(shift) & 0x3F)]) }
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            var chunk = UInt32(bytes[index]) << 16
            if rest == 2 { chunk |= UInt32(bytes[index + 1]) << 8 }
            for shift in [18, 12, 6, 0].prefix(rest + 1) { output.append(alphabet[Int(chunk >> UInt32(shift) & 0x3F)]) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): return 62
        case UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}
