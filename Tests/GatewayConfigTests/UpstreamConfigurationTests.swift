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
                    #"upstreams.b.scheme: HTTPS upstreams are not supported yet (use "http")"#,
                    "upstreams.c.targets[0].address: port 0 cannot be connected to; give the target's port",
                    #"upstreams.c.targets[1].address: expected host:port (e.g. "0.0.0.0:8443" or "[::1]:8443"), got "nope""#,
                    "upstreams.c.targets[2].address: required",
                    "upstreams.c.targets[2].weight: must be at least 1",
                    #"upstreams.c.connect_timeout: invalid duration "2" (expected a number and a unit ms, s, m or h, e.g. "250ms", "1.5s", "2m")"#,
                    "upstreams.c.max_connections_per_loop: must be at least 1",
                    #"upstreams.c.load_balancing: unknown load balancing "random" (expected "round_robin" or "least_request")"#,
                    #"upstreams.d.targets[1].wieght: unknown key (did you mean "weight"?)"#,
                    #"upstreams.d.targets[1].address: duplicate target "10.0.0.1:80" (also upstreams.d.targets[0])"#,
                    #"upstreams.d.scheme: unknown scheme "ftp" (expected "http")"#,
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
