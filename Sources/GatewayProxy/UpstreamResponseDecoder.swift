import NIOCore
import NIOHTTP1

/// NIO's HTTP/1 response parser, told each request's method by the connection
/// (`expectResponse(to:)`) instead of by watching the request parts go by: the
/// gateway writes request heads as bytes (`UpstreamRequestWriter`), and a
/// write-watching decoder would make every write pass through it.
final class UpstreamResponseDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart

    private let parser = HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)

    /// Only the method of these matters to the parser (a response to HEAD has no body).
    private static let headRequest = HTTPRequestHead(version: .http1_1, method: .HEAD, uri: "")
    private static let connectRequest = HTTPRequestHead(version: .http1_1, method: .CONNECT, uri: "")
    private static let otherRequest = HTTPRequestHead(version: .http1_1, method: .GET, uri: "")

    /// Call before writing a request: responses are matched to requests in order.
    func expectResponse(to method: HTTPMethod) {
        let request: HTTPRequestHead
        switch method {
        case .HEAD: request = Self.headRequest
        case .CONNECT: request = Self.connectRequest
        default: request = Self.otherRequest
        }
        self.parser.write(data: .head(request))
    }

    func decoderAdded(context: ChannelHandlerContext) {
        self.parser.decoderAdded(context: context)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        self.parser.decoderRemoved(context: context)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try self.parser.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try self.parser.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}
