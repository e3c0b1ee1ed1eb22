import GatewayConfig

/// What a reload changes, worked out from the running and the new configuration
/// before anything is touched: which listeners to bind, keep or unbind, and the
/// lines the reload result reports.
struct ConfigurationChanges: Equatable {
    /// New listeners (or listeners whose address moved), to bind.
    var listenersToBind: [ListenerConfiguration] = []
    /// Listener names to unbind and drain (removed, or moved to another address).
    var listenersToUnbind: [String] = []
    /// Listeners that stay bound and get new settings for new connections.
    var listenersToKeep: [ListenerConfiguration] = []
    /// One line per change, in the file's vocabulary.
    var descriptions: [String] = []
    /// JSON paths of settings that only a restart applies.
    var restartRequired: [String] = []

    /// - Parameter rotatedCertificates: names of kept listeners whose certificate or
    ///   key files changed on disk although their `tls` settings did not.
    /// - Parameter changedKeyFiles: JSON paths of API key, JWKS and upstream CA files whose
    ///   bytes changed on disk although the configuration naming them did not.
    init(
        from old: GatewayConfiguration, to new: GatewayConfiguration, rotatedCertificates: Set<String> = [],
        changedKeyFiles: [String] = []
    ) {
        let oldListeners = Dictionary(old.listeners.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let newNames = Set(new.listeners.map(\.name))

        for (index, listener) in new.listeners.enumerated() {
            let label = "listeners[\(index)] \"\(listener.name)\""
            guard let previous = oldListeners[listener.name] else {
                self.listenersToBind.append(listener)
                self.descriptions.append("\(label): added on \(listener.address)")
                continue
            }
            guard previous.address == listener.address else {
                self.listenersToUnbind.append(listener.name)
                self.listenersToBind.append(listener)
                self.descriptions.append("\(label): moved from \(previous.address) to \(listener.address)")
                continue
            }
            self.listenersToKeep.append(listener)
            switch (previous.tls, listener.tls) {
            case (nil, nil):
                break
            case (nil, .some):
                self.descriptions.append("\(label): TLS turned on for new connections")
            case (.some, nil):
                self.descriptions.append("\(label): TLS turned off for new connections")
            case (let before?, let after?):
                if before != after {
                    self.descriptions.append("listeners[\(index)].tls: updated for new connections")
                } else if rotatedCertificates.contains(listener.name) {
                    self.descriptions.append("listeners[\(index)].tls: certificates reloaded for new connections")
                }
            }
        }
        for listener in old.listeners where !newNames.contains(listener.name) {
            self.listenersToUnbind.append(listener.name)
            self.descriptions.append("listener \"\(listener.name)\": removed; its connections drain")
        }

        if old.routes != new.routes {
            self.descriptions.append("routes: updated (\(new.routes.count) routes)")
        }
        self.describeRateLimitChanges(from: old, to: new)
        // Names only: an inline key's value is never described.
        if old.apiKeys != new.apiKeys {
            let count = new.apiKeys.count
            self.descriptions.append("api_keys: updated (\(count) key\(count == 1 ? "" : "s"))")
        }
        if old.jwks != new.jwks {
            let count = new.jwks.count
            self.descriptions.append("jwks: updated (\(count) key set\(count == 1 ? "" : "s"))")
        }
        for path in changedKeyFiles {
            self.descriptions.append("\(path): reloaded")
        }
        if old.openAPI != new.openAPI {
            self.descriptions.append(
                new.openAPI == nil ? "openapi: no longer served" : "openapi: updated (served from the next request)")
        }
        if old.http != new.http {
            self.descriptions.append("http: updated (max_body_bytes at once, the other limits for new connections)")
        }
        if old.accessLog != new.accessLog {
            self.descriptions.append("access_log: \(new.accessLog.enabled ? "enabled" : "disabled")")
        }
        if old.shutdown != new.shutdown {
            self.descriptions.append("shutdown: updated")
        }
        if old.reload != new.reload {
            self.descriptions.append("reload: updated")
        }
        if old.admin.address != new.admin.address {
            self.restartRequired.append("admin.address")
            self.descriptions.append("admin.address: restart required (still serving on \(old.admin.address))")
        }
        if old.eventLoops != new.eventLoops {
            self.restartRequired.append("event_loops")
            self.descriptions.append("event_loops: restart required (still running \(old.eventLoops))")
        }
    }
}

extension ConfigurationChanges {
    /// Policies keep their counters across a reload unless their definition (or
    /// the memory store's size) changes; say which ones start over.
    fileprivate mutating func describeRateLimitChanges(from old: GatewayConfiguration, to new: GatewayConfiguration) {
        let before = Dictionary(old.rateLimits.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Set(new.rateLimits.map(\.name))
        let memoryResized = old.rateLimitStore.memoryMaxKeys != new.rateLimitStore.memoryMaxKeys
        for policy in new.rateLimits {
            guard let previous = before[policy.name] else {
                self.descriptions.append("rate_limits \"\(policy.name)\": added")
                continue
            }
            if previous != policy || (policy.store == .memory && memoryResized) {
                self.descriptions.append("rate_limits \"\(policy.name)\": changed; its counters start over")
            }
        }
        for policy in old.rateLimits where !after.contains(policy.name) {
            self.descriptions.append("rate_limits \"\(policy.name)\": removed")
        }
        if old.rateLimitStore.redis != new.rateLimitStore.redis {
            self.descriptions.append("rate_limit_store.redis: updated (new connections)")
        }
        if old.trustedProxies != new.trustedProxies {
            self.descriptions.append("trusted_proxies: updated")
        }
    }
}
