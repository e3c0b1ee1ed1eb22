public import GatewayConfig
import GatewayAuth
import GatewayHandlers
import GatewayProxy
import NIOCore

/// One configuration, compiled: the route table, each route's handler, the
/// limits. Immutable; a reload builds a new one off the event loops and swaps it
/// in (see `GatewayStateBox`), so a request sees one whole configuration.
public final class GatewayState: Sendable {
    public let configuration: GatewayConfiguration
    let routeTable: RouteTable
    let routes: [CompiledRoute]
    /// Route names by index, the `route` label of request metrics.
    let routeNames: [String]
    let maxBodyBytes: Int
    let accessLogEnabled: Bool
    /// Whether any route has `cors`: only then is an `OPTIONS` request looked at as a preflight.
    let hasCORS: Bool

    /// The upstreams' groups (pools live there), by position for `ProxyRoute.upstreamIndex`.
    let upstreams: [UpstreamGroup]
    let upstreamGroups: UpstreamGroups
    /// The rate-limit policies with their stores, and the trusted proxies.
    let rateLimits: RateLimitStores
    /// API keys and JWKS, read from their files for this state.
    let authKeys: AuthKeys

    /// Compiles a configuration on its own, without event loops (`gateway check`):
    /// Redis is not connected, and metrics go nowhere.
    public convenience init(configuration: GatewayConfiguration) throws {
        try self.init(configuration: configuration, reusing: nil, rateLimitContext: .detached)
    }

    /// `previous` is the state this one replaces (a reload): upstreams whose
    /// configuration did not change keep their pools and connections, and
    /// rate-limit policies whose name and definition did not change keep their counters.
    init(
        configuration: GatewayConfiguration, reusing previous: GatewayState?, rateLimitContext: RateLimitContext
    ) throws {
        self.configuration = configuration
        // MARK: Upstreams
        let upstreamGroups: UpstreamGroups
        do {
            upstreamGroups = try UpstreamGroups.compile(configuration.upstreams, reusing: previous?.upstreamGroups)
        } catch {
            throw GatewayStateError(
                problems: error.problems.map {
                    ConfigurationProblem(path: "upstreams.\($0.upstream).tls", message: $0.message)
                })
        }
        let upstreams = configuration.upstreams.map { upstreamGroups.byName[$0.name]! }
        let upstreamIndex = Dictionary(uniqueKeysWithValues: upstreams.enumerated().map { ($1.name, $0) })
        self.upstreamGroups = upstreamGroups
        self.upstreams = upstreams
        // MARK: Rate limits
        let rateLimits: RateLimitStores
        do {
            rateLimits = try RateLimitStores.compile(
                configuration, reusing: previous?.rateLimits, context: rateLimitContext)
        } catch {
            throw GatewayStateError(problems: [
                ConfigurationProblem(path: "rate_limit_store.redis.url", message: "\(error)")
            ])
        }
        self.rateLimits = rateLimits
        // MARK: Authentication
        var problems: [ConfigurationProblem] = []
        let (authKeys, keyProblems) = AuthKeys.load(configuration)
        problems += keyProblems
        self.authKeys = authKeys
        var routeAuths: [RouteAuth?] = []
        for (index, route) in configuration.routes.enumerated() {
            guard let auth = route.auth else {
                routeAuths.append(nil)
                continue
            }
            routeAuths.append(
                RouteAuth(route: route.name, configuration: auth, keys: authKeys, metrics: rateLimitContext.metrics))
            if case .jwt(let jwt) = auth.method, let keySet = authKeys.keySets[jwt.jwks] {
                let usable = jwt.algorithms.filter { name in
                    keySet.keys.contains { key in JWTAlgorithm(rawValue: name).map(key.verifies) ?? false }
                }
                if usable.isEmpty {
                    problems.append(
                        ConfigurationProblem(
                            path: "routes[\(index)].auth.jwt.algorithms",
                            message:
                                "no key of jwks \"\(jwt.jwks)\" verifies \(jwt.algorithms.joined(separator: ", "))"))
                }
            }
        }
        func compiledRateLimits(_ route: RouteConfiguration, auth: RouteAuth?) -> RouteRateLimits? {
            route.rateLimits.isEmpty
                ? nil
                : RouteRateLimits(
                    route: route, stores: rateLimits, metrics: rateLimitContext.metrics,
                    identityKeyPrefix: auth?.identityKeyPrefix ?? "")
        }

        var routes: [CompiledRoute] = []
        var tableRoutes: [RouteTable.Route] = []
        var descriptions: [OpenAPIRouteDescription] = []
        for (index, route) in configuration.routes.enumerated() {
            let auth = routeAuths[index]
            let parameterNames: [String]
            switch route.match.path {
            case .exact(let path): parameterNames = PathPattern.parameterNames(in: path)
            case .prefix: parameterNames = []
            }
            let methods = route.match.methods.map { HTTPMethodSet($0) } ?? .any
            let bodyLimit = route.maxBodyBytes ?? configuration.http.maxBodyBytes
            // A route is proxied or answered by a built-in handler (the decoder made sure of one).
            var proxyRoute: ProxyRoute?
            var handler: (any BuiltInHandler)?
            if let proxy = route.proxy {
                // The decoder checked the name, so the group exists.
                let upstream = upstreamIndex[proxy.upstream]!
                proxyRoute = ProxyRoute(
                    configuration: proxy, match: route.match.path, group: upstreams[upstream], upstreamIndex: upstream)
            } else if let handlerName = route.handler {
                do {
                    handler = try BuiltInHandlers.make(name: handlerName.rawValue, pathParameterNames: parameterNames)
                } catch {
                    problems.append(ConfigurationProblem(path: "routes[\(index)].handler", message: "\(error)"))
                    continue
                }
            } else {
                continue
            }
            routes.append(
                CompiledRoute(
                    name: route.name, handler: handler, proxy: proxyRoute, auth: auth,
                    rateLimits: compiledRateLimits(route, auth: auth),
                    compression: route.compression.map(RouteCompression.init),
                    maxBodyBytes: bodyLimit, requestPolicies: RouteRequestPolicies(route: route, bodyLimit: bodyLimit),
                    cors: route.cors.map {
                        RouteCORS(
                            $0, routeMethods: route.match.methods,
                            responseRules: route.proxy?.responseHeaders ?? HeaderRules())
                    }))
            if configuration.openAPI != nil {
                descriptions.append(OpenAPIRouteDescription(route: route, handler: handler))
            }
            tableRoutes.append(RouteTable.Route(path: route.match.path, methods: methods, host: route.match.host))
        }
        guard problems.isEmpty else { throw GatewayStateError(problems: problems) }
        self.hasCORS = routes.contains { $0.cors != nil }
        // MARK: OpenAPI document and docs page, routes of their own after the configured ones
        if let openAPI = configuration.openAPI {
            let allocator = ByteBufferAllocator()
            var pages: [(name: String, path: String, page: GatewayPage)] = [
                ("gateway:openapi", openAPI.path,
                 .openAPI(OpenAPIDocuments(openAPI, routes: descriptions, allocator: allocator)))
            ]
            if let docsPath = openAPI.docsPath {
                pages.append(("gateway:docs", docsPath, .docs(SwaggerUIPage.render(openAPI, allocator: allocator))))
            }
            for (name, path, page) in pages {
                routes.append(
                    CompiledRoute(
                        name: name, handler: nil, proxy: nil, auth: nil, rateLimits: nil, compression: nil,
                        maxBodyBytes: configuration.http.maxBodyBytes, requestPolicies: nil, page: page))
                tableRoutes.append(RouteTable.Route(path: .exact(path), methods: HTTPMethodSet(["GET", "HEAD"]), host: nil))
            }
        }
        self.routes = routes
        self.routeNames = routes.map(\.name)
        self.routeTable = RouteTable(routes: tableRoutes)
        self.maxBodyBytes = configuration.http.maxBodyBytes
        self.accessLogEnabled = configuration.accessLog.enabled
    }
}

