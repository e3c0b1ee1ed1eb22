import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GatewayHTTP1

@Suite("HTTP response parser")
struct HTTPResponseParserTests {
    /// Parses `text` as the answer to one request, in reads of `readSize` bytes, then closes.
    static func parse(_ text: String, toHead: Bool = false, readSize: Int = .max, maxHeaderBytes: Int = 16384) -> [ParsedEvent] {
        var parser = HTTPResponseParser(maxHeaderBytes: maxHeaderBytes)
        parser.expectResponse(toHead: toHead)
        var events: [ParsedEvent] = []
        let bytes = Array(text.utf8)
        var offset = 0
        do {
            while offset < bytes.count {
                let end = min(bytes.count, offset + readSize)
                parser.append(ByteBuffer(bytes: bytes[offset..<end]))
                offset = end
                while let part = try parser.next() { events.record(.response(part)) }
            }
            if let part = try parser.finish() { events.record(.response(part)) }
        } catch {
            events.record(.failed(error))
        }
        return events
    }

    /// The same bytes through NIO's `HTTPResponseDecoder` (llhttp), closed at the end.
    static func parseWithNIO(_ text: String, toHead: Bool = false) throws -> [ParsedEvent] {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHTTPClientHandlers()
        try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: toHead ? .HEAD : .GET, uri: "/")))
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        try channel.writeInbound(ByteBuffer(string: text))
        var events: [ParsedEvent] = []
        while let part = try channel.readInbound(as: HTTPClientResponsePart.self) { events.record(.response(part)) }
        _ = try? channel.finish()
        while let part = try channel.readInbound(as: HTTPClientResponsePart.self) { events.record(.response(part)) }
        return events
    }

    static let nginxAnswer =
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Wed, 25 Nov 2026 12:04:41 GMT\r\nContent-Type: application/json\r\n"
        + "Content-Length: 32\r\nLast-Modified: Wed, 25 Nov 2026 11:50:00 GMT\r\nConnection: keep-alive\r\n"
        + "ETag: \"6925a1b8-20\"\r\nAccept-Ranges: bytes\r\n\r\n{\"ok\":true,\"service\":\"upstream\"}"

    static let validResponses = [
        Self.nginxAnswer,
        "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 50\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\nTrailer: t\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the connection closes",
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nRetry-After: 1\r\n\r\nbusy",
        "HTTP/1.1 299 Custom Thing\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    ]

    @Test(arguments: Self.validResponses)
    func agreesWithNIOsDecoder(_ response: String) throws {
        let expected = try Self.parseWithNIO(response)
        #expect(expected.contains(.end))
        #expect(Self.parse(response) == expected)
    }

    @Test(arguments: Self.validResponses)
    func readsOfAnySizeGiveTheSameParts(_ response: String) {
        let whole = Self.parse(response)
        for readSize in [1, 2, 5, 13] {
            #expect(Self.parse(response, readSize: readSize) == whole, "reads of \(readSize) bytes")
        }
    }

    @Test func aResponseToHEADHasNoBody() throws {
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
        #expect(Self.parse(response, toHead: true) == (try Self.parseWithNIO(response, toHead: true)))
        #expect(Self.parse(response, toHead: true).last == .end)
    }

    @Test func theStatusReasonIsKeptOnlyForUnknownCodes() throws {
        var parser = HTTPResponseParser()
        parser.append(ByteBuffer(string: "HTTP/1.1 299 Custom Thing\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 Fine\r\n\r\n"))
        guard case .head(let custom)? = try parser.next() else {
            Issue.record("expected a head")
            return
        }
        #expect(custom.status.reasonPhrase == "Custom Thing")
    }

    static let malformedResponses: [(String, HTTPParseError)] = [
        ("HTTP/1.1 2000 OK\r\n\r\n", .malformed("invalid status line")),
        ("HTTP/2.0 200 OK\r\n\r\n", .malformed("invalid status line")),
        ("HTTP/1.1 20x OK\r\n\r\n", .malformed("invalid status code")),
        ("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", .malformed("invalid header field name")),
        ("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", .malformed("both Content-Length and Transfer-Encoding")),
        ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", .malformed("connection closed mid-body")),
        ("HTTP/1.1 200 OK\r\nContent-Len", .malformed("connection closed mid-head")),
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", .malformed("101 Switching Protocols was not asked for")),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWikiXY", .malformed("chunk data not followed by CRLF")),
    ]

    @Test(arguments: Self.malformedResponses)
    func malformedResponsesAreRefused(_ response: String, error: HTTPParseError) {
        #expect(Self.parse(response).last == .failed(error))
        #expect(Self.parse(response, readSize: 1).last == .failed(error), "a byte at a time")
    }

    @Test func aHeadOverTheLimitIsRefused() {
        let response = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "v", count: 200) + "\r\n\r\n"
        #expect(Self.parse(response, maxHeaderBytes: 100) == [.failed(.headerOverflow)])
        let endless = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "v", count: 2000)
        #expect(Self.parse(endless, readSize: 100, maxHeaderBytes: 100) == [.failed(.headerOverflow)])
    }

    @Test func nothingAtTheCloseIsNoResponse() throws {
        var parser = HTTPResponseParser()
        parser.expectResponse(toHead: false)
        #expect(try parser.finish() == nil)
    }
}

@Suite("Connection header")
struct ConnectionHeaderTests {
    @Test(arguments: [
        ("HTTP/1.1", [String](), true),
        ("HTTP/1.1", ["close"], false),
        ("HTTP/1.1", ["Keep-Alive, Upgrade"], true),
        ("HTTP/1.1", ["upgrade,  CLOSE "], false),
        ("HTTP/1.0", [], false),
        ("HTTP/1.0", ["keep-alive"], true),
        ("HTTP/1.0", ["keep-alive", "close"], false),
    ])
    func keepsAliveAsNIOSays(_ version: String, _ values: [String], _ expected: Bool) {
        let httpVersion: HTTPVersion = version == "HTTP/1.0" ? .http1_0 : .http1_1
        let headers = HTTPHeaders(values.map { ("Connection", $0) } + [("Host", "x")])
        #expect(headers.keepsAlive(version: httpVersion) == expected)
        #expect(HTTPRequestHead(version: httpVersion, method: .GET, uri: "/", headers: headers).isKeepAlive == expected)
    }

    @Test func tokensAreTrimmedAndEmptyOnesSkipped() {
        let headers = HTTPHeaders([("connection", " a ,, B\t,c"), ("X-Other", "d"), ("CONNECTION", "e")])
        var tokens: [String] = []
        headers.forEachConnectionToken { tokens.append(String(decoding: $0, as: UTF8.self)) }
        #expect(tokens == ["a", "B", "c", "e"])
    }
}
