import GatewayAuth
import Testing

@Suite("Base64URL")
struct Base64URLTests {
    @Test func decodesUnpaddedAndRefusesEverythingElse() {
        #expect(Base64URL.decode("") == [])
        #expect(Base64URL.decode("Zg") == Array("f".utf8))
        #expect(Base64URL.decode("Zm8") == Array("fo".utf8))
        #expect(Base64URL.decode("Zm9v") == Array("foo".utf8))
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.decode("Zg==") == nil, "padding")
        #expect(Base64URL.decode("+/8") == nil, "the base64 alphabet")
        #expect(Base64URL.decode("Z") == nil, "a length of 1 mod 4")
        #expect(Base64URL.decode("Zh") == nil, "unused bits set: a second spelling of \"f\"")
        #expect(Base64URL.decode("Zm9") == nil, "unused bits set")
        #expect(Base64URL.decode("Zm 9v") == nil, "whitespace")
    }

    @Test func encodeRoundTrips() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + 11) & 0xFF) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
    }
}
