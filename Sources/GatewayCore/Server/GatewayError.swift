import NIOCore
public import NIOHTTP1

/// An error the gateway itself answers with, rendered as
/// `{"error":{"status":404,"code":"not_found","message":"…","request_id":"…"}}`.
public struct GatewayError: Sendable, Equatable {
    public var status: HTTPResponseStatus
    /// Stable, machine-readable: clients switch on it, so never reword one.
    public var code: String
    public var message: String
    /// Whether the connection must close after the answer (the request stream can't be trusted any more).
    public var closesConnection: Bool

    public init(status: HTTPResponseStatus, code: String, message: String, closesConnection: Bool = false) {
        self.status = status
        self.code = code
        self.message = message
        self.closesConnection = closesConnection
    }

    public static let notFound = GatewayError(
        status: .notFound, code: "not_found", message: "No route matches this request.")
    public static func methodNotAllowed(allowed: [String]) -> GatewayError {
        GatewayError(
            status: .methodNotAllowed, code: "method_not_allowed",
            message: "Method not allowed here; allowed: \(allowed.joined(separator: ", ")).")
    }
    public static let badRequest = GatewayError(
        status: .badRequest, code: "bad_request", message: "The request could not be parsed as HTTP/1.1.",
        closesConnection: true)
    public static let badRequestTarget = GatewayError(
        status: .badRequest, code: "bad_request", message: "The request target is not a path.")
    public static func payloadTooLarge(limit: Int) -> GatewayError {
        GatewayError(
            status: .payloadTooLarge, code: "payload_too_large",
            message: "The request body exceeds the limit of \(limit) bytes.", closesConnection: true)
    }
    public static let headersTooLarge = GatewayError(
        status: .requestHeaderFieldsTooLarge, code: "request_header_fields_too_large",
        message: "The request head exceeds the size limit.", closesConnection: true)
    public static let requestTimeout = GatewayError(
        status: .requestTimeout, code: "request_timeout",
        message: "The request head did not arrive in time.", closesConnection: true)
    public static let bodyTimeout = GatewayError(
        status: .requestTimeout, code: "request_timeout",
        message: "The request body stopped arriving.", closesConnection: true)

    /// The JSON body.
    func body(requestID: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 96 + self.message.utf8.count + requestID.utf8.count)
        buffer.writeStaticString(#"{"error":{"status":"#)
        buffer.writeString(String(self.status.code))
        buffer.writeStaticString(#","code":"#)
        buffer.writeJSONString(self.code)
        buffer.writeStaticString(#","message":"#)
        buffer.writeJSONString(self.message)
        buffer.writeStaticString(#","request_id":"#)
        buffer.writeJSONString(requestID)
        buffer.writeStaticString("}}")
        return buffer
    }
}

extension ByteBuffer {
    /// Writes `string` as a JSON string literal, escaping what RFC 8259 requires. Runs of
    /// bytes that need no escape (usually all of them) are copied in one write.
    mutating func writeJSONString(_ string: some StringProtocol) {
        self.writeInteger(UInt8(ascii: "\""))
        let written: Void? = string.utf8.withContiguousStorageIfAvailable { bytes in
            self.writeJSONEscaped(UnsafeRawBufferPointer(bytes))
        }
        if written == nil {
            var copy = String(string)
            copy.withUTF8 { self.writeJSONEscaped(UnsafeRawBufferPointer($0)) }
        }
        self.writeInteger(UInt8(ascii: "\""))
    }

    private mutating func writeJSONEscaped(_ bytes: UnsafeRawBufferPointer) {
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            self.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): self.writeStaticString(#"\""#)
            case UInt8(ascii: "\\"): self.writeStaticString(#"\\"#)
            case UInt8(ascii: "\n"): self.writeStaticString(#"\n"#)
            case UInt8(ascii: "\r"): self.writeStaticString(#"\r"#)
            case UInt8(ascii: "\t"): self.writeStaticString(#"\t"#)
            default:
                self.writeStaticString(#"\u00"#)
                self.writeInteger(Self.hexDigits[Int(byte >> 4)])
                self.writeInteger(Self.hexDigits[Int(byte & 0xF)])
            }
        }
        self.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart...]))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
