import Foundation
import GatewayConfig
import Testing

/// A document with the minimal listener, the given extra top-level members and routes.
private func document(_ members: String, routes: String = "") -> String {
    #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], \#(members), "routes": [\#(routes)]}"#
}

private let keys = #""api_keys": {"partner-a": "0123456789abcdef-a", "partner-b": {"file": "keys/b.key"}}, "jwks": {"main": {"file": "keys/jwks.json"}}"#

@Suite("Authentication configuration: api_keys, jwks, routes[].auth")
struct AuthConfigurationTests {
    @Test func everyKeyDecodes() throws {
        let configuration = try load(
            document(
                keys + #", "rate_limits": {"per-user": {"limit": "10/s", "key": "identity"}}"#,
                routes: #"""
                    {"name": "a", "match": {"prefix": "/a/"}, "handler": "items", "rate_limits": ["per-user"],
                     "auth": {"api_key": {"header": "X-Partner-Key", "query": "api_key", "allow": ["partner-b"]},
                              "realm": "partners", "hide_credentials": true}},
                    {"name": "b", "match": {"prefix": "/b/"}, "handler": "items",
                     "auth": {"jwt": {"jwks": "main", "algorithms": ["RS256", "ES256", "RS256"],
                                      "issuer": ["https://a.example", "https://b.example"], "audience": "api",
                                      "clock_skew": "5s", "require": {"scope": "orders:write", "roles": ["a", "b"]},
                                      "max_token_bytes": 4096}}},
                    {"name": "c", "match": {"prefix": "/c/"}, "handler": "items", "auth": {"api_key": {}}},
                    {"name": "d", "match": {"prefix": "/d/"}, "handler": "items", "auth": {"jwt": {"jwks": "main"}}}
                    """#))
        #expect(
            configuration.apiKeys == [
                APIKeyConfiguration(name: "partner-a", source: .inline("0123456789abcdef-a")),
                APIKeyConfiguration(name: "partner-b", source: .file(testBaseDirectory + "/keys/b.key")),
            ])
        #expect(configuration.jwks == [JWKSConfiguration(name: "main", file: testBaseDirectory + "/keys/jwks.json")])
        #expect(configuration.rateLimits.first?.key == .identity)
        let auths = configuration.routes.map(\.auth)
        #expect(
            auths[0]
                == RouteAuthConfiguration(
                    method: .apiKey(APIKeyAuthConfiguration(header: "X-Partner-Key", query: "api_key", allow: ["partner-b"])),
                    realm: "partners", hideCredentials: true))
        #expect(
            auths[1]
                == RouteAuthConfiguration(
                    method: .jwt(
                        JWTAuthConfiguration(
                            jwks: "main", algorithms: ["RS256", "ES256"],
                            issuers: ["https://a.example", "https://b.example"], audiences: ["api"],
                            clockSkew: .seconds(5),
                            required: [
                                .init(name: "scope", values: ["orders:write"]), .init(name: "roles", values: ["a", "b"]),
                            ], maxTokenBytes: 4096))))
        // Defaults: the X-API-Key header, every key; every algorithm, 60 s of skew, 8 KiB tokens, realm "gateway".
        #expect(auths[2] == RouteAuthConfiguration(method: .apiKey(APIKeyAuthConfiguration(header: "X-API-Key"))))
        #expect(auths[3] == RouteAuthConfiguration(method: .jwt(JWTAuthConfiguration(jwks: "main"))))
        #expect(auths[3]?.realm == "gateway")
        #expect(auths[3]?.hideCredentials == false)
        if case .jwt(let jwt) = auths[3]?.method {
            #expect(jwt.algorithms == ["HS256", "RS256", "ES256"])
            #expect(jwt.clockSkew == .seconds(60))
            #expect(jwt.maxTokenBytes == 8192)
        }
    }

    @Test func inlineKeysStayOutOfTheCanonicalFormAndTheFingerprint() throws {
        let one = try load(document(keys))
        let other = try load(document(keys.replacingOccurrences(of: "0123456789abcdef-a", with: "fedcba9876543210-a")))
        #expect(!one.canonicalJSON.contains("0123456789abcdef-a"))
        #expect(one.canonicalJSON.contains(#""partner-a":"<redacted>""#))
        #expect(one.fingerprint == other.fingerprint)
        #expect(one != other, "a reload still sees the key change")
        // File-based keys and everything else load back from the canonical form.
        let routes = #"{"name": "d", "match": {"prefix": "/d/"}, "handler": "items", "auth": {"jwt": {"jwks": "main", "require": {"scope": "x"}}}}"#
        let files = try load(
            document(#""api_keys": {"b": {"file": "keys/b.key"}}, "jwks": {"main": {"file": "keys/jwks.json"}}"#, routes: routes))
        #expect(try load(files.canonicalJSON) == files)
        #expect(files.fingerprint != (try load(minimalDocument)).fingerprint)
    }

    @Test func problemsWithTheirPaths() {
        #expect(
            problems(of: document(#""api_keys": {"short": "abc", "spaced": "0123456789 abcdef", "bad name": "0123456789abcdef", "n": 1, "f": {"path": "x"}}"#))
                == [
                    "api_keys.short: an API key must be at least 16 characters long (it has 3)",
                    "api_keys.spaced: an API key may only contain visible ASCII characters (no spaces or control characters)",
                    #"api_keys["bad name"]: invalid name "bad name" (use only letters, digits, "_", "." and "-")"#,
                    #"api_keys.n: expected a string (the key, e.g. "${API_KEY}") or {"file": path}"#,
                    #"api_keys.f.path: unknown key (known keys: file)"#,
                    #"api_keys.f.file: required"#,
                ])
        // Secrets are never echoed.
        #expect(!problems(of: document(#""api_keys": {"k": "secret-but-short"}"#)).joined().contains("secret"))
        #expect(
            problems(
                of: document(
                    keys,
                    routes: #"""
                        {"name": "a", "match": {"path": "/a"}, "handler": "items", "auth": {"api_key": {"allow": ["partner-a", "nobody", "partner-a"]}}},
                        {"name": "b", "match": {"path": "/b"}, "handler": "items", "auth": {"api_key": {"allow": []}, "jwt": {"jwks": "main"}}},
                        {"name": "c", "match": {"path": "/c"}, "handler": "items", "auth": {"jwt": {"jwks": "other", "algorithms": ["none", "HS512"]}}},
                        {"name": "d", "match": {"path": "/d"}, "handler": "items", "auth": {"jwt": {"jwks": "main", "issuer": [], "audience": 3, "require": {"scope": "a b"}, "clock_skew": "0s"}}},
                        {"name": "e", "match": {"path": "/e"}, "handler": "items", "auth": {"api_key": {"header": "X Key", "query": "a&b"}, "realm": "a\"b"}},
                        {"name": "f", "match": {"path": "/f"}, "handler": "items", "auth": {}}
                        """#))
                == [
                    #"routes[0].auth.api_key.allow[1]: unknown API key "nobody" (known: "partner-a", "partner-b")"#,
                    #"routes[0].auth.api_key.allow[2]: "partner-a" is listed twice"#,
                    #"routes[1].auth: "api_key" and "jwt" are exclusive; use one of them"#,
                    #"routes[2].auth.jwt.jwks: unknown JWKS "other" (known: "main")"#,
                    #"routes[2].auth.jwt.algorithms[0]: unsupported algorithm "none" (expected HS256, RS256 or ES256; unsigned tokens are never accepted)"#,
                    #"routes[2].auth.jwt.algorithms[1]: unsupported algorithm "HS512" (expected HS256, RS256 or ES256)"#,
                    "routes[3].auth.jwt.issuer: must not be empty",
                    "routes[3].auth.jwt.audience: expected a string or an array of strings",
                    #"routes[3].auth.jwt.clock_skew: duration must be greater than 0, got "0s""#,
                    "routes[3].auth.jwt.require.scope: a required value cannot contain a space (a string claim is read as space-separated words)",
                    #"routes[4].auth.api_key.header: invalid header name (expected a token such as "X-API-Key")"#,
                    #"routes[4].auth.api_key.query: invalid query parameter name (letters, digits, "-", ".", "_" and "~" only)"#,
                    #"routes[4].auth.realm: must be printable ASCII without " or \ (it is sent in WWW-Authenticate)"#,
                    #"routes[5].auth: one of "api_key" or "jwt" is required"#,
                ])
        #expect(
            problems(of: document(#""jwks": {"j": {}}"#, routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items", "auth": {"api_key": {}}}"#))
                == ["jwks.j.file: required", #"routes[0].auth.api_key: no "api_keys" are defined"#])
    }

    @Test func identityRateLimitsNeedAuth() {
        let policies = #""rate_limits": {"per-user": {"limit": "10/s", "key": "identity"}, "per-ip": {"limit": "10/s"}}"#
        #expect(
            problems(
                of: document(
                    policies,
                    routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items", "rate_limits": ["per-ip", "per-user"]}"#))
                == [#"routes[0].rate_limits: policy "per-user" counts by identity, which needs "auth" on the route"#])
        #expect(
            problems(
                of: document(
                    policies + #", "default_rate_limits": ["per-user"]"#,
                    routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items"}"#))
                == [
                    #"routes[0]: default_rate_limits policy "per-user" counts by identity, which needs "auth" on the route (or give the route its own "rate_limits")"#
                ])
        #expect(
            problems(
                of: document(
                    policies + ", " + keys + #", "default_rate_limits": ["per-user"]"#,
                    routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items", "auth": {"api_key": {}}}, {"name": "b", "match": {"path": "/b"}, "handler": "items", "rate_limits": ["per-ip"]}"#))
                == [])
        #expect(
            problems(of: document(#""rate_limits": {"p": {"limit": "10/s", "key": "user"}}"#))
                == [#"rate_limits.p.key: unknown key "user" (expected "client_ip", "identity", "route" or {"header": "X-API-Key"})"#])
    }

    @Test func anUnsetVariableIsAProblemAtTheKeysPath() {
        let error = #expect(throws: ConfigurationError.self) {
            try GatewayConfigurationLoader.load(
                data: Array(document(#""api_keys": {"secure-client": "${API_KEY}"}"#).utf8), baseDirectory: "/tmp",
                environment: [:])
        }
        #expect(
            error?.problems.map(\.description) == [
                "api_keys.secure-client: environment variable API_KEY is not set (give a default with ${API_KEY:-default})"
            ])
    }
}

@Suite("The shipped examples/policies.json: authentication")
struct PoliciesExampleAuthTests {
    static let path = ShippedConfigurationTests.packageDirectory + "/examples/policies.json"

    @Test func secureRouteWantsTheKeyFromAPIKeyInXAPIKey() throws {
        let configuration = try GatewayConfigurationLoader.load(
            contentsOf: Self.path, environment: ["API_KEY": "example-key-0123456789"])
        #expect(configuration.apiKeys == [APIKeyConfiguration(name: "secure-client", source: .inline("example-key-0123456789"))])
        let secure = try #require(configuration.routes.first { $0.name == "secure" })
        #expect(secure.match.path == .prefix("/secure/"))
        #expect(secure.proxy?.upstream == "backend")
        #expect(configuration.upstreams.first { $0.name == "backend" }?.targets.map(\.address.description) == ["127.0.0.1:9000"])
        #expect(secure.auth == RouteAuthConfiguration(method: .apiKey(APIKeyAuthConfiguration(header: "X-API-Key"))))
        #expect(configuration.listeners.first?.address.port == 8443)
        #expect(configuration.admin.address.description == "127.0.0.1:9901")
        let reports = try #require(configuration.routes.first { $0.name == "reports" })
        guard case .jwt(let jwt) = reports.auth?.method else {
            Issue.record("reports is a JWT route")
            return
        }
        #expect(configuration.jwks.first { $0.name == jwt.jwks }?.file.hasSuffix("/examples/keys/jwks.json") == true)
    }
}
