import GatewayConfig

/// The policies that look at a request after routing and rate limits and
/// before it is dispatched, in the README's order: request decompression, then
/// validation. Compiled once per configuration; `CompiledRoute.requestPolicies`
/// is nil for a route with neither, which then pays one nil check. A class, so
/// reading it from the route costs one reference, not a copy of its arrays.
final class RouteRequestPolicies: Sendable {
    let decompression: RouteDecompression?
    let validation: RouteValidation?

    /// Nil when the route configures none of these policies.
    init?(route: RouteConfiguration, bodyLimit: Int) {
        guard route.requestDecompression != nil || route.validation != nil else { return nil }
        self.decompression = route.requestDecompression.map { RouteDecompression($0, routeBodyLimit: bodyLimit) }
        self.validation = route.validation.map {
            RouteValidation($0, parameterNames: route.match.path.parameterNames)
        }
    }

    /// Whether every request of the route is collected whole before it is
    /// dispatched: its body is validated. (A gzip body on a decompressing route
    /// is collected whatever this says; anything else streams.)
    var needsWholeBody: Bool { self.validation?.body != nil }
}
