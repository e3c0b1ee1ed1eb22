import Foundation
import GatewayConfig
import Testing

/// A document with the minimal listener, the given extra top-level members and routes.
private func document(_ members: String, routes: String = "") -> String {
    #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], \#(members), "routes": [\#(routes)]}"#
}

@Suite("Rate-limit policies, stores and trusted proxies")
struct RateLimitConfigurationTests {
    @Test func everyKeyDecodes() throws {
        let configuration = try load(
            document(
                #"""
                "trusted_proxies": ["10.0.0.0/8", "192.0.2.7", "fd00::/8"],
                "rate_limit_store": {"memory": {"max_keys": 5000},
                                     "redis": {"url": "redis://127.0.0.1:6380", "timeout": "20ms", "failure_mode": "closed"}},
                "rate_limits": {"per-ip": {"limit": "10/s", "burst": 20},
                                "per-key": {"limit": "1000/minute", "key": {"header": "X-API-Key"}, "store": "redis"},
                                "per-route": {"limit": "5000/d", "burst": 1, "key": "route", "store": "memory"}},
                "default_rate_limits": ["per-ip"]
                """#,
                routes: #"""
                    {"name": "a", "match": {"path": "/a"}, "handler": "items", "rate_limits": ["per-key", "per-route"],
                     "rate_limit_headers": false},
                    {"name": "b", "match": {"path": "/b"}, "handler": "items"},
                    {"name": "c", "match": {"path": "/c"}, "handler": "items", "rate_limits": []}
                    """#))
        #expect(
            configuration.rateLimits == [
                RateLimitPolicyConfiguration(
                    name: "per-ip", limit: RateLimitRate(count: 10, period: .second), burst: 20),
                RateLimitPolicyConfiguration(
                    name: "per-key", limit: RateLimitRate(count: 1000, period: .minute), burst: 1000,
                    key: .header("x-api-key"), store: .redis),
                RateLimitPolicyConfiguration(
                    name: "per-route", limit: RateLimitRate(count: 5000, period: .day), burst: 1, key: .route),
            ])
        #expect(
            configuration.rateLimitStore
                == RateLimitStoreConfiguration(
                    memoryMaxKeys: 5000,
                    redis: RedisStoreConfiguration(
                        url: "redis://127.0.0.1:6380", timeout: .milliseconds(20), failureMode: .closed)))
        #expect(configuration.trustedProxies.map(\.description) == ["10.0.0.0/8", "192.0.2.7", "fd00::/8"])
        #expect(configuration.routes.map(\.rateLimits) == [["per-key", "per-route"], ["per-ip"], []])
        #expect(configuration.routes.map(\.rateLimitHeaders) == [false, true, true])

        // The canonical form loads back equal, and the fingerprint sees the policies.
        let reloaded = try load(configuration.canonicalJSON)
        #expect(reloaded == configuration)
        let other = try load(configuration.canonicalJSON.replacingOccurrences(of: "\"10/s\"", with: "\"11/s\""))
        #expect(other.fingerprint != configuration.fingerprint)
    }

    @Test func defaultsAndAbsentSectionsKeepTheFingerprint() throws {
        let configuration = try load(document(#""rate_limits": {"p": {"limit": "5/min"}}"#))
        let policy = try #require(configuration.rateLimits.first)
        #expect(policy.burst == 5)
        #expect(policy.key == .clientIP)
        #expect(policy.store == .memory)
        #expect(configuration.rateLimitStore == RateLimitStoreConfiguration())
        // Empty sections are the same configuration as absent ones.
        let empty = try load(document(#""rate_limits": {}, "trusted_proxies": [], "rate_limit_store": {}"#))
        #expect(empty.fingerprint == (try load(minimalDocument)).fingerprint)
    }

    @Test func limitSpellings() throws {
        for (text, count, period) in [
            ("100/s", 100, RateLimitPeriod.second), ("1/second", 1, .second), ("1000/min", 1000, .minute),
            ("3/m", 3, .minute), ("50/h", 50, .hour), ("50/hour", 50, .hour), ("5000/d", 5000, .day),
        ] {
            let configuration = try load(document(#""rate_limits": {"p": {"limit": "\#(text)"}}"#))
            #expect(configuration.rateLimits.first?.limit == RateLimitRate(count: count, period: period), "\(text)")
        }
    }

    @Test func policyProblemsHaveTheirPaths() {
        #expect(
            problems(
                of: document(
                    #"""
                    "rate_limits": {"a": {"limit": "10 per second"}, "b": {"limit": "0/s"}, "c": {"limit": 10},
                                    "d": {"burst": 0}, "e e": {"limit": "1/s"}, "f": {"limit": "1/s", "key": "ip"},
                                    "g": {"limit": "1/s", "key": {"header": "X Key"}}, "h": {"limit": "1/s", "store": "disk"},
                                    "i": {"limit": "1/s", "store": "redis"}, "j": {"limit": "1/s", "kee": "route"},
                                    "k": {"limit": "1/w"}, "l": {"limit": "1/s", "key": 5}}
                    """#)) == [
                    #"rate_limits.a.limit: invalid limit "10 per second" (expected a count and a period such as "100/s", "1000/min", "50/h" or "5000/d")"#,
                    #"rate_limits.b.limit: limit "0/s" must allow at least 1 request"#,
                    #"rate_limits.c.limit: expected a string such as "100/s" or "1000/min""#,
                    "rate_limits.d.limit: required",
                    "rate_limits.d.burst: must be at least 1",
                    #"rate_limits["e e"]: invalid name "e e" (use only letters, digits, "_", "." and "-")"#,
                    #"rate_limits.f.key: unknown key "ip" (expected "client_ip", "identity", "route" or {"header": "X-API-Key"})"#,
                    #"rate_limits.g.key.header: invalid header name "X Key" (expected a token such as "X-API-Key")"#,
                    #"rate_limits.h.store: unknown store "disk" (expected "memory" or "redis")"#,
                    #"rate_limits.i.store: needs "rate_limit_store": {"redis": {"url": …}} (where Redis is)"#,
                    #"rate_limits.j.kee: unknown key (did you mean "key"?)"#,
                    #"rate_limits.k.limit: invalid limit "1/w" (expected a count and a period such as "100/s", "1000/min", "50/h" or "5000/d")"#,
                    #"rate_limits.l.key: expected "client_ip", "identity", "route" or {"header": "X-API-Key"}"#,
                ])
    }

    @Test func storeProblemsHaveTheirPaths() {
        #expect(
            problems(
                of: document(
                    #"""
                    "rate_limit_store": {"memory": {"max_keys": 0}, "redis": {"url": "http://r:6379", "timeout": "0s",
                                         "failure_mode": "maybe"}, "disk": {}}
                    """#)) == [
                    #"rate_limit_store.disk: unknown key (known keys: memory, redis)"#,
                    "rate_limit_store.memory.max_keys: must be at least 1",
                    #"rate_limit_store.redis.url: invalid Redis URL "http://r:6379" (expected redis://host[:port], e.g. "redis://127.0.0.1:6379")"#,
                    #"rate_limit_store.redis.timeout: duration must be greater than 0, got "0s""#,
                    #"rate_limit_store.redis.failure_mode: unknown failure mode "maybe" (expected "open" or "closed")"#,
                ])
        #expect(
            problems(of: document(#""rate_limit_store": {"redis": {"url": "redis://:secret@r:6379"}}"#)) == [
                #"rate_limit_store.redis.url: Redis URL "redis://:secret@r:6379": user names and passwords are not supported yet"#
            ])
        #expect(
            problems(of: document(#""rate_limit_store": {"redis": {"url": "redis://r:99999"}}"#)) == [
                #"rate_limit_store.redis.url: invalid port "99999" in Redis URL "redis://r:99999" (expected 1-65535)"#
            ])
        #expect(
            problems(of: document(#""rate_limit_store": {"redis": {}}"#)) == ["rate_limit_store.redis.url: required"])
        // A broken store section is reported once, not again at each policy that uses it.
        #expect(
            problems(
                of: document(
                    #""rate_limit_store": {"redis": {"url": "nope"}}, "rate_limits": {"p": {"limit": "1/s", "store": "redis"}}"#
                )) == [
                    #"rate_limit_store.redis.url: invalid Redis URL "nope" (expected redis://host[:port], e.g. "redis://127.0.0.1:6379")"#
                ])
    }

    @Test func routeProblemsHaveTheirPaths() {
        #expect(
            problems(
                of: document(
                    #""rate_limits": {"p": {"limit": "1/s"}}, "default_rate_limits": ["q"]"#,
                    routes: #"""
                        {"name": "a", "match": {"path": "/a"}, "handler": "items", "rate_limits": ["p", "p", "x", 3]},
                        {"name": "b", "match": {"path": "/b"}, "handler": "items", "rate_limits": "p",
                         "rate_limit_headers": "yes"}
                        """#)) == [
                    #"default_rate_limits[0]: unknown rate limit "q" (known: "p")"#,
                    #"routes[0].rate_limits[1]: "p" is listed twice"#,
                    #"routes[0].rate_limits[2]: unknown rate limit "x" (known: "p")"#,
                    "routes[0].rate_limits[3]: expected a string",
                    "routes[1].rate_limits: expected an array",
                    "routes[1].rate_limit_headers: expected a boolean (true or false)",
                ])
        #expect(
            problems(
                of: document(
                    #""upstreams": {}"#,
                    routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items", "rate_limits": ["p"]}"#))
                == [#"routes[0].rate_limits[0]: unknown rate limit "p" (no rate_limits are defined)"#])
        #expect(
            problems(
                of: document(
                    #""upstreams": {}"#,
                    routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items", "rate_limit_headers": false}"#)
            )
                == [#"routes[0].rate_limit_headers: only applies to a route with "rate_limits""#])
    }

    @Test func trustedProxyProblemsHaveTheirPaths() {
        #expect(
            problems(of: document(#""trusted_proxies": ["10.0.0.1/8", "10.0.0.0/33", "example.com", 7, "::1/129"]"#))
                == [
                    #"trusted_proxies[0]: "10.0.0.1/8" has host bits set (did you mean "10.0.0.0/8"?)"#,
                    #"trusted_proxies[1]: invalid prefix length "33" in "10.0.0.0/33" (expected 0-32)"#,
                    #"trusted_proxies[2]: invalid trusted proxy "example.com" (expected an IP address or a CIDR range such as "10.0.0.0/8" or "fd00::/8")"#,
                    "trusted_proxies[3]: expected a string",
                    #"trusted_proxies[4]: invalid prefix length "129" in "::1/129" (expected 0-128)"#,
                ])
    }

    @Test func addressRangesMatch() throws {
        let configuration = try load(document(#""trusted_proxies": ["10.0.0.0/8", "fd00::/8", "0.0.0.0/0"]"#))
        let ten = configuration.trustedProxies[0]
        #expect(ten.contains(IPAddressRange.parseAddress("10.255.1.2")!))
        #expect(!ten.contains(IPAddressRange.parseAddress("11.0.0.1")!))
        #expect(ten.contains(IPAddressRange.parseAddress("::ffff:10.1.2.3")!))
        #expect(!ten.contains(IPAddressRange.parseAddress("fd00::1")!))
        #expect(configuration.trustedProxies[1].contains(IPAddressRange.parseAddress("fd12::1")!))
        #expect(configuration.trustedProxies[2].contains(IPAddressRange.parseAddress("203.0.113.9")!))
        #expect(IPAddressRange.parseAddress("10.0.0") == nil)
    }
}

@Suite("Environment substitution in gateway.json")
struct EnvironmentSubstitutionTests {
    private func load(_ json: String, environment: [String: String]) throws(ConfigurationError) -> GatewayConfiguration
    {
        try GatewayConfigurationLoader.load(
            data: Array(json.utf8), baseDirectory: testBaseDirectory, environment: environment)
    }

    private func problems(_ json: String, environment: [String: String]) -> [String] {
        do {
            _ = try load(json, environment: environment)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test func variablesAndDefaultsInStringValues() throws {
        let json = #"""
            {"listeners": [{"name": "web", "address": "0.0.0.0:${GATEWAY_PORT:-8443}"}],
             "admin": {"address": "127.0.0.1:${ADMIN_PORT}"},
             "rate_limit_store": {"redis": {"url": "${REDIS_URL:-redis://127.0.0.1:6379}"}},
             "upstreams": {"backend": {"targets": [{"address": "127.0.0.1:9000"}]}},
             "routes": [{"name": "a$b", "match": {"path": "/a"}, "upstream": "backend",
                         "headers": {"request": {"set": {"x-price": "$5 $${literal}"}}}}]}
            """#
        // `a$b` is not a name, but substitution leaves a lone `$` alone, so the name problem is the decoder's.
        #expect(
            problems(json, environment: ["ADMIN_PORT": "9902"]) == [
                #"routes[0].name: invalid name "a$b" (use only letters, digits, "_", "." and "-")"#
            ])
        let fixed = json.replacingOccurrences(of: "a$b", with: "ab")
        let defaults = try load(fixed, environment: ["ADMIN_PORT": "9902", "GATEWAY_PORT": ""])
        #expect(defaults.listeners[0].address.port == 8443)
        #expect(defaults.admin.address.port == 9902)
        #expect(defaults.rateLimitStore.redis?.url == "redis://127.0.0.1:6379")
        #expect(defaults.routes[0].proxy?.requestHeaders.set == [HeaderField(name: "x-price", value: "$5 ${literal}")])
        let set = try load(
            fixed, environment: ["ADMIN_PORT": "9902", "GATEWAY_PORT": "9443", "REDIS_URL": "redis://cache:6380"])
        #expect(set.listeners[0].address.port == 9443)
        #expect(set.rateLimitStore.redis?.url == "redis://cache:6380")
    }

    @Test func unsetVariableAndMalformedReferencesHaveTheirPaths() {
        let json = #"""
            {"listeners": [{"name": "web", "address": "0.0.0.0:${PORT}"}],
             "admin": {"address": "${HOST:-127.0.0.1}:${9}"},
             "routes": [{"name": "a", "match": {"path": "/${OPEN"}, "handler": "items"}]}
            """#
        #expect(
            problems(json, environment: [:]) == [
                "listeners[0].address: environment variable PORT is not set (give a default with ${PORT:-default})",
                "admin.address: invalid environment reference \"${9}\" (expected ${NAME} or ${NAME:-default}, NAME made of letters, digits and _)",
                #"routes[0].match.path: unterminated "${" in "/${OPEN" (write "$${" for a literal "${")"#,
            ])
    }

    @Test func keysNumbersAndBooleansAreNotSubstituted() {
        #expect(
            problems(
                #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "${X}": 1}"#,
                environment: ["X": "event_loops"]
            )
            .map { $0.prefix(while: { $0 != "(" }) } == [#"["${X}"]: unknown key "#])
    }
}

@Suite("The shipped rate-limit examples and bench/gateway.json")
struct RateLimitExampleTests {
    private static func load(_ file: String, environment: [String: String] = [:]) throws -> GatewayConfiguration {
        try GatewayConfigurationLoader.load(
            contentsOf: ShippedConfigurationTests.packageDirectory + "/" + file, environment: environment)
    }

    private func checkLimitedRoute(_ configuration: GatewayConfiguration) throws {
        let route = try #require(configuration.routes.first)
        #expect(route.name == "limited")
        #expect(route.match.path == .prefix("/limited/"))
        #expect(route.proxy?.upstream == "backend")
        #expect(route.rateLimits == ["per-ip"])
        #expect(route.rateLimitHeaders)
        #expect(configuration.upstreams.first?.targets.map(\.address.description) == ["127.0.0.1:9000"])
    }

    @Test func memoryExampleWithDefaultsAndWithEnvironment() throws {
        let configuration = try Self.load("examples/ratelimit.json")
        #expect(configuration.listeners.first?.address == SocketAddressConfiguration(host: "0.0.0.0", port: 8443))
        #expect(configuration.listeners.first?.tls != nil)
        #expect(configuration.admin.address == SocketAddressConfiguration(host: "127.0.0.1", port: 9901))
        #expect(
            configuration.rateLimits == [
                RateLimitPolicyConfiguration(
                    name: "per-ip", limit: RateLimitRate(count: 10, period: .second), burst: 10, key: .clientIP,
                    store: .memory)
            ])
        try checkLimitedRoute(configuration)
        let moved = try Self.load(
            "examples/ratelimit.json", environment: ["GATEWAY_PORT": "9443", "GATEWAY_ADMIN_PORT": "9902"])
        #expect(moved.listeners.first?.address.port == 9443)
        #expect(moved.admin.address.port == 9902)
    }

    @Test func redisExample() throws {
        let configuration = try Self.load("examples/ratelimit-redis.json")
        #expect(configuration.listeners.first?.address.port == 8443)
        #expect(configuration.admin.address == SocketAddressConfiguration(host: "127.0.0.1", port: 9901))
        #expect(
            configuration.rateLimits == [
                RateLimitPolicyConfiguration(
                    name: "per-ip", limit: RateLimitRate(count: 20, period: .second), burst: 20, key: .clientIP,
                    store: .redis)
            ])
        #expect(configuration.rateLimitStore.redis?.url == "redis://127.0.0.1:6379")
        #expect(configuration.rateLimitStore.redis?.failureMode == .open)
        try checkLimitedRoute(configuration)
        let elsewhere = try Self.load("examples/ratelimit-redis.json", environment: ["REDIS_URL": "redis://cache:6380"])
        #expect(elsewhere.rateLimitStore.redis?.url == "redis://cache:6380")
    }

    @Test func benchLimitsLikeNginxBurstZero() throws {
        let configuration = try Self.load("bench/gateway.json")
        let route = try #require(configuration.routes.first { $0.name == "limited" })
        #expect(route.match.path == .prefix("/limited/"))
        #expect(route.proxy?.upstream == "backend")
        #expect(route.rateLimits == ["per-ip"])
        #expect(
            configuration.rateLimits == [
                RateLimitPolicyConfiguration(
                    name: "per-ip", limit: RateLimitRate(count: 10, period: .second), burst: 1, key: .clientIP)
            ])
    }
}
