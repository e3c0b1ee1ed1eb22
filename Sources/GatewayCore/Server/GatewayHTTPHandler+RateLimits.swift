import GatewayConfig
import GatewayHandlers
import GatewayProxy
import GatewayTLS
import NIOCore
import NIOHTTP1
import Prometheus

extension GatewayHTTPHandler {
    // MARK: Rate limits

    /// The rate-limit step, after routing and before `Expect` is answered (a
    /// refused client is not asked for its body). Memory-store policies decide
    /// here; a Redis policy pauses the request as a proxied response does:
    /// later parts queue in `pipelined` and reading stops until the decision.
    func applyRateLimits(
        _ limits: RouteRateLimits, to request: Request, path: Substring, context: ChannelHandlerContext
    ) {
        let clientIP = limits.needsClientIP ? self.rateLimitClientIP(request, context: context) : ""
        let now = Int64(request.startedAt.uptimeNanoseconds)
        switch limits.evaluate(
            headers: request.head.headers, clientIP: clientIP, identity: request.identity, now: now,
            eventLoop: context.eventLoop)
        {
        case .decided(let outcome):
            self.rateLimitDecided(outcome, limits: limits, request: request, path: path, context: context)
        case .pending(let future):
            self.state = .limiting(request, path: path)
            self.queueing = true
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            future.whenSuccess { outcome in
                let handler = loopBound.value
                guard case .limiting(let request, let path) = handler.state, let context = handler.context else {
                    return
                }
                handler.queueing = false
                handler.rateLimitDecided(outcome, limits: limits, request: request, path: path, context: context)
                handler.drainPipelined(context: context)
            }
        }
    }

    func rateLimitDecided(
        _ outcome: RouteRateLimits.Outcome, limits: RouteRateLimits, request: Request, path: Substring,
        context: ChannelHandlerContext
    ) {
        var request = request
        request.rateLimitHeaders = limits.responseHeaders(for: outcome)
        switch outcome.verdict {
        case .allowed:
            self.routed(request, path: path, context: context)
        case .limited:
            self.reject(request, with: .rateLimited, context: context)
        case .unavailable:
            self.reject(request, with: .rateLimitUnavailable, context: context)
        }
    }

    /// The peer, or with a trusted peer the client named in `X-Forwarded-For`.
    func rateLimitClientIP(_ request: Request, context: ChannelHandlerContext) -> String {
        if self.clientAddress == nil {
            self.clientAddress = context.channel.remoteAddress?.ipAddress ?? "-"
        }
        let peer = self.clientAddress!
        guard self.peerIsTrusted(request, context: context) else { return peer }
        return ClientAddress.forwardedClient(
            headers: request.head.headers, peer: peer, trusted: request.state.rateLimits.trustedProxies)
    }

    /// Whether the peer is in `trusted_proxies`, worked out once per connection and configuration.
    func peerIsTrusted(_ request: Request, context: ChannelHandlerContext) -> Bool {
        if self.clientAddress == nil {
            self.clientAddress = context.channel.remoteAddress?.ipAddress ?? "-"
        }
        let stores = request.state.rateLimits
        if self.peerTrust?.stores !== stores {
            self.peerTrust = (stores, ClientAddress.isTrusted(self.clientAddress!, in: stores.trustedProxies))
        }
        return self.peerTrust!.trusted
    }
}
