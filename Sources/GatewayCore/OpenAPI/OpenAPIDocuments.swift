import GatewayConfig
import NIOCore

/// The OpenAPI documents of one configuration, one per host view, each rendered
/// once: a request for the document gets the routes that a request with the
/// same `Host` could reach, chosen as `RouteTable` chooses (that host's routes,
/// then matching `*.` routes with the longest suffix first, then routes for any
/// host). Without host-specific routes there is one document.
struct OpenAPIDocuments: Sendable {
    let anyHost: ServedPage
    let exactHosts: [String: ServedPage]
    /// By suffix (`.example.com`), longest first.
    let wildcardHosts: [(suffix: String, page: ServedPage)]

    init(_ configuration: OpenAPIConfiguration, routes: [OpenAPIRouteDescription], allocator: ByteBufferAllocator) {
        func render(_ routes: [OpenAPIRouteDescription]) -> ServedPage {
            ServedPage(
                body: OpenAPIDocument.render(configuration, routes: routes, allocator: allocator),
                contentType: "application/json")
        }
        let anyHost = routes.filter { $0.host == nil }
        var exact: [String: [OpenAPIRouteDescription]] = [:]
        var wildcard: [String: [OpenAPIRouteDescription]] = [:]
        for route in routes {
            guard let host = route.host else { continue }
            if host.hasPrefix("*.") {
                wildcard[String(host.dropFirst()), default: []].append(route)
            } else {
                exact[host, default: []].append(route)
            }
        }
        let suffixes = wildcard.keys.sorted { $0.count > $1.count }
        /// The wildcard routes a host name (or a longer wildcard's hosts) also reaches.
        func wildcardRoutes(matching host: String, strictly: Bool) -> [OpenAPIRouteDescription] {
            suffixes.filter { host.hasSuffix($0) && host.count > $0.count || (!strictly && host == $0) }
                .flatMap { wildcard[$0]! }
        }
        self.anyHost = render(anyHost)
        self.exactHosts = exact.mapValues { render($0 + wildcardRoutes(matching: $0[0].host!, strictly: true) + anyHost) }
        self.wildcardHosts = suffixes.map { suffix in
            (suffix, render(wildcardRoutes(matching: suffix, strictly: false) + anyHost))
        }
    }

    /// `host` is the Host header as sent (any case, maybe with a port).
    func page(forHost rawHost: Substring?) -> ServedPage {
        guard let rawHost, !(self.exactHosts.isEmpty && self.wildcardHosts.isEmpty) else { return self.anyHost }
        let host = RouteTable.normalise(host: rawHost)
        if let page = self.exactHosts[host] { return page }
        for (suffix, page) in self.wildcardHosts where host.hasSuffix(suffix) && host.count > suffix.count {
            return page
        }
        return self.anyHost
    }
}
