import GatewayConfig
import GatewayRateLimit
import Logging
import NIOCore

/// What compiling rate limits needs from the running server: the event loops
/// (the Redis store keeps one connection per loop), the metrics and a logger.
struct RateLimitContext: Sendable {
    var group: (any EventLoopGroup)?
    var metrics: GatewayMetrics
    var logger: Logger

    /// For `gateway check`: nothing is connected, and the metrics go nowhere.
    static var detached: RateLimitContext {
        RateLimitContext(group: nil, metrics: GatewayMetrics(), logger: Logger(label: "gateway.ratelimit"))
    }
}

/// Every policy of one configuration with its store, and the trusted proxies.
/// Immutable; part of a `GatewayState`. A reload compiles a new one from the
/// previous: a policy whose name and definition are unchanged keeps its store
/// (so its counters), and the Redis connections are kept while
/// `rate_limit_store.redis` is unchanged.
final class RateLimitStores: Sendable {
    let policies: [String: RateLimitPolicy]
    let redis: RedisRateLimitBackend?
    let trustedProxies: [IPAddressRange]
    let memoryMaxKeys: Int

    private init(
        policies: [String: RateLimitPolicy], redis: RedisRateLimitBackend?, trustedProxies: [IPAddressRange],
        memoryMaxKeys: Int
    ) {
        self.policies = policies
        self.redis = redis
        self.trustedProxies = trustedProxies
        self.memoryMaxKeys = memoryMaxKeys
    }

    static func compile(
        _ configuration: GatewayConfiguration, reusing previous: RateLimitStores?, context: RateLimitContext
    ) throws -> RateLimitStores {
        let storeConfiguration = configuration.rateLimitStore
        var redis: RedisRateLimitBackend?
        if let redisConfiguration = storeConfiguration.redis {
            if let kept = previous?.redis, kept.configuration == redisConfiguration {
                redis = kept
            } else {
                redis = try RedisRateLimitBackend(
                    configuration: redisConfiguration, group: context.group, metrics: context.metrics,
                    logger: context.logger)
            }
        }
        var policies: [String: RateLimitPolicy] = [:]
        for policy in configuration.rateLimits {
            let old = previous?.policies[policy.name]
            switch policy.store {
            case .memory:
                if let old, old.configuration == policy, previous?.memoryMaxKeys == storeConfiguration.memoryMaxKeys,
                    case .memory = old.backend
                {
                    policies[policy.name] = old
                    continue
                }
                let store = LocalRateLimitStore(maximumKeys: storeConfiguration.memoryMaxKeys)
                let metrics = MemoryStoreMetrics(
                    keys: context.metrics.rateLimitKeys(policy: policy.name),
                    evictions: context.metrics.rateLimitEvictions(policy: policy.name))
                policies[policy.name] = RateLimitPolicy(configuration: policy, backend: .memory(store, metrics))
            case .redis:
                // The decoder refuses a redis policy without `rate_limit_store.redis`.
                guard let redis else { continue }
                policies[policy.name] = RateLimitPolicy(
                    configuration: policy, backend: .redis(redis, keyPrefix: RateLimitPolicy.redisKeyPrefix(policy)))
            }
        }
        return RateLimitStores(
            policies: policies, redis: redis, trustedProxies: configuration.trustedProxies,
            memoryMaxKeys: storeConfiguration.memoryMaxKeys)
    }

    /// Drops expired keys of the memory-store policies and updates their key
    /// gauges and eviction counters. Walks every key: run it off the event loops.
    func sweep(now: Int64) {
        for policy in self.policies.values {
            guard case .memory(let store, let metrics) = policy.backend else { continue }
            store.sweep(now: now)
            metrics.update(from: store)
        }
    }

    /// Names of memory-store policies, whose `gateway_ratelimit_keys` series exist.
    var memoryPolicyNames: Set<String> {
        Set(
            self.policies.values.compactMap { policy in
                if case .memory = policy.backend { policy.name } else { nil }
            })
    }
}
