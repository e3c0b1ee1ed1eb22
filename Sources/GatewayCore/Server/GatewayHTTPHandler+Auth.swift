import Glibc
import NIOCore
import NIOHTTP1

extension GatewayHTTPHandler {
    // MARK: Authentication

    /// The authentication step, right after routing: before the body limit,
    /// the rate limits and `Expect` (a refused client is not asked for its
    /// body). Sets the request's identity; with `hide_credentials` it takes
    /// the credential out of what is proxied. Returns false after answering 401 or 403.
    func authenticate(
        _ request: inout Request, with auth: RouteAuth, context: ChannelHandlerContext
    ) -> Bool {
        // The access log never shows a key sent in the query, accepted or not.
        if let name = auth.query, case .value = CredentialLocation.query(name, in: request.query) {
            request.loggedURI = CredentialLocation.redacting(name, in: request.head.uri)
        }
        switch auth.authenticate(request.head, query: request.query, now: Int64(time(nil))) {
        case .allowed(let identity):
            request.identity = identity
            if auth.hideCredentials { Self.hideCredentials(of: auth, in: &request) }
            return true
        case .refused(let refusal, let identity):
            request.identity = identity
            var extra: [(name: String, value: String)] = []
            if let challenge = refusal.challenge { extra.append(("www-authenticate", challenge)) }
            self.reject(request, with: refusal.error, extraHeaders: extra, context: context)
            return false
        }
    }

    /// Removes the route's credential header and query parameter from what the upstream (or handler) sees.
    static func hideCredentials(of auth: RouteAuth, in request: inout Request) {
        if let header = auth.header { request.head.headers.remove(name: header) }
        if let name = auth.query, let query = request.query {
            request.query = CredentialLocation.removing(name, from: query)
        }
    }
}
