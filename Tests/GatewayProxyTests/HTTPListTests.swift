import NIOHTTP1
import Testing

@testable import GatewayProxy

@Suite("HTTP list values")
struct HTTPListTests {
    @Test func connectionTokensAreTrimmedAndEmptyOnesSkipped() {
        let headers = HTTPHeaders([("connection", " a ,, B\t,c"), ("X-Other", "d"), ("CONNECTION", "e")])
        var tokens: [String] = []
        headers.forEachConnectionToken { tokens.append(String(decoding: $0, as: UTF8.self)) }
        #expect(tokens == ["a", "B", "c", "e"])
    }

    @Test func splitAtTheFirstSeparator() {
        var value = "gzip ; q=0.5;x=1"
        value.withUTF8 { utf8 in
            let (before, after) = HTTPList.split(UnsafeRawBufferPointer(utf8), at: UInt8(ascii: ";"))
            #expect(String(decoding: HTTPList.trimmingWhitespace(before), as: UTF8.self) == "gzip")
            #expect(after.map { String(decoding: $0, as: UTF8.self) } == " q=0.5;x=1")
        }
        var bare = "identity"
        bare.withUTF8 { utf8 in
            #expect(HTTPList.split(UnsafeRawBufferPointer(utf8), at: UInt8(ascii: ";")).after == nil)
        }
    }

    @Test(arguments: [("Content-Length", "content-length", true), ("content-lengtH", "content-length", true),
                      ("content-lengths", "content-length", false), ("", "", true)])
    func caseInsensitiveEquality(_ text: String, _ lowercase: String, _ equal: Bool) {
        #expect(text.utf8.caseInsensitiveEquals(lowercase: lowercase.utf8) == equal)
    }
}
