/// The first step of Python's `json.loads(bytes)`: `bytes.decode(json.detect_encoding(b),
/// "surrogatepass")`. UTF-8 input is only validated (the scanner reads it in place); UTF-16 and
/// UTF-32 input is transcoded to UTF-8, lone surrogates kept as 3-byte sequences ("WTF-8") so
/// code point positions stay right.
enum PythonTextDecoding {
    enum Outcome {
        /// Valid (surrogate-tolerant) UTF-8 from byte `skip` on (3 after a UTF-8 BOM).
        case utf8(skip: Int, encodedSurrogates: Bool)
        case transcoded([UInt8], encodedSurrogates: Bool)
        /// `UnicodeDecodeError`.
        case invalid
    }

    private enum Encoding {
        case utf8, utf8BOM, utf16(bigEndian: Bool?), utf32(bigEndian: Bool?)
    }

    static func decode(_ b: UnsafeRawBufferPointer) -> Outcome {
        switch Self.detect(b) {
        case .utf8: return Self.validateUTF8(b, from: 0)
        case .utf8BOM: return Self.validateUTF8(b, from: 3)
        case .utf16(let bigEndian): return Self.transcode(b, unitSize: 2, bigEndian: bigEndian)
        case .utf32(let bigEndian): return Self.transcode(b, unitSize: 4, bigEndian: bigEndian)
        }
    }

    /// `json.detect_encoding`.
    private static func detect(_ b: UnsafeRawBufferPointer) -> Encoding {
        func starts(_ prefix: [UInt8]) -> Bool { b.count >= prefix.count && zip(b, prefix).allSatisfy { $0 == $1 } }
        if starts([0x00, 0x00, 0xFE, 0xFF]) || starts([0xFF, 0xFE, 0x00, 0x00]) { return .utf32(bigEndian: nil) }
        if starts([0xFE, 0xFF]) || starts([0xFF, 0xFE]) { return .utf16(bigEndian: nil) }
        if starts([0xEF, 0xBB, 0xBF]) { return .utf8BOM }
        if b.count >= 4 {
            if b[0] == 0 { return b[1] != 0 ? .utf16(bigEndian: true) : .utf32(bigEndian: true) }
            if b[1] == 0 { return b[2] != 0 || b[3] != 0 ? .utf16(bigEndian: false) : .utf32(bigEndian: false) }
        } else if b.count == 2 {
            if b[0] == 0 { return .utf16(bigEndian: true) }
            if b[1] == 0 { return .utf16(bigEndian: false) }
        }
        return .utf8
    }

    /// Python's strict UTF-8 decoder, except that encoded surrogates (ED A0..BF xx) pass.
    static func validateUTF8(_ b: UnsafeRawBufferPointer, from start: Int) -> Outcome {
        var i = start
        var surrogates = false
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 {
                i += 1
                continue
            }
            func cont(_ k: Int) -> Bool { i + k < n && b[i + k] & 0xC0 == 0x80 }
            switch c {
            case 0xC2...0xDF:
                guard cont(1) else { return .invalid }
                i += 2
            case 0xE0...0xEF:
                guard cont(1), cont(2) else { return .invalid }
                let c1 = b[i + 1]
                if c == 0xE0 && c1 < 0xA0 { return .invalid }
                if c == 0xED && c1 >= 0xA0 { surrogates = true }
                i += 3
            case 0xF0...0xF4:
                guard cont(1), cont(2), cont(3) else { return .invalid }
                let c1 = b[i + 1]
                if (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90) { return .invalid }
                i += 4
            default:
                return .invalid
            }
        }
        return .utf8(skip: start, encodedSurrogates: surrogates)
    }

    private static func transcode(_ b: UnsafeRawBufferPointer, unitSize: Int, bigEndian: Bool?) -> Outcome {
        var start = 0
        var bigEndian = bigEndian
        if bigEndian == nil {
            // "utf-16"/"utf-32" codecs: a BOM picks the byte order and is dropped.
            bigEndian = b[0] == 0xFE || b[0] == 0x00
            start = unitSize
        }
        let big = bigEndian!
        guard (b.count - start) % unitSize == 0 else { return .invalid }
        func unit(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<unitSize {
                let byte = UInt32(b[at + (big ? k : unitSize - 1 - k)])
                v = v << 8 | byte
            }
            return v
        }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var surrogates = false
        var i = start
        while i < b.count {
            var scalar = unit(i)
            i += unitSize
            if unitSize == 2 && scalar & 0xFC00 == 0xD800 && i < b.count {
                let low = unit(i)
                if low & 0xFC00 == 0xDC00 {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += unitSize
                }
            }
            if scalar > 0x10FFFF { return .invalid }
            Self.appendWTF8(scalar, to: &out)
            if scalar & 0xFFFFF800 == 0xD800 { surrogates = true }
        }
        return .transcoded(out, encodedSurrogates: surrogates)
    }

    private static func appendWTF8(_ v: UInt32, to out: inout [UInt8]) {
        switch v {
        case 0..<0x80:
            out.append(UInt8(v))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | v >> 6))
            out.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | v >> 12))
            out.append(UInt8(0x80 | (v >> 6) & 0x3F))
            out.append(UInt8(0x80 | v & 0x3F))
        default:
            out.append(UInt8(0xF0 | v >> 18))
            out.append(UInt8(0x80 | (v >> 12) & 0x3F))
            out.append(UInt8(0x80 | (v >> 6) & 0x3F))
            out.append(UInt8(0x80 | v & 0x3F))
        }
    }
}
