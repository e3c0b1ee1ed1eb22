import GatewayRateLimit
import NIOCore
import NIOEmbedded
import Testing

@Suite("RESP codec")
struct RESPCodecTests {
    private func parse(_ text: String) throws -> RESPValue? {
        var buffer = ByteBuffer(string: text)
        return try RESPValueDecoder.parse(&buffer, depth: 0)
    }

    @Test func parsesEveryReplyType() throws {
        #expect(try self.parse("+OK\r\n") == .simpleString("OK"))
        #expect(try self.parse("-NOSCRIPT No matching script\r\n") == .error("NOSCRIPT No matching script"))
        #expect(try self.parse(":-42\r\n") == .integer(-42))
        #expect(try self.parse("$5\r\nhello\r\n") == .bulkString(ByteBuffer(string: "hello")))
        #expect(try self.parse("$0\r\n\r\n") == .bulkString(ByteBuffer()))
        #expect(try self.parse("$-1\r\n") == .bulkString(nil))
        #expect(try self.parse("*-1\r\n") == .array(nil))
        #expect(
            try self.parse("*3\r\n:1\r\n*1\r\n+x\r\n$2\r\nab\r\n")
                == .array([.integer(1), .array([.simpleString("x")]), .bulkString(ByteBuffer(string: "ab"))]))
    }

    @Test func waitsForIncompleteReplies() throws {
        for partial in ["", "+OK", "+OK\r", ":1", "$5\r\nhel", "$5\r\nhello\r", "*2\r\n:1\r\n", "*2\r\n:1\r\n:"] {
            #expect(try self.parse(partial) == nil, "\(partial.debugDescription)")
        }
    }

    @Test func refusesMalformedReplies() {
        #expect(throws: RESPValueDecoder.ProtocolError.self) { try self.parse("?x\r\n") }
        #expect(throws: RESPValueDecoder.ProtocolError.self) { try self.parse(":abc\r\n") }
        #expect(throws: RESPValueDecoder.ProtocolError.self) { try self.parse("$2\r\nabcd\r\n") }
        #expect(throws: RESPValueDecoder.ProtocolError.self) {
            try self.parse(String(repeating: "*1\r\n", count: 40) + ":1\r\n")
        }
    }

    @Test func decoderHandlesRepliesSplitAcrossReads() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RESPValueDecoder()))
        try channel.writeInbound(ByteBuffer(string: "+PO"))
        #expect(try channel.readInbound(as: RESPValue.self) == nil)
        try channel.writeInbound(ByteBuffer(string: "NG\r\n:7\r\n$3\r\nab"))
        #expect(try channel.readInbound(as: RESPValue.self) == .simpleString("PONG"))
        #expect(try channel.readInbound(as: RESPValue.self) == .integer(7))
        try channel.writeInbound(ByteBuffer(string: "c\r\n"))
        #expect(try channel.readInbound(as: RESPValue.self) == .bulkString(ByteBuffer(string: "abc")))
        _ = try channel.finish()
    }

    @Test func encodesCommandsAsBulkStringArrays() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(RESPCommandEncoder()))
        try channel.writeOutbound(["SET", "clé", ""])
        let bytes = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: bytes) == "*3\r\n$3\r\nSET\r\n$4\r\nclé\r\n$0\r\n\r\n")
        _ = try channel.finish()
    }
}
