import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("Request head fields")
struct RequestHeadFieldsTests {
    /// One pass finds what `first(name:)` and `contains(name:)` would, ignoring case.
    @Test func readsWhatTheScansWouldFind() {
        let headers = HTTPHeaders([
            ("HOST", "example.com:8443"), ("Host", "second"), ("content-length", "12"), ("Content-Length", "99"),
            ("X-Other", "x"), ("EXPECT", "100-continue"),
        ])
        let fields = RequestHeadFields(headers)
        #expect(fields.host == Substring(headers.first(name: "host")!))
        #expect(fields.contentLength == headers.first(name: "content-length").flatMap { Int($0) })
        #expect(fields.contentLength == 12)
        #expect(fields.hasExpect == headers.contains(name: "expect"))
        #expect(!fields.hasTransferEncoding)
        #expect(fields.hasBody)
    }

    @Test(arguments: [
        ([("Host", "x")], false),
        ([("Content-Length", "0")], false),
        ([("Content-Length", "abc")], false),
        ([("Content-Length", "5")], true),
        ([("Transfer-Encoding", "chunked")], true),
        ([("transfer-encoding", "chunked"), ("Content-Length", "0")], true),
    ])
    func aBodyFollowsOnlyWithALengthOrChunks(_ fields: [(String, String)], _ hasBody: Bool) {
        #expect(RequestHeadFields(HTTPHeaders(fields)).hasBody == hasBody)
    }

    @Test func noHostNoLength() {
        let fields = RequestHeadFields(HTTPHeaders())
        #expect(fields.host == nil && fields.contentLength == nil && !fields.hasExpect)
    }
}
