/// W3C Trace Context (`traceparent`): a proxied request carries the client's
/// trace on when its `traceparent` is valid, or starts one, so upstreams can
/// join the trace either way.
public enum TraceContext {
    /// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, ids not all zero
    /// (version 00 as the spec defines it; a higher version is read by its prefix).
    public static func isValid(_ value: some StringProtocol) -> Bool {
        let bytes = Array(value.utf8)
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
            bytes[52] == UInt8(ascii: "-")
        else { return false }
        let version = bytes[0..<2]
        guard version.allSatisfy(Self.isLowerHex), version != [UInt8(ascii: "f"), UInt8(ascii: "f")] else { return false }
        if version == [UInt8(ascii: "0"), UInt8(ascii: "0")] && bytes.count != 55 { return false }
        let traceID = bytes[3..<35]
        let parentID = bytes[36..<52]
        let flags = bytes[53..<55]
        guard traceID.allSatisfy(Self.isLowerHex), parentID.allSatisfy(Self.isLowerHex),
            flags.allSatisfy(Self.isLowerHex)
        else { return false }
        return traceID.contains { $0 != UInt8(ascii: "0") } && parentID.contains { $0 != UInt8(ascii: "0") }
    }

    /// A new trace, sampled: random trace and parent ids.
    public static func start(using random: inout some RandomNumberGenerator) -> String {
        let traceHigh = random.next() | 1  // never all zero
        let traceLow = random.next()
        let parent = random.next() | 1
        return "00-" + Self.hex(traceHigh) + Self.hex(traceLow) + "-" + Self.hex(parent) + "-01"
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
