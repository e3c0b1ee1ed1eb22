import GatewayConfig
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("The rate-limit step")
struct RateLimitStepTests {
    private func state(_ json: String, reusing previous: GatewayState? = nil) throws -> GatewayState {
        let configuration = try GatewayConfigurationLoader.load(
            data: Array(json.utf8), baseDirectory: "/", environment: [:])
        return try GatewayState(configuration: configuration, reusing: previous, rateLimitContext: .detached)
    }

    private func document(_ policies: String, route: String = #""rate_limits": ["a"]"#) -> String {
        #"""
        {"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "rate_limits": {\#(policies)},
         "trusted_proxies": ["10.0.0.0/8"],
         "routes": [{"name": "items", "match": {"path": "/items/{item_id}"}, "handler": "items", \#(route)}]}
        """#
    }

    private func decide(_ limits: RouteRateLimits, now: Int64, headers: HTTPHeaders = [:], ip: String = "192.0.2.1")
        -> RouteRateLimits.Outcome
    {
        guard
            case .decided(let outcome) = limits.evaluate(
                headers: headers, clientIP: ip, now: now, eventLoop: EmbeddedEventLoop())
        else {
            Issue.record("a memory store decides at once")
            return RouteRateLimits.Outcome()
        }
        return outcome
    }

    @Test func headerValuesFollowTheDraftSyntax() throws {
        let state = try self.state(
            document(
                #""a": {"limit": "10/s", "burst": 10}, "b": {"limit": "5000/d"}"#, route: #""rate_limits": ["a", "b"]"#)
        )
        let limits = try #require(state.routes[0].rateLimits)
        #expect(limits.policyHeader == #""a";q=10;w=1, "b";q=5000;w=86400"#)
        var outcome = RouteRateLimits.Outcome()
        for step in 0..<3 { outcome = decide(limits, now: 1_000_000_000 + Int64(step)) }
        // 10/s burst 10 after three requests: 7 left, full again within 1 s (rounded up).
        #expect(outcome.items == #""a";r=7;t=1, "b";r=4997;t=52"#)
        #expect(
            limits.responseHeaders(for: outcome).map { "\($0.name): \($0.value)" } == [
                #"ratelimit-policy: "a";q=10;w=1, "b";q=5000;w=86400"#, #"ratelimit: "a";r=7;t=1, "b";r=4997;t=52"#,
            ])
    }

    @Test func theFirstRefusingPolicyAnswersAndLaterOnesAreNotCharged() throws {
        let state = try self.state(
            document(#""a": {"limit": "1/min"}, "b": {"limit": "10/h"}"#, route: #""rate_limits": ["a", "b"]"#))
        let limits = try #require(state.routes[0].rateLimits)
        #expect(decide(limits, now: 0).verdict == .allowed)
        let refused = decide(limits, now: 1_000_000_000)
        // 1/min: the next request fits 59 s later; rounded up.
        #expect(refused.verdict == .limited(retryAfter: 59))
        #expect(refused.items == #""a";r=0;t=59"#)
        #expect(limits.responseHeaders(for: refused).first! == ("retry-after", "59"))
        // b was charged once, not twice.
        #expect(decide(limits, now: 60_000_000_000).items == #""a";r=0;t=60, "b";r=8;t=660"#)
    }

    @Test func keys() {
        let headers: HTTPHeaders = ["X-API-Key": "k1"]
        #expect(RouteRateLimits.key(for: .clientIP, headers: headers, clientIP: "192.0.2.1", route: "r") == "192.0.2.1")
        #expect(RouteRateLimits.key(for: .route, headers: headers, clientIP: "192.0.2.1", route: "r") == "r")
        #expect(
            RouteRateLimits.key(for: .header("x-api-key"), headers: headers, clientIP: "192.0.2.1", route: "r")
                == "h:k1")
        #expect(
            RouteRateLimits.key(for: .header("x-other"), headers: headers, clientIP: "192.0.2.1", route: "r")
                == "ip:192.0.2.1")
    }

    @Test func forwardedForIsReadFromTheRightSkippingTrustedHops() throws {
        let trusted = try self.state(document(#""a": {"limit": "1/s"}"#)).rateLimits.trustedProxies
        func client(_ forwarded: [String], peer: String = "10.0.0.5") -> String {
            var headers = HTTPHeaders()
            for value in forwarded { headers.add(name: "X-Forwarded-For", value: value) }
            return ClientAddress.forwardedClient(headers: headers, peer: peer, trusted: trusted)
        }
        #expect(ClientAddress.isTrusted("10.0.0.5", in: trusted))
        #expect(!ClientAddress.isTrusted("192.0.2.1", in: trusted))
        #expect(client([]) == "10.0.0.5")
        #expect(client(["203.0.113.7"]) == "203.0.113.7")
        // A client-written first entry does not count: the rightmost untrusted one is the client.
        #expect(client(["1.2.3.4, 203.0.113.7, 10.1.1.1"]) == "203.0.113.7")
        #expect(client(["1.2.3.4", "203.0.113.7, 10.1.1.1"]) == "203.0.113.7")
        #expect(client(["10.9.9.9, 10.1.1.1"]) == "10.9.9.9")
        #expect(client(["garbage, 10.1.1.1"]) == "10.1.1.1")
        #expect(client(["2001:db8::1"]) == "2001:db8::1")
    }

    @Test func countersSurviveAnUnchangedPolicyAndResetAChangedOne() throws {
        let first = try self.state(document(#""a": {"limit": "1/min"}"#))
        let limits = try #require(first.routes[0].rateLimits)
        #expect(decide(limits, now: 0).verdict == .allowed)

        let same = try self.state(document(#""a": {"limit": "1/min", "store": "memory"}"#), reusing: first)
        #expect(same.rateLimits.policies["a"] === first.rateLimits.policies["a"])
        #expect(decide(try #require(same.routes[0].rateLimits), now: 1).verdict != .allowed)

        let changed = try self.state(document(#""a": {"limit": "1/min", "burst": 2}"#), reusing: same)
        #expect(changed.rateLimits.policies["a"] !== first.rateLimits.policies["a"])
        #expect(decide(try #require(changed.routes[0].rateLimits), now: 2).verdict == .allowed)
    }

    @Test func routesWithoutRateLimitsHaveNoStep() throws {
        let state = try self.state(document(#""a": {"limit": "1/min"}"#, route: #""rate_limits": []"#))
        #expect(state.routes[0].rateLimits == nil)
    }

    @Test func secondsRoundUp() {
        #expect(RateLimitHeaders.seconds(0) == 0)
        #expect(RateLimitHeaders.seconds(1) == 1)
        #expect(RateLimitHeaders.seconds(1_000_000_000) == 1)
        #expect(RateLimitHeaders.seconds(1_000_000_001) == 2)
        #expect(RateLimitHeaders.quoted(#"a"b"#) == #""a\"b""#)
    }

    @Test func reloadDescribesWhichPoliciesStartOver() throws {
        func load(_ policies: String) throws -> GatewayConfiguration {
            try GatewayConfigurationLoader.load(
                data: Array(document(policies).utf8), baseDirectory: "/", environment: [:])
        }
        let old = try load(#""a": {"limit": "1/min"}, "b": {"limit": "2/min"}"#)
        let new = try load(#""a": {"limit": "1/min", "burst": 3}, "c": {"limit": "2/min"}"#)
        let changes = ConfigurationChanges(from: old, to: new)
        #expect(changes.descriptions.contains(#"rate_limits "a": changed; its counters start over"#))
        #expect(changes.descriptions.contains(#"rate_limits "c": added"#))
        #expect(changes.descriptions.contains(#"rate_limits "b": removed"#))
        #expect(ConfigurationChanges(from: old, to: old).descriptions.isEmpty)
    }
}
