import NIOCore
import NIOHTTP1

/// NIO's HTTP request decoder, unchanged, plus a note in `ReadActivity`
/// each time bytes arrive, so the connection's clocks can tell a slow request
/// head or a stalled body from an idle connection without another handler in
/// the pipeline or a timer per request.
final class ObservedHTTPRequestDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPServerRequestPart

    private let decoder: HTTPRequestDecoder
    private let activity: ReadActivity

    init(limits: NIOHTTPDecoderLimitConfiguration, activity: ReadActivity) {
        self.decoder = HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: limits)
        self.activity = activity
    }

    func decoderAdded(context: ChannelHandlerContext) {
        self.decoder.decoderAdded(context: context)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        self.decoder.decoderRemoved(context: context)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        self.activity.bytesArrived()
        return try self.decoder.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try self.decoder.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}

/// What the decoder saw arrive, read by `GatewayHTTPHandler`'s clock. Both
/// live on the connection's event loop.
final class ReadActivity {
    /// Whether any bytes arrived since the clock last looked.
    var sinceLastCheck = false
    /// While waiting for a request head: when its first byte arrived.
    var headStartedAt: NIODeadline?
    var awaitingHead = true

    @inline(__always)
    func bytesArrived() {
        self.sinceLastCheck = true
        if self.awaitingHead && self.headStartedAt == nil {
            self.headStartedAt = .now()
        }
    }
}
