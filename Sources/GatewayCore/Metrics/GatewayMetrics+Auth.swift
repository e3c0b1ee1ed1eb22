import Prometheus

// MARK: Authentication (looked up when a state is compiled, never per request)

extension GatewayMetrics {
    func authDecisions(route: String, result: String) -> Counter {
        self.registry.makeCounter(
            descriptor: Self.authDecisionsDescriptor, labels: [("route", route), ("result", result)])
    }

    static var authDecisionsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "auth", metricName: "decisions", unitName: "total",
            helpText:
                "Authentication decisions by route and result "
                + "(allowed; missing, invalid or expired credentials: 401; forbidden: 403).")
    }
}
