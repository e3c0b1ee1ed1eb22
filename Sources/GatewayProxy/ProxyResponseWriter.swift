public import GatewayConfig
public import NIOCore
public import NIOHTTP1
import GatewayTLS

/// Turns an upstream's response into bytes for the client, the way
/// `HTTPResponseSerializer` does for built-in answers: the head serialized by
/// hand, the body passed through, framed as the client needs it.
public enum ProxyResponseWriter {
    /// How the body goes to the client.
    public enum Framing: Sendable, Equatable {
        /// No body (HEAD, 204, 304).
        case none
        /// As the upstream sent it, under its `Content-Length`.
        case contentLength
        /// Chunked, because the upstream gave no length (it was chunked or close-delimited).
        case chunked
        /// Until the connection closes: an HTTP/1.0 client and no length.
        case untilClose
    }

    public enum Connection: Sendable {
        case keepAlive
        /// HTTP/1.0 keep-alive: said explicitly.
        case keepAliveHTTP10
        case close
    }

    /// The framing for `head` answering a request of `method` from a client speaking `version`.
    public static func framing(for head: HTTPResponseHead, method: HTTPMethod, clientVersion: HTTPVersion) -> Framing {
        let code = head.status.code
        if method == .HEAD || code == 204 || code == 304 || (code >= 100 && code < 200) { return .none }
        if !head.headers.contains(name: "transfer-encoding"), head.headers.contains(name: "content-length") {
            return .contentLength
        }
        return clientVersion.major == 1 && clientVersion.minor >= 1 ? .chunked : .untilClose
    }

    /// The status line and headers: the upstream's fields without hop-by-hop
    /// ones (and those named in its `Connection`), the route's response rules,
    /// `x-request-id`, and the framing and connection fields the client needs.
    public static func serializeHead(
        _ head: HTTPResponseHead,
        framing: Framing,
        connection: Connection,
        requestID: String?,
        rules: HeaderRules
    ) -> ByteBuffer {
        var headers = head.headers
        let dropped = ProxyHeaders.connectionTokens(headers)
        // This loop's recycled buffer (the caller gives it back with `MessageBuffers.recycle`).
        var buffer = MessageBuffers.take(minimumCapacity: 256 + headers.count * 32)
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(head.status.code))
        buffer.writeStaticString(" ")
        buffer.writeString(head.status.reasonPhrase)
        if !rules.isEmpty { ProxyHeaders.apply(rules, to: &headers) }
        for (name, value) in headers {
            if case .hopByHop = ProxyHeaders.classify(name) { continue }
            if name.caseInsensitiveEquals("x-request-id"), requestID != nil { continue }
            if framing == .chunked || framing == .untilClose, name.caseInsensitiveEquals("content-length") {
                continue
            }
            if !dropped.isEmpty, dropped.contains(name.lowercased()) { continue }
            buffer.writeStaticString("\r\n")
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
        }
        if framing == .chunked { buffer.writeStaticString("\r\ntransfer-encoding: chunked") }
        Self.writeHeadEnd(connection: connection, requestID: requestID, into: &buffer)
        return buffer
    }

    /// The fields every response head the gateway writes ends with (`connection`
    /// when needed, `x-request-id`), then the blank line.
    public static func writeHeadEnd(connection: Connection, requestID: String?, into buffer: inout ByteBuffer) {
        switch connection {
        case .keepAlive: break
        case .keepAliveHTTP10: buffer.writeStaticString("\r\nconnection: keep-alive")
        case .close: buffer.writeStaticString("\r\nconnection: close")
        }
        if let requestID {
            buffer.writeStaticString("\r\nx-request-id: ")
            buffer.writeString(requestID)
        }
        buffer.writeStaticString("\r\n\r\n")
    }

    /// The keep-alive answer for a request: what the response must say about the connection.
    public static func connection(keepAlive: Bool, clientVersion: HTTPVersion) -> Connection {
        !keepAlive ? .close : clientVersion.minor == 0 ? .keepAliveHTTP10 : .keepAlive
    }

    /// The size line of a chunk (`1f40\r\n`), preceded by the previous chunk's
    /// CRLF when `afterChunk`; the chunk's bytes follow as their own write.
    public static func chunkHeader(size: Int, afterChunk: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 20)
        if afterChunk { buffer.writeStaticString("\r\n") }
        buffer.writeString(String(size, radix: 16))
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// Room a buffer needs before its bytes for `frameAsChunk`: CRLF, 16 hex digits, CRLF.
    public static let chunkHeaderRoom = 20

    /// Turns `buffer`'s readable bytes into a chunk in place: its size line (after the
    /// previous chunk's CRLF when `afterChunk`) is written into the `chunkHeaderRoom` bytes
    /// left before them, so a chunk the gateway made itself is one write, not two.
    public static func frameAsChunk(_ buffer: inout ByteBuffer, afterChunk: Bool) {
        var header: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes on the stack
        let length = withUnsafeMutableBytes(of: &header) { bytes -> Int in
            var count = 0
            if afterChunk {
                bytes[0] = 0x0D
                bytes[1] = 0x0A
                count = 2
            }
            let size = buffer.readableBytes
            var digits = 1
            while digits < 16, size >> (4 * digits) != 0 { digits += 1 }
            for index in 0..<digits {
                let nibble = (size >> (4 * (digits - 1 - index))) & 0xF
                bytes[count + index] = UInt8(nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10)
            }
            count += digits
            bytes[count] = 0x0D
            bytes[count + 1] = 0x0A
            return count + 2
        }
        precondition(buffer.readerIndex >= length, "frameAsChunk needs chunkHeaderRoom before the bytes")
        buffer.moveReaderIndex(to: buffer.readerIndex - length)
        withUnsafeBytes(of: &header) { bytes in
            _ = buffer.setBytes(UnsafeRawBufferPointer(rebasing: bytes[..<length]), at: buffer.readerIndex)
        }
    }

    /// The end of a chunked body: the last chunk's CRLF (when there was one) and the zero chunk.
    /// Shared read-only buffers: writing one allocates nothing.
    public static func lastChunk(afterChunk: Bool) -> ByteBuffer {
        afterChunk ? Self.lastChunkAfterChunk : Self.lastChunkAlone
    }

    private static let lastChunkAfterChunk = ByteBuffer(staticString: "\r\n0\r\n\r\n")
    private static let lastChunkAlone = ByteBuffer(staticString: "0\r\n\r\n")
}
