import Foundation
import Prometheus
import Synchronization

/// The reload metrics: results counted, whether the last one worked, when the
/// serving configuration was loaded, and its fingerprint as an info metric.
final class ReloadMetrics: Sendable {
    private let metrics: GatewayMetrics
    private let successes: Counter
    private let failures: Counter
    private let lastSuccessful: Gauge
    private let lastSuccessTimestamp: Gauge
    /// The `gateway_config_info` series of the serving configuration; replaced (the
    /// old series removed) when a reload changes the fingerprint.
    private let info: Mutex<(fingerprint: String, gauge: Gauge)>

    /// Registers the metrics for the configuration loaded at start.
    init(metrics: GatewayMetrics, fingerprint: String) {
        self.metrics = metrics
        self.successes = metrics.configReloads(result: "success")
        self.failures = metrics.configReloads(result: "failure")
        self.lastSuccessful = metrics.configLastReloadSuccessful()
        self.lastSuccessTimestamp = metrics.configLastReloadSuccessTimestamp()
        self.lastSuccessful.set(1.0)
        self.lastSuccessTimestamp.set(Date().timeIntervalSince1970)
        let gauge = metrics.configInfo(fingerprint: fingerprint)
        gauge.set(1.0)
        self.info = Mutex((fingerprint, gauge))
    }

    func record(_ result: ReloadResult) {
        switch result {
        case .ok(let fingerprint, _, _):
            self.successes.increment()
            self.lastSuccessful.set(1.0)
            self.lastSuccessTimestamp.set(Date().timeIntervalSince1970)
            self.info.withLock { info in
                guard info.fingerprint != fingerprint else { return }
                self.metrics.registry.unregisterGauge(info.gauge)
                let gauge = self.metrics.configInfo(fingerprint: fingerprint)
                gauge.set(1.0)
                info = (fingerprint, gauge)
            }
        case .failed:
            self.failures.increment()
            self.lastSuccessful.set(0.0)
        }
    }
}
