import GatewayConfig
import GatewayProxy

/// Which upstream groups serve: an active group runs its health checker and
/// owns its `target_healthy` series. Called by the control plane when a state
/// starts serving (start, reload) and at shutdown.
extension GatewayServer {
    /// `state` serves now, replacing `previous`: groups of `previous` that
    /// `state` does not keep stop first (so none of them writes a series a new
    /// group owns), then `state`'s groups start, then the series of removed
    /// targets and upstreams go.
    func activateUpstreams(of state: GatewayState, replacing previous: GatewayState?) {
        if let previous {
            let kept = Set(state.upstreams.map(ObjectIdentifier.init))
            for group in previous.upstreams where !kept.contains(ObjectIdentifier(group)) {
                group.deactivate()
            }
        }
        for group in state.upstreams {
            group.activate(eventLoopGroup: self.group, metrics: self.metrics, logger: self.logger)
        }
        if let previous {
            self.metrics.removeUpstreamHealthSeries(
                old: previous.configuration.upstreams, new: state.configuration.upstreams)
        }
    }

    /// Shutdown: health checkers stop before the event loops do.
    func deactivateUpstreams(of state: GatewayState) {
        for group in state.upstreams { group.deactivate() }
    }
}
