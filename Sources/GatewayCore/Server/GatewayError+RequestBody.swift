import NIOHTTP1

/// The answers of the request-body policies (`request_decompression`).
extension GatewayError {
    /// The body inflates past `max_bytes`. Closes like any 413: the rest of the body is not read.
    public static func decompressedBodyTooLarge(limit: Int) -> GatewayError {
        GatewayError(
            status: .payloadTooLarge, code: "decompressed_body_too_large",
            message: "The decompressed request body exceeds the limit of \(limit) bytes.", closesConnection: true)
    }

    /// The body inflates more than `max_ratio` times its compressed size (a decompression bomb).
    public static func decompressedBodyExpandsTooMuch(ratio: Int) -> GatewayError {
        GatewayError(
            status: .payloadTooLarge, code: "decompressed_body_too_large",
            message: "The request body expands more than \(ratio) times when decompressed.", closesConnection: true)
    }

    /// `Content-Encoding: gzip` on bytes that are not gzip, or are cut short.
    public static let invalidCompressedBody = GatewayError(
        status: .badRequest, code: "invalid_compressed_body",
        message: "The request body is not valid gzip data.")

    /// A content coding the route cannot undo; answered with `Accept-Encoding: gzip` (RFC 7694).
    public static let unsupportedContentEncoding = GatewayError(
        status: .unsupportedMediaType, code: "unsupported_content_encoding",
        message: "The request's Content-Encoding is not supported here; send gzip or an uncompressed body.")

    static func forInflating(_ error: RequestInflateError) -> GatewayError {
        switch error {
        case .tooLarge(let limit): .decompressedBodyTooLarge(limit: limit)
        case .expandsTooMuch(let ratio): .decompressedBodyExpandsTooMuch(ratio: ratio)
        case .corrupt: .invalidCompressedBody
        case .failed:
            GatewayError(
                status: .internalServerError, code: "internal_error",
                message: "The request body could not be decompressed.", closesConnection: true)
        }
    }
}
