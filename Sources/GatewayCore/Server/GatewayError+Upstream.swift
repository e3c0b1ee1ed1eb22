import GatewayProxy
import NIOHTTP1

/// The answers for a proxied request whose upstream gave no response.
extension GatewayError {
    public static let upstreamUnreachable = GatewayError(
        status: .badGateway, code: "bad_gateway", message: "The upstream could not be reached.")
    public static let upstreamReset = GatewayError(
        status: .badGateway, code: "bad_gateway", message: "The upstream closed the connection without a response.")
    public static let upstreamInvalid = GatewayError(
        status: .badGateway, code: "bad_gateway", message: "The upstream sent an invalid response.")
    public static let upstreamConnectTimeout = GatewayError(
        status: .gatewayTimeout, code: "gateway_timeout", message: "Connecting to the upstream timed out.")
    public static let upstreamTimeout = GatewayError(
        status: .gatewayTimeout, code: "gateway_timeout", message: "The upstream did not answer in time.")
    public static let upstreamBusy = GatewayError(
        status: .serviceUnavailable, code: "service_unavailable",
        message: "Every connection to the upstream is busy; try again.")
    public static let noHealthyUpstream = GatewayError(
        status: .serviceUnavailable, code: "no_healthy_upstream",
        message: "No target of the upstream passes its health checks.")

    static func forUpstream(_ failure: UpstreamFailure) -> GatewayError {
        switch failure {
        case .connectFailed: .upstreamUnreachable
        case .reset: .upstreamReset
        case .invalidResponse: .upstreamInvalid
        case .connectTimeout: .upstreamConnectTimeout
        case .timeout: .upstreamTimeout
        case .poolExhausted: .upstreamBusy
        case .noHealthyTarget: .noHealthyUpstream
        }
    }
}
