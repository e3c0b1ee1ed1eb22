import GatewayTLS
import NIOCore
import NIOHTTP1

/// Serializes a request head for an upstream into one buffer, framed as NIO's
/// `HTTPRequestEncoder` frames it, so the upstream pipeline needs no encoder
/// handler (each write and flush went through it, and through the response
/// decoder watching for the request method).
enum UpstreamRequestWriter {
    /// How the request body goes upstream.
    enum Framing {
        /// No body, or one under `Content-Length`, written as it is.
        case asIs
        /// `Transfer-Encoding: chunked`: each piece framed, then the zero chunk.
        case chunked
    }

    /// The head as HTTP/1.1 bytes in this thread's message buffer (give it back with
    /// `MessageBuffers.recycle`), and its body framing. As `HTTPRequestEncoder` does:
    /// `TRACE` sends no framing fields; `POST`, `PUT` and `PATCH` without
    /// `Content-Length` are chunked; other methods are chunked only when the head says so.
    static func serialize(_ head: HTTPRequestHead) -> (bytes: ByteBuffer, framing: Framing) {
        let hasLength = head.headers.contains(name: "content-length")
        let framing: Framing
        var keepLength = hasLength
        switch head.method {
        case .TRACE:
            framing = .asIs
            keepLength = false
        case .POST, .PUT, .PATCH:
            framing = hasLength ? .asIs : .chunked
        default:
            framing = !hasLength && head.headers.first(name: "transfer-encoding") == "chunked" ? .chunked : .asIs
        }
        var buffer = MessageBuffers.take(minimumCapacity: 128 + head.uri.utf8.count + head.headers.count * 48)
        buffer.writeString(head.method.rawValue)
        buffer.writeStaticString(" ")
        buffer.writeString(head.uri)
        buffer.writeStaticString(" HTTP/1.1\r\n")
        for (name, value) in head.headers {
            // Framing fields are written below, as the framing decided.
            if name.caseInsensitiveEquals("transfer-encoding") { continue }
            if !keepLength, name.caseInsensitiveEquals("content-length") { continue }
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if case .chunked = framing { buffer.writeStaticString("transfer-encoding: chunked\r\n") }
        buffer.writeStaticString("\r\n")
        return (buffer, framing)
    }
}
