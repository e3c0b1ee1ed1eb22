import NIOHTTP1

/// The answers of the rate-limit step.
extension GatewayError {
    public static let rateLimited = GatewayError(
        status: .tooManyRequests, code: "rate_limited",
        message: "Too many requests; retry after the number of seconds in Retry-After.")
    public static let rateLimitUnavailable = GatewayError(
        status: .serviceUnavailable, code: "service_unavailable",
        message: "The rate-limit store is unavailable; try again.")
}
