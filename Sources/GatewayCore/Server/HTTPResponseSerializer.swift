import GatewayProxy
import GatewayTLS
import GatewayValidation
import NIOCore
import NIOHTTP1

/// Writes a whole HTTP/1.1 response (status line, headers, body) into one
/// buffer, so each response is one write through the pipeline and, with the
/// TLS handler's coalescing, one TLS record. This replaces NIO's generic
/// response encoder on the gateway's hot path; parsing stays NIO's.
struct HTTPResponseSerializer {
    private var dates = HTTPDateCache()

    mutating func serialize(
        status: HTTPResponseStatus,
        contentType: StaticString,
        body: ByteBuffer,
        includeBody: Bool,
        extraHeaders: [(name: String, value: String)],
        requestID: String?,
        connection: ProxyResponseWriter.Connection
    ) -> ByteBuffer {
        // This loop's recycled buffer: no allocation when the last response was sent.
        var buffer = MessageBuffers.take(minimumCapacity: 160 + body.readableBytes)
        Self.writeStatusLine(status, into: &buffer)
        let bodiless = Self.isBodiless(status)
        if !bodiless {
            buffer.writeStaticString("content-type: ")
            buffer.writeStaticString(contentType)
            buffer.writeStaticString("\r\ncontent-length: ")
            buffer.writeDecimal(body.readableBytes)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("date: ")
        buffer.writeString(self.dates.current())
        for (name, value) in extraHeaders {
            buffer.writeStaticString("\r\n")
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
        }
        ProxyResponseWriter.writeHeadEnd(connection: connection, requestID: requestID, into: &buffer)
        if includeBody && !bodiless {
            buffer.writeImmutableBuffer(body)
        }
        return buffer
    }

    /// 204 and 304 have no content, and so no `Content-Length` or `Content-Type` (RFC 9110 §8.6, §15.4.5).
    @inline(__always)
    static func isBodiless(_ status: HTTPResponseStatus) -> Bool {
        status.code == 204 || status.code == 304
    }

    /// `HTTP/1.1 100 Continue`, sent before reading a body the client is holding back.
    static func continueResponse(allocator: ByteBufferAllocator) -> ByteBuffer {
        allocator.buffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")
    }

    private static func writeStatusLine(_ status: HTTPResponseStatus, into buffer: inout ByteBuffer) {
        switch status {
        case .ok: buffer.writeStaticString("HTTP/1.1 200 OK\r\n")
        case .unprocessableEntity: buffer.writeStaticString("HTTP/1.1 422 Unprocessable Entity\r\n")
        case .notFound: buffer.writeStaticString("HTTP/1.1 404 Not Found\r\n")
        default:
            buffer.writeStaticString("HTTP/1.1 ")
            buffer.writeDecimal(Int(status.code))
            buffer.writeStaticString(" ")
            buffer.writeString(status.reasonPhrase)
            buffer.writeStaticString("\r\n")
        }
    }
}
