import NIOConcurrencyHelpers
import GatewayConfig
public import Prometheus

/// The upstream health, ejection and retry metrics (kept apart from
/// `GatewayMetrics.swift`; each `UpstreamPool` and `UpstreamGroup` asks once
/// per label set and keeps what it got).
extension GatewayMetrics {
    public func upstreamTargetHealthy(upstream: String, target: String) -> Gauge {
        self.registry.makeGauge(
            descriptor: Self.upstreamTargetHealthyDescriptor, labels: [("upstream", upstream), ("target", target)])
    }

    public func upstreamRetries(upstream: String) -> Counter {
        self.registry.makeCounter(descriptor: Self.upstreamRetriesDescriptor, labels: [("upstream", upstream)])
    }

    public func upstreamEjections(upstream: String, target: String) -> Counter {
        self.registry.makeCounter(
            descriptor: Self.upstreamEjectionsDescriptor, labels: [("upstream", upstream), ("target", target)])
    }

    /// Removes the series of upstreams and targets that `old` had and `new`
    /// has not, after a reload: a removed target's health, ejections and
    /// request counts; a removed upstream's retries, durations and connections.
    func removeUpstreamHealthSeries(old: [UpstreamConfiguration], new: [UpstreamConfiguration]) {
        let kept = Set(new.flatMap { upstream in upstream.targets.map { "\(upstream.name) \($0.address)" } })
        let keptUpstreams = Set(new.map(\.name))
        for upstream in old {
            for target in upstream.targets where !kept.contains("\(upstream.name) \(target.address)") {
                let label = target.address.description
                self.registry.unregisterGauge(self.upstreamTargetHealthy(upstream: upstream.name, target: label))
                self.registry.unregisterCounter(self.upstreamEjections(upstream: upstream.name, target: label))
            }
            if !keptUpstreams.contains(upstream.name) {
                self.registry.unregisterCounter(self.upstreamRetries(upstream: upstream.name))
                self.registry.unregisterDurationHistogram(self.upstreamRequestDuration(upstream: upstream.name))
                for state in ["idle", "active"] {
                    self.registry.unregisterGauge(self.upstreamConnections(upstream: upstream.name, state: state))
                }
            }
        }
        let gone = self.upstreamRequestSeries.withLockedValue { series in
            let gone = series.filter { !kept.contains("\($0.upstream) \($0.target)") }
            series.subtract(gone)
            return gone
        }
        for series in gone {
            self.registry.unregisterCounter(
                self.registry.makeCounter(
                    descriptor: Self.upstreamRequestsDescriptor,
                    labels: [("upstream", series.upstream), ("target", series.target), ("code", series.code)]))
        }
    }

    static var upstreamTargetHealthyDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "upstream", metricName: "target_healthy", unitName: "",
            helpText:
                "1 while a target is in rotation, 0 while it fails its active health checks or is ejected, by upstream and target.")
    }
    static var upstreamRetriesDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "upstream", metricName: "retries", unitName: "total",
            helpText: "Proxied requests tried again on another target after a failed attempt, by upstream.")
    }
    static var upstreamEjectionsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "upstream", metricName: "ejections", unitName: "total",
            helpText: "Targets taken out of rotation by outlier detection after consecutive failures, by upstream and target.")
    }
}
