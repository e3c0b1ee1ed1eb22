import NIOHTTP1

/// The answers of the authentication step. The messages never quote what the
/// client sent: not the key, not the token.
extension GatewayError {
    /// 401: no credentials, or ones that prove nothing.
    static func unauthorized(_ message: String) -> GatewayError {
        GatewayError(status: .unauthorized, code: "unauthorized", message: message)
    }

    /// 403: the credentials are good, but this identity may not use the route.
    static func forbidden(_ message: String) -> GatewayError {
        GatewayError(status: .forbidden, code: "forbidden", message: message)
    }
}