/// What compiling a configuration found wrong (routes whose handler cannot
/// serve them, unreadable key files, …), each with its JSON path.
public struct GatewayStateError: Error, CustomStringConvertible {
    public let problems: [ConfigurationProblem]
    public var description: String { self.problems.map(\.description).joined(separator: "\n") }
}

/// A route ready to serve: its name (for metrics and logs) and what answers
/// it, a built-in handler or an upstream.
struct CompiledRoute: Sendable {
    let name: String
    let handler: (any BuiltInHandler)?
    let proxy: ProxyRoute?
    /// The authentication step, nil for a route without `auth` (which then pays nothing).
    let auth: RouteAuth?
    /// The rate-limit step, nil for a route without `rate_limits` (which then pays nothing).
    let rateLimits: RouteRateLimits?
    /// Response compression, nil for a route that sends bodies as they are.
    let compression: RouteCompression?
    /// The route's `max_body_bytes`, or `http.max_body_bytes`.
    let maxBodyBytes: Int
    /// Request decompression and validation, nil for a route without either.
    let requestPolicies: RouteRequestPolicies?
    /// CORS, nil for a route that adds no CORS headers (which then pays one nil check).
    var cors: RouteCORS? = nil
    /// The OpenAPI document or docs page, for the routes the gateway adds for them.
    var page: GatewayPage? = nil
}

extension PathPattern {
    /// The `{param}` names of a path template, in order.
    static func parameterNames(in template: String) -> [String] {
        template.split(separator: "/").compactMap { segment in
            segment.first == "{" && segment.last == "}" ? String(segment.dropFirst().dropLast()) : nil
        }
    }
}

/// The current `GatewayState` as seen by one event loop. Handlers on that loop
/// read `state` once per request without a lock; a reload publishes a new state
/// to every loop with `EventLoop.submit`, so a request sees the old or the new
/// state, never half of each, and keeps the one it started with.
///
/// It also holds the loop's `RequestMetricsCache`: every connection of the loop
/// records into the same metric handles, so a new connection looks nothing up
/// in the Prometheus registry (a lock, label strings and help-text checks).
final class GatewayStateBox: @unchecked Sendable {
    private let eventLoop: any EventLoop
    private var _state: GatewayState
    /// Used on the box's event loop only, by one request at a time.
    @exclusivity(unchecked) var requestMetrics = RequestMetricsCache()

    init(state: GatewayState, eventLoop: any EventLoop) {
        self._state = state
        self.eventLoop = eventLoop
    }

    /// Read on the box's event loop only.
    var state: GatewayState {
        self.eventLoop.assertInEventLoop()
        return self._state
    }

    /// Swaps the state on the box's loop; the future completes once requests there see it.
    @discardableResult
    func publish(_ state: GatewayState) -> EventLoopFuture<Void> {
        self.eventLoop.submit { self._state = state }
    }
}
