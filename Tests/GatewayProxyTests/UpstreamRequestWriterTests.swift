import NIOCore
import NIOHTTP1
import Testing

@testable import GatewayProxy

/// Request heads for upstreams are framed as NIO's `HTTPRequestEncoder` framed them.
@Suite("Upstream request heads as bytes")
struct UpstreamRequestWriterTests {
    private func serialize(
        _ method: HTTPMethod, _ fields: [(String, String)]
    ) -> (text: String, framing: UpstreamRequestWriter.Framing) {
        let head = HTTPRequestHead(
            version: .http1_1, method: method, uri: "/a?b=1", headers: HTTPHeaders(fields))
        let (bytes, framing) = UpstreamRequestWriter.serialize(head)
        return (String(buffer: bytes), framing)
    }

    @Test func aGetIsWrittenAsItIs() {
        let (text, framing) = serialize(.GET, [("host", "up"), ("x-request-id", "r")])
        #expect(text == "GET /a?b=1 HTTP/1.1\r\nhost: up\r\nx-request-id: r\r\n\r\n")
        #expect(framing == .asIs)
    }

    @Test func aLengthWinsOverChunkedAndIsKept() {
        let (text, framing) = serialize(.POST, [("content-length", "3"), ("transfer-encoding", "chunked")])
        #expect(text == "POST /a?b=1 HTTP/1.1\r\ncontent-length: 3\r\n\r\n")
        #expect(framing == .asIs)
    }

    @Test func aPostWithoutLengthIsChunked() {
        let (text, framing) = serialize(.POST, [("host", "up")])
        #expect(text == "POST /a?b=1 HTTP/1.1\r\nhost: up\r\ntransfer-encoding: chunked\r\n\r\n")
        #expect(framing == .chunked)
    }

    @Test func otherMethodsAreChunkedOnlyWhenTheHeadSaysSo() {
        #expect(serialize(.DELETE, [("transfer-encoding", "chunked")]).framing == .chunked)
        #expect(serialize(.DELETE, []).framing == .asIs)
        #expect(serialize(.DELETE, []).text == "DELETE /a?b=1 HTTP/1.1\r\n\r\n")
    }

    @Test func traceSendsNoFramingFields() {
        let (text, framing) = serialize(.TRACE, [("content-length", "5"), ("transfer-encoding", "chunked")])
        #expect(text == "TRACE /a?b=1 HTTP/1.1\r\n\r\n")
        #expect(framing == .asIs)
    }
}
