import Foundation
import GatewayConfig
import Testing

/// A document with the minimal listener, the given `upstreams` object and routes.
private func document(upstreams: String, routes: String = "") -> String {
    #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "upstreams": \#(upstreams), "routes": [\#(routes)]}"#
}

private let backend = #"{"backend": {"targets": [{"address": "127.0.0.1:9000"}]}}"#

@Suite("Upstreams and proxied routes")
struct UpstreamConfigurationTests {
    @Test func fullUpstreamAndRoute() throws {
        let configuration = try load(
            document(
                upstreams: #"""
                    {"backend": {"targets": [{"address": "127.0.0.1:9000", "weight": 3}, {"address": "localhost:9001"}],
                                 "scheme": "http", "connect_timeout": "500ms", "idle_timeout": "30s",
                                 "max_connections_per_loop": 8, "load_balancing": "least_request"}}
                    """#,
                routes: #"""
                    {"name": "api", "match": {"prefix": "/api/"}, "upstream": "backend", "strip_prefix": true,
                     "request_timeout": "5s",
                     "headers": {"request": {"set": {"X-B": "2", "Host": "backend.internal"}, "add": {"x-a": "1"},
                                             "remove": ["X-Secret", "cookie"]},
                                 "response": {"remove": ["server"]}}}
                    """#))
        #expect(
            configuration.upstreams == [
                UpstreamConfiguration(
                    name: "backend",
                    targets: [
                        UpstreamTargetConfiguration(
                            address: SocketAddressConfiguration(host: "127.0.0.1", port: 9000), weight: 3),
                        UpstreamTargetConfiguration(address: SocketAddressConfiguration(host: "localhost", port: 9001)),
                    ],
                    connectTimeout: .milliseconds(500), idleTimeout: .seconds(30), maxConnectionsPerLoop: 8,
                    loadBalancing: .leastRequest)
            ])
        let route = try #require(configuration.routes.first)
        #expect(route.handler == nil)
        #expect(
            route.proxy
                == RouteProxyConfiguration(
                    upstream: "backend", pathRewrite: .stripPrefix, requestTimeout: .seconds(5),
                    requestHeaders: HeaderRules(
                        set: [
                            HeaderField(name: "host", value: "backend.internal"), HeaderField(name: "x-b", value: "2"),
                        ],
                        add: [HeaderField(name: "x-a", value: "1")],
                        remove: ["cookie", "x-secret"]),
                    responseHeaders: HeaderRules(remove: ["server"])))

        // The canonical form loads back equal, and the fingerprint sees the proxy keys.
        let reloaded = try load(configuration.canonicalJSON)
        #expect(reloaded == configuration)
        let other = try load(configuration.canonicalJSON.replacingOccurrences(of: "\"5s\"", with: "\"6s\""))
        #expect(other.fingerprint != configuration.fingerprint)
    }

    @Test func defaults() throws {
        let configuration = try load(
            document(upstreams: backend, routes: #"{"name": "api", "match": {"prefix": "/"}, "upstream": "backend"}"#))
        let upstream = try #require(configuration.upstreams.first)
        #expect(
            upstream.targets == [
                UpstreamTargetConfiguration(address: SocketAddressConfiguration(host: "127.0.0.1", port: 9000))
            ])
        #expect(upstream.scheme == .http)
        #expect(upstream.connectTimeout == .seconds(2))
        #expect(upstream.idleTimeout == .seconds(60))
        #expect(upstream.maxConnectionsPerLoop == 64)
        #expect(upstream.loadBalancing == .roundRobin)
        #expect(configuration.routes[0].proxy == RouteProxyConfiguration(upstream: "backend"))
        #expect(configuration.routes[0].proxy?.requestTimeout == .seconds(60))
        // No upstreams and an empty object are the same configuration.
        let empty = try load(document(upstreams: "{}"))
        #expect(empty == (try load(minimalDocument)))
        #expect(empty.fingerprint == (try load(minimalDocument)).fingerprint)
    }

    @Test func rewriteReplacesTheMatchedPart() throws {
        let configuration = try load(
            document(
                upstreams: backend,
                routes: #"""
                    {"name": "a", "match": {"prefix": "/api/"}, "upstream": "backend", "rewrite": "/v2/"},
                    {"name": "b", "match": {"path": "/health"}, "upstream": "backend", "rewrite": "/status"},
                    {"name": "c", "match": {"prefix": "/c/"}, "upstream": "backend", "strip_prefix": false}
                    """#))
        #expect(
            configuration.routes.map { $0.proxy?.pathRewrite } == [
                .replace("/v2/"), .replace("/status"), PathRewrite.none,
            ])
    }

    @Test func httpsUpstream() throws {
        let configuration = try load(
            document(
                upstreams: #"""
                    {"plain": {"targets": [{"address": "127.0.0.1:9000"}], "scheme": "https"},
                     "pinned": {"targets": [{"address": "10.0.0.5:443"}], "scheme": "https",
                                "tls": {"ca_file": "certs/ca.pem", "server_name": "api.internal", "verify": true}},
                     "lax": {"targets": [{"address": "10.0.0.6:443"}], "scheme": "https", "tls": {"verify": false}}}
                    """#))
        let byName = Dictionary(uniqueKeysWithValues: configuration.upstreams.map { ($0.name, $0) })
        #expect(byName["plain"]?.scheme == .https)
        #expect(byName["plain"]?.tls == UpstreamTLSConfiguration())
        #expect(
            byName["pinned"]?.tls
                == UpstreamTLSConfiguration(caFile: "/etc/gateway/certs/ca.pem", serverName: "api.internal"))
        #expect(byName["lax"]?.tls == UpstreamTLSConfiguration(verify: false))
        // Plain HTTP upstreams carry no TLS settings.
        #expect(try load(document(upstreams: backend)).upstreams[0].tls == nil)
        // The TLS settings are part of the fingerprint.
        let verified = try load(
            document(upstreams: #"{"b": {"targets": [{"address": "127.0.0.1:1"}], "scheme": "https"}}"#))
        let unverified = try load(
            document(
                upstreams: #"{"b": {"targets": [{"address": "127.0.0.1:1"}], "scheme": "https", "tls": {"verify": false}}}"#
            ))
        #expect(verified.fingerprint != unverified.fingerprint)
    }

    @Test func httpsUpstreamProblems() {
        #expect(
            problems(
                of: document(
                    upstreams: #"""
                        {"a": {"targets": [{"address": "127.0.0.1:1"}], "tls": {"verify": false}},
                         "b": {"targets": [{"address": "127.0.0.1:1"}], "scheme": "https",
                               "tls": {"ca_file": "", "verify": "no", "server_name": "bad name", "sni": "x"}},
                         "c": {"targets": [{"address": "127.0.0.1:1"}], "scheme": "https", "tls": []}}
                        """#))
                == [
                    #"upstreams.a.tls: only applies to an upstream with "scheme": "https""#,
                    "upstreams.b.tls.sni: unknown key (known keys: ca_file, verify, server_name)",
                    #"upstreams.b.tls.ca_file: must not be empty (leave "ca_file" out to trust the system's roots)"#,
                    "upstreams.b.tls.verify: expected a boolean (true or false)",
                    #"upstreams.b.tls.server_name: invalid server name "bad name" (expected a host name such as "api.example.com")"#,
                    "upstreams.c.tls: expected an object",
                ])
    }

    @Test func consistentHashKeys() throws {
        let byHeader = try load(
            document(
                upstreams: #"""
                    {"a": {"targets": [{"address": "127.0.0.1:1"}], "load_balancing": "consistent_hash",
                           "hash_on": "header", "hash_header": "X-User"},
                     "b": {"targets": [{"address": "127.0.0.1:2"}], "load_balancing": "consistent_hash"}}
                    """#))
        #expect(byHeader.upstreams[0].hashOn == .header("X-User"))
        #expect(byHeader.upstreams[1].hashOn == .clientIP)
        #expect(
            problems(
                of: document(
                    upstreams: #"""
                        {"a": {"targets": [{"address": "127.0.0.1:1"}], "hash_on": "client_ip"},
                         "b": {"targets": [{"address": "127.0.0.1:2"}], "load_balancing": "consistent_hash",
                               "hash_on": "header"},
                         "c": {"targets": [{"address": "127.0.0.1:3"}], "load_balancing": "consistent_hash",
                               "hash_on": "cookie"},
                         "d": {"targets": [{"address": "127.0.0.1:4"}], "load_balancing": "consistent_hash",
                               "hash_header": "X-User"}}
                        """#))
                == [
                    #"upstreams.a.hash_on: only applies with "load_balancing": "consistent_hash""#,
                    #"upstreams.b.hash_header: required with "hash_on": "header""#,
                    #"upstreams.c.hash_on: unknown hash key "cookie" (expected "client_ip" or "header")"#,
                    #"upstreams.d.hash_header: only applies with "hash_on": "header""#,
                ])
    }

    @Test func upstreamProblems() {
        #expect(
            problems(
                of: document(
                    upstreams: #"""
                        {"bad name": {"targets": [{"address": "127.0.0.1:9000"}]},
                         "b": {"targets": [], "scheme": "https"},
                         "c": {"targets": [{"address": "127.0.0.1:0"}, {"address": "nope"}, {"weight": 0}],
                               "load_balancing": "random", "max_connections_per_loop": 0, "connect_timeout": "2"},
                         "d": {"targets": [{"address": "10.0.0.1:80"}, {"address": "10.0.0.1:80", "wieght": 2}],
                               "scheme": "ftp"},
                         "e": []}
                        """#))
                == [
                    #"upstreams["bad name"]: invalid name "bad name" (use only letters, digits, "_", "." and "-")"#,
                    "upstreams.b.targets: must contain at least one target",
                    "upstreams.c.targets[0].address: port 0 cannot be connected to; give the target's port",
                    #"upstreams.c.targets[1].address: expected host:port (e.g. "0.0.0.0:8443" or "[::1]:8443"), got "nope""#,
                    "upstreams.c.targets[2].address: required",
                    "upstreams.c.targets[2].weight: must be at least 1",
                    #"upstreams.c.connect_timeout: invalid duration "2" (expected a number and a unit ms, s, m or h, e.g. "250ms", "1.5s", "2m")"#,
                    "upstreams.c.max_connections_per_loop: must be at least 1",
                    #"upstreams.c.load_balancing: unknown load balancing "random" (expected "round_robin" or "least_request" or "consistent_hash")"#,
                    #"upstreams.d.targets[1].wieght: unknown key (did you mean "weight"?)"#,
                    #"upstreams.d.targets[1].address: duplicate target "10.0.0.1:80" (also upstreams.d.targets[0])"#,
                    #"upstreams.d.scheme: unknown scheme "ftp" (expected "http" or "https")"#,
                    "upstreams.e: expected an object",
                ])
        #expect(problems(of: document(upstreams: "[]")) == ["upstreams: expected an object (upstream name → upstream)"])
        #expect(
            problems(
                of: document(upstreams: #"{"a": {"targets": [{"address": "127.0.0.1:1"}]}, "a": {"targets": []}}"#))
                == ["upstreams.a: duplicate key"])
    }

    @Test func routeProblems() {
        #expect(
            problems(
                of: document(
                    upstreams: backend,
                    routes: #"""
                        {"name": "a", "match": {"prefix": "/a/"}, "upstream": "backnd"},
                        {"name": "b", "match": {"prefix": "/b/"}, "upstream": "backend", "handler": "items"},
                        {"name": "c", "match": {"prefix": "/c/"}, "handler": "items", "strip_prefix": true, "request_timeout": "1s"},
                        {"name": "d", "match": {"path": "/d"}, "upstream": "backend", "strip_prefix": true},
                        {"name": "e", "match": {"prefix": "/e/"}, "upstream": "backend", "strip_prefix": true, "rewrite": "/x/"},
                        {"name": "f", "match": {"prefix": "/f/"}, "upstream": "backend", "rewrite": "v2", "request_timeout": "soon"},
                        {"name": "g", "match": {"prefix": "/g/"}, "upstream": "backend", "strip_prefix": "yes", "rewrite": "/a?b"},
                        {"name": "h", "match": {"prefix": "/h/"}, "upstream": 5}
                        """#))
                == [
                    #"routes[0].upstream: unknown upstream "backnd" (known: "backend")"#,
                    #"routes[1]: "handler" and "upstream" are exclusive; use one of them"#,
                    #"routes[2].strip_prefix: only applies to a route with "upstream""#,
                    #"routes[2].request_timeout: only applies to a route with "upstream""#,
                    #"routes[3].strip_prefix: needs a "prefix" match (use "rewrite" to replace a whole path)"#,
                    #"routes[4].strip_prefix: "strip_prefix" and "rewrite" are exclusive; use one of them"#,
                    #"routes[5].rewrite: must start with "/", got "v2""#,
                    #"routes[5].request_timeout: invalid duration "soon" (expected a number and a unit ms, s, m or h, e.g. "250ms", "1.5s", "2m")"#,
                    "routes[6].strip_prefix: expected a boolean (true or false)",
                    "routes[7].upstream: expected a string",
                ])
        #expect(
            problems(of: document(routes: #"{"name": "a", "match": {"prefix": "/"}, "upstream": "x"}"#))
                == [#"routes[0].upstream: unknown upstream "x" (no upstreams are defined)"#])
    }

    @Test func headerRuleProblems() {
        #expect(
            problems(
                of: document(
                    upstreams: backend,
                    routes: #"""
                        {"name": "a", "match": {"prefix": "/"}, "upstream": "backend",
                         "headers": {"request": {"set": {"x-a": "1", "X-A": "2", "bad name": "v", "x-b": "line\nbreak",
                                                         "Transfer-Encoding": "gzip", "x-c": 1},
                                                 "add": [], "remove": ["Connection", 5], "drop": []},
                                     "response": 1, "both": {}}}
                        """#))
                == [
                    #"routes[0].headers.both: unknown key (known keys: request, response)"#,
                    #"routes[0].headers.request.drop: unknown key (known keys: set, add, remove)"#,
                    #"routes[0].headers.request.set.X-A: header "x-a" appears twice (also routes[0].headers.request.set.x-a)"#,
                    #"routes[0].headers.request.set["bad name"]: invalid header name "bad name" (expected a token such as "X-Api-Version")"#,
                    "routes[0].headers.request.set.x-b: a header value cannot contain control characters (CR, LF, NUL, …)",
                    #"routes[0].headers.request.set.Transfer-Encoding: header "transfer-encoding" is managed by the gateway and cannot be changed"#,
                    "routes[0].headers.request.set.x-c: expected a string",
                    "routes[0].headers.request.add: expected an object (header name → value)",
                    #"routes[0].headers.request.remove[0]: header "connection" is managed by the gateway and cannot be changed"#,
                    "routes[0].headers.request.remove[1]: expected a string",
                    "routes[0].headers.response: expected an object",
                ])
    }
}

@Suite("The shipped examples/proxy.json")
struct ProxyExampleTests {
    @Test func loadsWithTheDocumentedUpstream() throws {
        let path = ShippedConfigurationTests.packageDirectory + "/examples/proxy.json"
        let configuration = try GatewayConfigurationLoader.load(contentsOf: path)
        #expect(configuration.listeners.first?.address == SocketAddressConfiguration(host: "0.0.0.0", port: 8443))
        #expect(configuration.admin.address == SocketAddressConfiguration(host: "127.0.0.1", port: 9901))
        let backend = try #require(configuration.upstreams.first)
        #expect(backend.name == "backend")
        #expect(backend.targets.map(\.address.description) == ["127.0.0.1:9000", "127.0.0.1:9001"])
        #expect(backend.loadBalancing == .roundRobin)
        // Active checks every second on GET /, and retries on, as issue 4 asks.
        #expect(backend.healthCheck?.path == "/")
        #expect(backend.healthCheck?.interval == .seconds(1))
        #expect(backend.retries?.on.connectFailure == true)
        #expect(backend.outlierDetection != nil)
        let api = try #require(configuration.routes.first)
        #expect(api.name == "api")
        #expect(api.match.path == .prefix("/api/"))
        #expect(api.proxy?.upstream == "backend")
        // Development certificates are shared with ./gateway.json.
        #expect(
            configuration.listeners.first?.tls?.certificates.first?.certificatePath
                == ShippedConfigurationTests.packageDirectory + "/certs/localhost.pem")
    }
}

@Suite("Upstream health checks, outlier detection and retries")
struct UpstreamHealthConfigurationTests {
    private static func upstream(_ keys: String) -> String {
        #"{"backend": {"targets": [{"address": "127.0.0.1:9000"}], "#  + keys + "}}"
    }

    @Test func everyKeySet() throws {
        let configuration = try load(
            document(
                upstreams: Self.upstream(
                    #"""
                    "health_check": {"path": "/healthz?full=1", "interval": "2s", "timeout": "500ms",
                                     "healthy_threshold": 1, "unhealthy_threshold": 4, "expected_status": "200,204, 300-308"},
                    "outlier_detection": {"consecutive_failures": 3, "ejection_time": "10s", "max_ejection_time": "2m"},
                    "retries": {"attempts": 2, "on": ["503", "connect-failure", "502"], "budget_percent": 50,
                                "min_retries_per_second": 0}
                    """#)))
        let upstream = try #require(configuration.upstreams.first)
        #expect(
            upstream.healthCheck
                == HealthCheckConfiguration(
                    path: "/healthz?full=1", interval: .seconds(2), timeout: .milliseconds(500), healthyThreshold: 1,
                    unhealthyThreshold: 4, expectedStatus: StatusRanges([200...200, 204...204, 300...308])))
        #expect(upstream.healthCheck?.expectedStatus.description == "200,204,300-308")
        #expect(
            upstream.outlierDetection
                == OutlierDetectionConfiguration(
                    consecutiveFailures: 3, ejectionTime: .seconds(10), maxEjectionTime: .seconds(120)))
        #expect(
            upstream.retries
                == RetryConfiguration(
                    attempts: 2, on: RetryConditions(connectFailure: true, statuses: [502, 503]), budgetPercent: 50,
                    minRetriesPerSecond: 0))
        #expect(upstream.retries?.on.names == ["connect-failure", "502", "503"])
        // The canonical form loads back equal, and the fingerprint sees the new keys.
        let reloaded = try load(configuration.canonicalJSON)
        #expect(reloaded == configuration)
        let other = try load(configuration.canonicalJSON.replacingOccurrences(of: "\"502\"", with: "\"504\""))
        #expect(other.fingerprint != configuration.fingerprint)
    }

    @Test func emptyObjectsTakeTheDefaults() throws {
        let configuration = try load(
            document(upstreams: Self.upstream(#""health_check": {}, "outlier_detection": {}, "retries": {}"#)))
        let upstream = try #require(configuration.upstreams.first)
        #expect(
            upstream.healthCheck
                == HealthCheckConfiguration(
                    path: "/", interval: .seconds(5), timeout: .seconds(1), healthyThreshold: 2, unhealthyThreshold: 3,
                    expectedStatus: StatusRanges([200...399])))
        #expect(
            upstream.outlierDetection
                == OutlierDetectionConfiguration(
                    consecutiveFailures: 5, ejectionTime: .seconds(30), maxEjectionTime: .seconds(300)))
        #expect(
            upstream.retries
                == RetryConfiguration(
                    attempts: 1, on: RetryConditions(connectFailure: true, reset: true), budgetPercent: 20,
                    minRetriesPerSecond: 3))
        // Absent keys: none of the three, and the fingerprint of older files is unchanged.
        let plain = try #require(try load(document(upstreams: backend)).upstreams.first)
        #expect(plain.healthCheck == nil && plain.outlierDetection == nil && plain.retries == nil)
        #expect(!(try load(document(upstreams: backend))).canonicalJSON.contains("health_check"))
        // The default timeout shrinks to a shorter interval.
        let quick = try load(document(upstreams: Self.upstream(#""health_check": {"interval": "200ms"}"#)))
        #expect(quick.upstreams.first?.healthCheck?.timeout == .milliseconds(200))
        // A long ejection time alone raises the cap with it.
        let long = try load(document(upstreams: Self.upstream(#""outlier_detection": {"ejection_time": "10m"}"#)))
        #expect(long.upstreams.first?.outlierDetection?.maxEjectionTime == .seconds(600))
    }

    @Test func problemsHaveTheirPaths() {
        #expect(
            problems(
                of: document(
                    upstreams: Self.upstream(
                        #"""
                        "health_check": {"path": "healthz", "interval": "1s", "timeout": "2s", "healthy_threshold": 0,
                                         "unhealthy_threshold": "3", "expected_status": "200-99", "method": "HEAD"},
                        "outlier_detection": {"consecutive_failures": 0, "ejection_time": "30s", "max_ejection_time": "10s",
                                              "interval": "1s"},
                        "retries": {"attempts": 0, "on": ["connect_failure", 503, "200", "503"], "budget_percent": 150,
                                    "min_retries_per_second": -1}
                        """#)))
                == [
                    #"upstreams.backend.health_check.method: unknown key (known keys: path, interval, timeout, healthy_threshold, unhealthy_threshold, expected_status)"#,
                    #"upstreams.backend.health_check.path: must start with "/", got "healthz""#,
                    #"upstreams.backend.health_check.timeout: must not be longer than the interval (1s)"#,
                    "upstreams.backend.health_check.healthy_threshold: must be at least 1",
                    "upstreams.backend.health_check.unhealthy_threshold: expected an integer",
                    #"upstreams.backend.health_check.expected_status: invalid status list "200-99" (expected codes or ranges in 100-599, e.g. "200-399" or "200,204")"#,
                    #"upstreams.backend.outlier_detection.interval: unknown key (known keys: consecutive_failures, ejection_time, max_ejection_time)"#,
                    "upstreams.backend.outlier_detection.consecutive_failures: must be at least 1",
                    "upstreams.backend.retries.attempts: must be at least 1",
                    #"upstreams.backend.retries.on[0]: unknown retry condition "connect_failure" (expected "connect-failure", "reset" or a status code 400-599 such as "503")"#,
                    "upstreams.backend.retries.on[1]: expected a string",
                    #"upstreams.backend.retries.on[2]: unknown retry condition "200" (expected "connect-failure", "reset" or a status code 400-599 such as "503")"#,
                    "upstreams.backend.retries.budget_percent: must be at most 100",
                    "upstreams.backend.retries.min_retries_per_second: must not be negative",
                ])
        #expect(
            problems(
                of: document(
                    upstreams: Self.upstream(
                        #""health_check": [], "outlier_detection": {"max_ejection_time": "10s"}, "retries": {"on": []}"#)))
                == [
                    "upstreams.backend.health_check: expected an object",
                    "upstreams.backend.outlier_detection.max_ejection_time: must not be shorter than ejection_time (30s)",
                    "upstreams.backend.retries.on: must name at least one condition",
                ])
    }
}
