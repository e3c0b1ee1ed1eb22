import NIOCore
import NIOEmbedded
import Testing

@testable import GatewayTLS

/// How TLSHandler holds ciphertext: the channel's buffers only while reading, nothing on an idle
/// connection. (OpenSSL reads a partial record into its own record buffer.)
@Suite("TLSHandler ciphertext buffers")
struct TLSBufferTests {
    @Test("an idle connection holds no ciphertext buffer after the handshake and after 1 MB each way")
    func idleConnectionHoldsNoBuffers() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()
        #expect(pair.serverHandler.bufferedCiphertextCapacity == 0)
        #expect(pair.clientHandler.bufferedCiphertextCapacity == 0)

        let megabyte = ByteBuffer(repeating: 0x62, count: 1 << 20)
        try pair.client.writeOutbound(megabyte)
        try pair.server.writeOutbound(megabyte)
        try pair.pump()
        #expect(pair.serverRecorder.received == megabyte)
        #expect(pair.clientRecorder.received == megabyte)
        #expect(pair.serverHandler.bufferedCiphertextCapacity == 0)
        #expect(pair.clientHandler.bufferedCiphertextCapacity == 0)
    }

    @Test("the channel's read buffer is not kept after the read")
    func channelBufferIsReleased() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()

        try pair.client.writeOutbound(ByteBuffer(string: "ping"))
        // A private copy: the client's own buffer is also kept for reuse by its thread.
        var ciphertext = ByteBuffer()
        ciphertext.writeImmutableBuffer(try #require(try pair.client.readOutbound(as: ByteBuffer.self)))
        try pair.server.writeInbound(ciphertext)
        #expect(pair.serverRecorder.receivedString == "ping")
        // Only this test holds the storage again: writing into it does not copy it.
        let before = ciphertext.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        ciphertext.setInteger(UInt8(0), at: ciphertext.readerIndex)
        let after = ciphertext.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(before == after)
    }

    @Test("a record arriving one byte at a time is delivered once complete")
    func recordSplitAcrossReads() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()

        let request = "GET /items/42?q=hello HTTP/1.1\r\nHost: localhost\r\n\r\n"
        try pair.client.writeOutbound(ByteBuffer(string: request))
        var ciphertext = try #require(try pair.client.readOutbound(as: ByteBuffer.self))
        #expect(ciphertext.readableBytes > request.utf8.count)
        while ciphertext.readableBytes > 1 {
            try pair.server.writeInbound(ciphertext.readSlice(length: 1)!)
            #expect(pair.serverRecorder.received.readableBytes == 0)
            #expect(pair.serverHandler.bufferedCiphertextCapacity == 0)
        }
        try pair.server.writeInbound(ciphertext)
        #expect(pair.serverRecorder.receivedString == request)
        #expect(pair.serverHandler.bufferedCiphertextCapacity == 0)
        #expect(pair.serverRecorder.errors.isEmpty)
    }

    @Test("a large record split in three reads, with the next record's start in the last one")
    func largeRecordSplitAcrossReads() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()

        try pair.client.writeOutbound(ByteBuffer(repeating: 0x63, count: 40_000))
        try pair.client.writeOutbound(ByteBuffer(string: "tail"))
        let first = try #require(try pair.client.readOutbound(as: ByteBuffer.self))
        let second = try #require(try pair.client.readOutbound(as: ByteBuffer.self))
        var all = first
        all.writeImmutableBuffer(second)
        let third = all.readableBytes / 3
        try pair.server.writeInbound(all.readSlice(length: third)!)
        try pair.server.writeInbound(all.readSlice(length: third)!)
        try pair.server.writeInbound(all.readSlice(length: all.readableBytes - 3)!)
        #expect(pair.serverRecorder.received.readableBytes == 40_000)
        try pair.server.writeInbound(all)
        var expected = ByteBuffer(repeating: 0x63, count: 40_000)
        expected.writeString("tail")
        #expect(pair.serverRecorder.received == expected)
        #expect(pair.serverHandler.bufferedCiphertextCapacity == 0)
        #expect(pair.serverRecorder.errors.isEmpty)
    }

    @Test("several records and close_notify in one read are all processed")
    func severalRecordsInOneRead() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()

        var combined = ByteBuffer()
        for word in ["one ", "two ", "three"] {
            try pair.client.writeOutbound(ByteBuffer(string: word))
            combined.writeImmutableBuffer(try #require(try pair.client.readOutbound(as: ByteBuffer.self)))
        }
        _ = pair.client.close()
        while let alert = try pair.client.readOutbound(as: ByteBuffer.self) {
            combined.writeImmutableBuffer(alert)
        }
        #expect(tlsRecords(in: combined).count == 4)
        _ = try? pair.server.writeInbound(combined)
        #expect(pair.serverRecorder.receivedString == "one two three")
        #expect(pair.serverRecorder.events.contains(.shutdownCompleted))
        #expect(pair.serverRecorder.errors.isEmpty)
    }

    @Test("TLS 1.3 data that arrives in one read with the client's Finished is delivered")
    func dataWithFinished() throws {
        let certificates = try CertificateFixture()
        // OpenSSL reads the request ahead into its record buffer while finishing the handshake.
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 443)
        try pair.server.connect(to: address).wait()
        try pair.client.connect(to: address).wait()

        func allOutbound(_ channel: EmbeddedChannel) throws -> ByteBuffer {
            var all = ByteBuffer()
            while let bytes = try channel.readOutbound(as: ByteBuffer.self) {
                all.writeImmutableBuffer(bytes)
            }
            return all
        }
        // Run the handshake by hand until the client has written its Finished.
        while pair.clientRecorder.handshakeInfo == nil {
            try pair.server.writeInbound(try allOutbound(pair.client))
            try pair.client.writeInbound(try allOutbound(pair.server))
        }
        #expect(pair.serverRecorder.handshakeInfo == nil)
        try pair.client.writeOutbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        let finishedAndRequest = try allOutbound(pair.client)
        #expect(tlsRecords(in: finishedAndRequest).count >= 2)
        try pair.server.writeInbound(finishedAndRequest)
        #expect(pair.serverRecorder.handshakeInfo != nil)
        #expect(pair.serverRecorder.receivedString == "GET / HTTP/1.1\r\n\r\n")
        #expect(pair.serverRecorder.errors.isEmpty)
    }

    @Test("a busy connection keeps OpenSSL's record buffers until a check interval passes without reads")
    func busyConnectionKeepsRecordBuffers() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()
        #expect(!pair.serverHandler.keepsRecordBuffers)

        // Requests in quick succession (real time): busy.
        let rounds = try makeBusy(pair, withResponses: true)
        #expect(pair.serverHandler.keepsRecordBuffers)
        // The client read its responses in quick succession too (usually).
        let keepers = pair.clientHandler.keepsRecordBuffers ? 2 : 1
        let keeping = CoalescingBuffer.current.connectionsKeepingRecordBuffers
        #expect(keeping >= keepers)

        // A read during the first interval keeps them for another one.
        pair.loop.advanceTime(by: .milliseconds(200))
        try pair.client.writeOutbound(ByteBuffer(string: "request \(rounds)"))
        try pair.pump()
        pair.loop.advanceTime(by: .milliseconds(100))
        #expect(pair.serverHandler.keepsRecordBuffers)

        // A whole interval without reads: released, and traffic goes on.
        pair.loop.advanceTime(by: .milliseconds(250))
        #expect(!pair.serverHandler.keepsRecordBuffers)
        #expect(!pair.clientHandler.keepsRecordBuffers)
        #expect(CoalescingBuffer.current.connectionsKeepingRecordBuffers == keeping - keepers)
        try pair.server.writeOutbound(ByteBuffer(string: "late response"))
        try pair.client.writeOutbound(ByteBuffer(string: "late request"))
        try pair.pump()
        #expect(pair.serverRecorder.receivedString == requests(0...rounds) + "late request")
        #expect(pair.clientRecorder.receivedString.hasSuffix("response \(rounds - 1)late response"))
        #expect(pair.serverRecorder.errors.isEmpty)
        #expect(pair.clientRecorder.errors.isEmpty)
    }

    @Test("closing a busy connection cancels its record buffer check")
    func closingCancelsRecordBufferCheck() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()
        _ = try makeBusy(pair, withResponses: false)
        #expect(pair.serverHandler.keepsRecordBuffers)
        let keeping = CoalescingBuffer.current.connectionsKeepingRecordBuffers
        try pair.server.close().wait()
        #expect(!pair.serverHandler.keepsRecordBuffers)
        #expect(CoalescingBuffer.current.connectionsKeepingRecordBuffers == keeping - 1)
        pair.loop.advanceTime(by: .seconds(1))
        #expect(pair.serverRecorder.errors.isEmpty)
    }

    @Test("at most 64 connections per event loop keep record buffers")
    func recordBufferKeepersAreLimited() throws {
        let certificates = try CertificateFixture()
        let serverContext = try certificates.serverContext()
        let clientContext = try certificates.clientContext()
        var pairs: [TLSPair] = []
        defer {
            for pair in pairs {
                pair.close()
            }
        }
        let already = CoalescingBuffer.current.connectionsKeepingRecordBuffers
        for _ in 0..<(TLSHandler.maximumConnectionsKeepingRecordBuffers - already + 2) {
            let pair = try TLSPair(server: serverContext, client: clientContext)
            pairs.append(pair)
            try pair.connect()
            _ = try makeBusy(pair, withResponses: false)
        }
        #expect(CoalescingBuffer.current.connectionsKeepingRecordBuffers == TLSHandler.maximumConnectionsKeepingRecordBuffers)
        #expect(pairs.filter { $0.serverHandler.keepsRecordBuffers }.count == TLSHandler.maximumConnectionsKeepingRecordBuffers - already)
        #expect(!pairs.last!.serverHandler.keepsRecordBuffers)
        #expect(pairs.allSatisfy { $0.serverRecorder.receivedString.hasPrefix("request 0request 1") })
        for pair in pairs {
            pair.close()
        }
        pairs.removeAll()
        #expect(CoalescingBuffer.current.connectionsKeepingRecordBuffers == already)
    }

    @Test("plaintext buffers kept by a handler above are not overwritten by later reads on any connection")
    func keptPlaintextIsNotOverwritten() throws {
        let certificates = try CertificateFixture()
        let first = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        let second = try TLSPair(server: try certificates.serverContext(), client: try certificates.clientContext())
        defer {
            first.close()
            second.close()
        }
        try first.connect()
        try second.connect()
        let keeper = BufferKeeper()
        try first.server.pipeline.syncOperations.addHandler(keeper, position: .after(first.serverHandler))

        try first.client.writeOutbound(ByteBuffer(string: "first request"))
        try first.pump()
        try second.client.writeOutbound(ByteBuffer(string: "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"))
        try second.pump()
        try first.client.writeOutbound(ByteBuffer(string: "second request"))
        try first.pump()

        #expect(keeper.kept.map { String(buffer: $0) } == ["first request", "second request"])
        #expect(second.serverRecorder.receivedString == "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
        #expect(first.serverRecorder.receivedString == "first requestsecond request")
    }
}

/// Keeps every buffer it reads, unread, and passes it on.
final class BufferKeeper: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    var kept: [ByteBuffer] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.kept.append(self.unwrapInboundIn(data))
        context.fireChannelRead(data)
    }
}

/// Sends requests (and answers them, when asked) until the server's handler counts the
/// connection as busy: reads less than 100 ms apart, which a loaded machine may miss once.
/// Returns the number of requests sent (at least 2).
private func makeBusy(_ pair: TLSPair, withResponses: Bool) throws -> Int {
    var number = 0
    let limit = TLSHandler.maximumConnectionsKeepingRecordBuffers
    while number < 2 || (number < 20 && !pair.serverHandler.keepsRecordBuffers
        && CoalescingBuffer.current.connectionsKeepingRecordBuffers < limit)
    {
        try pair.client.writeOutbound(ByteBuffer(string: "request \(number)"))
        try pair.pump()
        if withResponses {
            try pair.server.writeOutbound(ByteBuffer(string: "response \(number)"))
            try pair.pump()
        }
        number += 1
    }
    return number
}

private func requests(_ numbers: ClosedRange<Int>) -> String {
    numbers.map { "request \($0)" }.joined()
}
