import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GatewayHTTP1

@Suite("HTTP request parser")
struct HTTPRequestParserTests {
    /// Parses `text` delivered in reads of `readSize` bytes (the whole at once by default).
    static func parse(_ text: String, readSize: Int = .max, maxHeaderBytes: Int = 16384) -> [ParsedEvent] {
        var parser = HTTPRequestParser(maxHeaderBytes: maxHeaderBytes)
        var events: [ParsedEvent] = []
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + readSize)
            parser.append(ByteBuffer(bytes: bytes[offset..<end]))
            offset = end
            do {
                while let part = try parser.next() { events.record(.request(part)) }
            } catch {
                events.record(.failed(error))
                return events
            }
        }
        return events
    }

    /// The same bytes through NIO's own decoder (llhttp), for requests both must accept alike.
    static func parseWithNIO(_ text: String) throws -> [ParsedEvent] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder()))
        try channel.writeInbound(ByteBuffer(string: text))
        var events: [ParsedEvent] = []
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            events.record(.request(part))
        }
        _ = try? channel.finish()
        return events
    }

    static let validRequests = [
        "GET /items/42?q=hello HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8.14.1 with a long value\r\nAccept: */*\r\n\r\n",
        "POST /items/ HTTP/1.1\r\nHost: a\r\nContent-Length: 27\r\n\r\n{\"name\":\"Foo\",\"price\":35.4}",
        "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;name=value\r\n, world\r\n0\r\n\r\n",
        "POST /up HTTP/1.1\r\ntransfer-encoding: gzip, CHUNKED\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n",
        "PUT /items/5 HTTP/1.1\r\nContent-Length: 0\r\nX-Empty:\r\nX-Spaces:   padded value\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nPOST /c HTTP/1.1\r\nContent-Length: 2\r\n\r\nokDELETE /d HTTP/1.1\r\n\r\n",
        "PURGE /cache HTTP/1.1\r\nHost: a\r\n\r\n",
    ]

    @Test(arguments: Self.validRequests)
    func agreesWithNIOsDecoder(_ request: String) throws {
        let expected = try Self.parseWithNIO(request)
        #expect(!expected.isEmpty)
        #expect(Self.parse(request) == expected)
    }

    /// Every split of a request across reads gives the same parts.
    @Test(arguments: Self.validRequests)
    func readsOfAnySizeGiveTheSameParts(_ request: String) {
        let whole = Self.parse(request)
        for readSize in [1, 2, 3, 7, 16] {
            #expect(Self.parse(request, readSize: readSize) == whole, "reads of \(readSize) bytes")
        }
    }

    /// RFC 9110 §5.5: whitespace around a field value is not part of it (NIO's decoder keeps the trailing part).
    @Test func whitespaceAroundFieldValuesIsDropped() {
        #expect(
            Self.parse("GET / HTTP/1.1\r\nX-Spaces: \t padded value  \t\r\n\r\n")
                == [.head("GET / HTTP/1.1 [\"X-Spaces: padded value\"]"), .end])
    }

    @Test func emptyLinesBeforeARequestAreIgnored() {
        #expect(Self.parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n") == [.head("GET / HTTP/1.1 []"), .end])
    }

    @Test func anIncompleteHeadWaitsForMoreBytes() throws {
        var parser = HTTPRequestParser(maxHeaderBytes: 16384)
        parser.append(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: a\r\n"))
        #expect(try parser.next() == nil)
        #expect(parser.hasUnparsedBytes)
        parser.append(ByteBuffer(string: "\r\n"))
        guard case .head(let head)? = try parser.next() else {
            Issue.record("expected a head")
            return
        }
        #expect(head.headers["host"] == ["a"])
        #expect(try parser.next() == .end(nil))
        #expect(try parser.next() == nil)
        #expect(!parser.hasUnparsedBytes)
    }

    static let malformedRequests: [(String, String)] = [
        ("BROKEN\u{1} nonsense\r\n\r\n", "invalid method"),
        ("GET /a b HTTP/1.1\r\n\r\n", "invalid HTTP version"),
        ("GET /a\u{7f} HTTP/1.1\r\n\r\n", "invalid request target"),
        ("GET  /a HTTP/1.1\r\n\r\n", "invalid request target"),
        ("GET /a HTTP/2.0\r\n\r\n", "unsupported HTTP version"),
        ("GET /a HTTP/1.1\nHost: a\r\n\r\n", "invalid HTTP version"),
        ("GET /a HTTP/1.1\r\nHost : a\r\n\r\n", "invalid header field name"),
        ("GET /a HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", "obsolete line folding"),
        ("GET /a HTTP/1.1\r\nX: a\nY: b\r\n\r\n", "invalid character in header field value"),
        ("GET /a HTTP/1.1\r\nX: a\u{0}b\r\n\r\n", "invalid character in header field value"),
        ("GET /a HTTP/1.1\r\nX: a\rY: b\r\n\r\n", "CR without LF"),
        ("POST /a HTTP/1.1\r\nContent-Length: 5x\r\n\r\n", "invalid Content-Length"),
        ("POST /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
        ("POST /a HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", "invalid Content-Length"),
        ("POST /a HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "invalid Content-Length"),
        ("POST /a HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", "invalid Content-Length"),
        ("POST /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "Transfer-Encoding does not end in chunked"),
        ("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", "both Content-Length and Transfer-Encoding"),
        ("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size"),
        ("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", "chunk size too large"),
        ("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", "chunk data not followed by CRLF"),
    ]

    @Test(arguments: Self.malformedRequests)
    func malformedRequestsAreRefused(_ request: String, reason: String) {
        #expect(Self.parse(request).last == .failed(.malformed(reason)))
        #expect(Self.parse(request, readSize: 1).last == .failed(.malformed(reason)), "a byte at a time")
    }

    @Test func aRefusedStreamStaysRefused() throws {
        var parser = HTTPRequestParser(maxHeaderBytes: 16384)
        parser.append(ByteBuffer(string: "GET /a HTTP/9.9\r\n\r\n"))
        #expect(throws: HTTPParseError.malformed("unsupported HTTP version")) { try parser.next() }
        parser.append(ByteBuffer(string: "GET /a HTTP/1.1\r\n\r\n"))
        #expect(try parser.next() == nil)
    }

    @Test func headLimits() {
        let limit = 64
        let target = "/" + String(repeating: "t", count: limit)
        #expect(Self.parse("GET \(target) HTTP/1.1\r\n\r\n", maxHeaderBytes: limit) == [.failed(.headerOverflow)])
        let field = "X: " + String(repeating: "v", count: limit)
        #expect(Self.parse("GET / HTTP/1.1\r\n\(field)\r\n\r\n", maxHeaderBytes: limit) == [.failed(.headerOverflow)])
        let fields = (0..<5).map { "X\($0): " + String(repeating: "v", count: 12) + "\r\n" }.joined()
        #expect(Self.parse("GET / HTTP/1.1\r\n\(fields)\r\n", maxHeaderBytes: limit) == [.failed(.headerOverflow)])
        let fits = (0..<4).map { "X\($0): " + String(repeating: "v", count: 12) + "\r\n" }.joined()
        #expect(Self.parse("GET / HTTP/1.1\r\n\(fits)\r\n", maxHeaderBytes: limit).last == .end)
        // A head that never ends is refused once it can't fit, not buffered for ever.
        let endless = "GET / HTTP/1.1\r\nX: " + String(repeating: "v", count: 4 * limit)
        #expect(Self.parse(endless, readSize: 10, maxHeaderBytes: limit) == [.failed(.headerOverflow)])
        let trailers = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + String(repeating: "v", count: 2 * limit)
        #expect(Self.parse(trailers + "\r\n\r\n", maxHeaderBytes: limit).last == .failed(.headerOverflow))
    }

    /// A handler may serve a bodiless request at its head and consume its end there.
    @Test func theEndOfABodilessRequestCanBeConsumedAtTheHead() throws {
        var parser = HTTPRequestParser(maxHeaderBytes: 16384)
        parser.append(ByteBuffer(string: "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"))
        guard case .head? = try parser.next() else {
            Issue.record("expected a head")
            return
        }
        #expect(parser.nextIsEnd)
        parser.consumeEnd()
        guard case .head(let second)? = try parser.next() else {
            Issue.record("expected the second head")
            return
        }
        #expect(second.uri == "/b")
        #expect(!parser.nextIsEnd, "a body follows")
        #expect(try parser.next() == .body(ByteBuffer(string: "x")))
        #expect(parser.nextIsEnd)
        #expect(try parser.next() == .end(nil))
        #expect(!parser.nextIsEnd)
    }

    @Test func bodiesAreSlicesOfTheReadBytes() throws {
        var parser = HTTPRequestParser(maxHeaderBytes: 16384)
        parser.append(ByteBuffer(string: "POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123"))
        guard case .head? = try parser.next(), case .body(let first)? = try parser.next() else {
            Issue.record("expected a head and a body part")
            return
        }
        #expect(String(buffer: first) == "0123")
        #expect(try parser.next() == nil)
        parser.append(ByteBuffer(string: "456789GET"))
        guard case .body(let rest)? = try parser.next() else {
            Issue.record("expected a body part")
            return
        }
        #expect(String(buffer: rest) == "456789")
        #expect(try parser.next() == .end(nil))
        #expect(try parser.next() == nil)
        #expect(parser.hasUnparsedBytes, "the next request's first bytes wait")
    }
}
