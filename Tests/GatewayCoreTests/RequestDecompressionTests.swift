import GatewayConfig
import NIOCore
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("Request decompression: codings and the inflater's caps")
struct RequestDecompressionTests {
    @Test(arguments: [
        ([], RouteDecompression.Coding.identity),
        (["identity"], .identity),
        ([""], .identity),
        (["gzip"], .gzip),
        (["GZIP"], .gzip),
        (["x-gzip"], .gzip),
        ([" gzip "], .gzip),
        (["identity, gzip"], .gzip),
        (["gzip", "identity"], .gzip),
        (["deflate"], .unsupported),
        (["br"], .unsupported),
        (["gzip, gzip"], .unsupported),
        (["gzip", "gzip"], .unsupported),
        (["gzip, br"], .unsupported),
        (["gzip;q=1"], .unsupported),
    ])
    func coding(values: [String], expected: RouteDecompression.Coding) {
        var headers = HTTPHeaders()
        for value in values { headers.add(name: "Content-Encoding", value: value) }
        #expect(RouteDecompression.coding(of: headers) == expected, "\(values)")
    }

    private func gzip(_ text: String) throws -> ByteBuffer {
        var encoder = GzipEncoder()
        return try encoder.compress(whole: ByteBuffer(string: text), level: 6, allocator: ByteBufferAllocator())
    }

    /// Feeds `compressed` in pieces of `piece` bytes.
    private func inflate(
        _ compressed: ByteBuffer, piece: Int, maxBytes: Int = 1 << 30, maxRatio: Int = 100, floor: Int = 64 * 1024
    ) throws(RequestInflateError) -> String {
        let inflater = try? GzipRequestInflater(maxBytes: maxBytes, maxRatio: maxRatio, ratioFloor: floor)
        guard let inflater else { throw .failed }
        var body = ByteBuffer()
        var input = compressed
        while input.readableBytes > 0 {
            let chunk = input.readSlice(length: min(piece, input.readableBytes))!
            try inflater.inflate(chunk, into: &body)
        }
        try inflater.finish()
        return String(buffer: body)
    }

    @Test(arguments: [1, 7, 1000, 1 << 20])
    func inflatesWhateverThePieces(piece: Int) throws {
        let text = ProxyText.lines(200_000)
        #expect(try self.inflate(try self.gzip(text), piece: piece) == text)
    }

    @Test func membersOneAfterAnother() throws {
        var joined = try self.gzip("first ")
        var second = try self.gzip("second")
        joined.writeBuffer(&second)
        #expect(try self.inflate(joined, piece: 5) == "first second")
        #expect(try self.inflate(joined, piece: joined.readableBytes) == "first second")
    }

    @Test func capsAreCheckedBeforeBytesAreKept() throws {
        let zeros = try self.gzip(String(repeating: "\0", count: 10_000_000))
        #expect(throws: RequestInflateError.tooLarge(limit: 1000)) {
            try self.inflate(zeros, piece: 1 << 20, maxBytes: 1000, maxRatio: 1 << 40)
        }
        #expect(throws: RequestInflateError.expandsTooMuch(ratio: 100)) {
            try self.inflate(zeros, piece: 1 << 20)
        }
        // Below the floor, a tiny body may expand as much as it likes.
        let short = try self.gzip(String(repeating: "a", count: 60_000))
        #expect(try self.inflate(short, piece: 10).utf8.count == 60_000)
    }

    @Test func corruptTruncatedAndTrailingBytes() throws {
        let compressed = try self.gzip(ProxyText.lines(10_000))
        #expect(throws: RequestInflateError.corrupt) { try self.inflate(ByteBuffer(string: "plain text"), piece: 100) }
        #expect(throws: RequestInflateError.corrupt) {
            try self.inflate(compressed.getSlice(at: 0, length: compressed.readableBytes - 4)!, piece: 100)
        }
        var trailing = compressed
        trailing.writeString("x")
        #expect(throws: RequestInflateError.corrupt) { try self.inflate(trailing, piece: 100) }
        // An empty body with the gzip label stays empty.
        #expect(try self.inflate(ByteBuffer(), piece: 1) == "")
    }
}

/// Compressible text that is not one repeated byte.
enum ProxyText {
    static func lines(_ bytes: Int) -> String {
        var text = ""
        var index = 0
        while text.utf8.count < bytes {
            text += "{\"line\":\(index),\"value\":\(index * 7919 % 10007)}\n"
            index += 1
        }
        return text
    }
}
