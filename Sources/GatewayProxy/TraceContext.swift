/// W3C Trace Context (`traceparent`): a proxied request carries the client's
/// trace on when its `traceparent` is valid, or starts one, so upstreams can
/// join the trace either way.
public enum TraceContext {
    /// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, ids not all zero
    /// (version 00 as the spec defines it; a higher version is read by its prefix).
    public static func isValid(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { Self.isValid(bytes: $0) }
    }

    private static func isValid(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
            bytes[52] == UInt8(ascii: "-")
        else { return false }
        let version = bytes[0..<2]
        guard version.allSatisfy(Self.isLowerHex), !(bytes[0] == UInt8(ascii: "f") && bytes[1] == UInt8(ascii: "f"))
        else { return false }
        if bytes[0] == UInt8(ascii: "0") && bytes[1] == UInt8(ascii: "0") && bytes.count != 55 { return false }
        let traceID = bytes[3..<35]
        let parentID = bytes[36..<52]
        let flags = bytes[53..<55]
        guard traceID.allSatisfy(Self.isLowerHex), parentID.allSatisfy(Self.isLowerHex),
            flags.allSatisfy(Self.isLowerHex)
        else { return false }
        return traceID.contains { $0 != UInt8(ascii: "0") } && parentID.contains { $0 != UInt8(ascii: "0") }
    }

    /// A new trace, sampled: random trace and parent ids, written in one allocation.
    public static func start(using random: inout some RandomNumberGenerator) -> String {
        let (traceHigh, traceLow, parent) = (random.next() | 1, random.next(), random.next() | 1)  // never all zero
        return String(unsafeUninitializedCapacity: 55) { buffer in
            var index = 0
            func put(_ byte: UInt8) {
                buffer[index] = byte
                index += 1
            }
            func putHex(_ value: UInt64) {
                var shift = 60
                while shift >= 0 {
                    put(Self.hexDigits[Int((value >> UInt64(shift)) & 0xF)])
                    shift -= 4
                }
            }
            put(UInt8(ascii: "0")); put(UInt8(ascii: "0")); put(UInt8(ascii: "-"))
            putHex(traceHigh); putHex(traceLow); put(UInt8(ascii: "-"))
            putHex(parent); put(UInt8(ascii: "-"))
            put(UInt8(ascii: "0")); put(UInt8(ascii: "1"))
            return index
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
