public import NIOCore
import NIOPosix

/// One connection to Redis. Commands may be sent back to back without waiting
/// (Redis answers in order), so many rate-limit decisions share one round trip.
/// Use it from its channel's event loop.
public final class RedisConnection: Sendable {
    public let channel: any Channel

    init(channel: any Channel) {
        self.channel = channel
    }

    /// Connects `host:port` on `eventLoop`, failing after `timeout`.
    public static func connect(host: String, port: Int, on eventLoop: any EventLoop, timeout: TimeAmount)
        -> EventLoopFuture<RedisConnection>
    {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(MessageToByteHandler(RESPCommandEncoder()))
                    try sync.addHandler(ByteToMessageHandler(RESPValueDecoder()))
                    try sync.addHandler(RedisCommandHandler())
                }
            }
            .connect(host: host, port: port)
            .map { RedisConnection(channel: $0) }
    }

    /// Sends one command; the future fails if the connection fails or after `timeout`.
    public func send(_ arguments: [String], timeout: TimeAmount) -> EventLoopFuture<RESPValue> {
        let promise = self.channel.eventLoop.makePromise(of: RESPValue.self)
        let deadline = self.channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(RedisError.timeout)
        }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        self.channel.writeAndFlush(RedisCommand(arguments: arguments, promise: promise), promise: nil)
        return promise.futureResult
    }

    public func close() -> EventLoopFuture<Void> {
        self.channel.close()
    }

    public var isActive: Bool { self.channel.isActive }
}

public struct RedisError: Error, Equatable, CustomStringConvertible {
    public let description: String

    public static let timeout = RedisError(description: "Redis did not answer in time")
    public static let connectionClosed = RedisError(description: "the Redis connection closed")
    public static func server(_ message: String) -> RedisError { RedisError(description: "Redis: \(message)") }
    public static func unexpectedReply(_ value: RESPValue) -> RedisError {
        RedisError(description: "unexpected Redis reply \(value)")
    }
}

struct RedisCommand {
    var arguments: [String]
    var promise: EventLoopPromise<RESPValue>
}

/// Matches replies to commands in order.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisCommand
    typealias OutboundOut = [String]

    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = self.unwrapOutboundIn(data)
        self.waiting.append(command.promise)
        context.write(self.wrapOutboundOut(command.arguments), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = self.unwrapInboundIn(data)
        guard let promise = self.waiting.popFirst() else {
            // A reply nobody asked for: the stream is out of step.
            context.close(promise: nil)
            return
        }
        promise.succeed(value)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(RedisError.connectionClosed)
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        while let promise = self.waiting.popFirst() {
            promise.fail(error)
        }
    }
}
