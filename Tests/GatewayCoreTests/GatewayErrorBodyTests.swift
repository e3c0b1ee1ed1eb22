import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("Gateway error body")
struct GatewayErrorBodyTests {
    @Test func plainMessagesAreWrittenAsTheyAre() {
        let body = GatewayError.notFound.body(requestID: "id-1", allocator: ByteBufferAllocator())
        #expect(
            String(buffer: body)
                == #"{"error":{"status":404,"code":"not_found","message":"No route matches this request.","request_id":"id-1"}}"#)
    }

    /// Quotes, backslashes and control characters are escaped (RFC 8259); other text, UTF-8
    /// included, is copied; the result parses back to the same strings.
    @Test(arguments: ["a\"b", "back\\slash", "line\nbreak\r\ttab", "bell\u{7}", "é ünïcödé ✓", "\"", "", "end\\"])
    func messagesAreEscapedAsJSON(_ message: String) throws {
        let error = GatewayError(status: .badRequest, code: "c\"ode", message: message)
        let body = error.body(requestID: "r\u{1}", allocator: ByteBufferAllocator())
        let parsed = try #require(
            try JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8)) as? [String: [String: Any]])
        #expect(parsed["error"]?["message"] as? String == message)
        #expect(parsed["error"]?["code"] as? String == "c\"ode")
        #expect(parsed["error"]?["request_id"] as? String == "r\u{1}")
        #expect(!String(buffer: body).contains("\n"), "control characters never appear raw")
    }

    @Test func substringsAreWrittenToo() {
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        let text = "xx\"yy"
        buffer.writeJSONString(text.dropFirst(1))
        #expect(String(buffer: buffer) == #""x\"yy""#)
    }
}
