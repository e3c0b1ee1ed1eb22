public import NIOCore

/// A value of the Redis serialization protocol (RESP2), as Redis answers.
public enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    /// nil is the null bulk string (`$-1`).
    case bulkString(ByteBuffer?)
    /// nil is the null array (`*-1`).
    case array([RESPValue]?)

    /// The value as text, for bulk and simple strings.
    public var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let buffer?): return String(buffer: buffer)
        default: return nil
        }
    }
}

/// Writes a command as RESP: an array of bulk strings, the form Redis expects.
public struct RESPCommandEncoder: MessageToByteEncoder {
    public typealias OutboundIn = [String]

    public init() {}

    public func encode(data: [String], out: inout ByteBuffer) {
        out.writeInteger(UInt8(ascii: "*"))
        out.writeString(String(data.count))
        out.writeStaticString("\r\n")
        for argument in data {
            out.writeInteger(UInt8(ascii: "$"))
            out.writeString(String(argument.utf8.count))
            out.writeStaticString("\r\n")
            out.writeString(argument)
            out.writeStaticString("\r\n")
        }
    }
}

/// Parses RESP2 replies from a byte stream, waiting for more bytes when a reply
/// is incomplete. Malformed input is an error, and the connection is dropped.
public struct RESPValueDecoder: ByteToMessageDecoder {
    public typealias InboundOut = RESPValue

    public struct ProtocolError: Error, Equatable {
        public let reason: String
    }

    /// Nesting bound, so a hostile peer can't exhaust the stack.
    static let maximumDepth = 32

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        var copy = buffer
        guard let value = try Self.parse(&copy, depth: 0) else { return .needMoreData }
        buffer = copy
        context.fireChannelRead(Self.wrapInboundOut(value))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        try self.decode(context: context, buffer: &buffer)
    }

    /// Parses one value from the front of `buffer`, consuming it; nil when more bytes are needed.
    public static func parse(_ buffer: inout ByteBuffer, depth: Int) throws -> RESPValue? {
        guard depth < Self.maximumDepth else { throw ProtocolError(reason: "nesting deeper than \(Self.maximumDepth)") }
        guard let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        var rest = buffer
        rest.moveReaderIndex(forwardBy: 1)
        guard let line = Self.readLine(&rest) else { return nil }
        let value: RESPValue
        switch type {
        case UInt8(ascii: "+"):
            value = .simpleString(line)
        case UInt8(ascii: "-"):
            value = .error(line)
        case UInt8(ascii: ":"):
            guard let number = Int64(line) else { throw ProtocolError(reason: "bad integer \"\(line)\"") }
            value = .integer(number)
        case UInt8(ascii: "$"):
            guard let length = Int(line), length >= -1 else { throw ProtocolError(reason: "bad length \"\(line)\"") }
            if length == -1 {
                value = .bulkString(nil)
            } else {
                guard rest.readableBytes >= length + 2 else { return nil }
                let bytes = rest.readSlice(length: length)!
                guard rest.readInteger(as: UInt16.self) == 0x0D0A else {
                    throw ProtocolError(reason: "bulk string not followed by CRLF")
                }
                value = .bulkString(bytes)
            }
        case UInt8(ascii: "*"):
            guard let count = Int(line), count >= -1 else { throw ProtocolError(reason: "bad count \"\(line)\"") }
            if count == -1 {
                value = .array(nil)
            } else {
                var elements: [RESPValue] = []
                elements.reserveCapacity(min(count, 64))
                for _ in 0..<count {
                    guard let element = try Self.parse(&rest, depth: depth + 1) else { return nil }
                    elements.append(element)
                }
                value = .array(elements)
            }
        default:
            throw ProtocolError(reason: "unknown type byte \(type)")
        }
        buffer = rest
        return value
    }

    private static func readLine(_ buffer: inout ByteBuffer) -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")), cr + 1 < view.endIndex,
            view[cr + 1] == UInt8(ascii: "\n")
        else { return nil }
        let line = buffer.readString(length: cr - view.startIndex)!
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }
}
