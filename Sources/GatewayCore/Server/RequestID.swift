import GatewayProxy

/// Makes request ids: UUID v4 text from a per-connection xoshiro256** generator
/// seeded once from the system's, so the hot path makes no system call.
struct RequestIDGenerator {
    private var random = Xoshiro256()

    mutating func next() -> String {
        let high = self.random.next()
        let low = self.random.next()
        // Version 4, variant 10.
        let a = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let b = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            func put(_ value: UInt64, nibbles: Int) {
                var shift = (nibbles - 1) * 4
                while shift >= 0 {
                    buffer[index] = Self.hex[Int((value >> UInt64(shift)) & 0xF)]
                    index += 1
                    shift -= 4
                }
            }
            put(a >> 32, nibbles: 8)
            buffer[index] = UInt8(ascii: "-"); index += 1
            put(a >> 16, nibbles: 4)
            buffer[index] = UInt8(ascii: "-"); index += 1
            put(a, nibbles: 4)
            buffer[index] = UInt8(ascii: "-"); index += 1
            put(b >> 48, nibbles: 4)
            buffer[index] = UInt8(ascii: "-"); index += 1
            put(b, nibbles: 12)
            return index
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Whether a client-sent `X-Request-Id` is safe to keep: 1–128 visible ASCII characters.
    static func isAcceptable(_ id: String) -> Bool {
        let utf8 = id.utf8
        return !utf8.isEmpty && utf8.count <= 128 && utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }
}
