import NIOCore
import NIOHTTP1

extension GatewayHTTPHandler {
    // MARK: CORS preflights

    /// Answers a CORS preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`) in the routing step, before the 405 a
    /// route without `OPTIONS` would give: the route that would serve the
    /// requested method decides, by its `cors`. When no route at the path serves
    /// that method, the first route that matches the path decides, and refuses.
    /// Returns false when the deciding route has no `cors`: routing goes on as
    /// usual (an upstream may answer its own preflights).
    ///
    /// A preflight is answered 204 before authentication and rate limits: it
    /// carries no credentials, and the browser sends the actual request only if allowed.
    func answeredPreflight(
        _ request: inout Request, host: Substring?, target: RequestTarget, length: Int?, context: ChannelHandlerContext
    ) -> Bool {
        let headers = request.head.headers
        guard let method = headers.first(name: "access-control-request-method"),
            let origin = headers.first(name: "origin")
        else { return false }
        let table = request.state.routeTable
        var match = Self.route(HTTPMethod(rawValue: method), host: host, target: target, in: table)
        var served = true
        if case .methodNotAllowed(let allowed) = match, let other = allowed.names.first {
            match = Self.route(HTTPMethod(rawValue: other), host: host, target: target, in: table)
            served = false
        }
        guard case .found(let route, _) = match, let cors = request.state.routes[route].cors else { return false }
        request.route = route
        request.isPreflight = true
        request.maxBodyBytes = request.state.routes[route].maxBodyBytes
        if let length, length > request.maxBodyBytes {
            self.reject(request, with: .payloadTooLarge(limit: request.maxBodyBytes), context: context)
            return true
        }
        let fields =
            served
            ? cors.preflightHeaders(
                origin: origin, method: method, requestHeaders: headers[canonicalForm: "access-control-request-headers"])
            : [("vary", RouteCORS.preflightVary)]
        self.state = .discarding  // a preflight has no body; any that comes is dropped
        self.write(
            status: .noContent, contentType: "text/plain", body: ByteBuffer(), extraHeaders: fields,
            request: request, requestID: nil, context: context)
        return true
    }
}
