import Foundation
import GatewayCore
import Testing

private let partnerA = "pa-4f1c9a7e2b8d4c06a9e3"
private let partnerB = "pb-8e2d6b1f0a9c4e37b5d1"

/// `api_keys` with one inline key and one from a file (written by `writeKeyFile`), and an upstream.
private func apiKeyDocument(upstream: ProxyTestUpstream, extra: [String: Any] = [:]) -> [String: Any] {
    var document: [String: Any] = [
        "api_keys": ["partner-a": partnerA, "partner-b": ["file": "keys/partner-b.key"]],
        "upstreams": ["backend": ["targets": [["address": upstream.address]]]],
    ]
    document.merge(extra) { $1 }
    return document
}

private func writeKeyFile(_ directory: URL, _ key: String = partnerB) throws {
    let keys = directory.appendingPathComponent("keys")
    try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
    try Data((key + "\n").utf8).write(to: keys.appendingPathComponent("partner-b.key"))
}

private func route(_ name: String, _ prefix: String, auth: [String: Any], _ extra: [String: Any] = [:]) -> [String: Any] {
    var route: [String: Any] = ["name": name, "match": ["prefix": prefix], "upstream": "backend", "auth": auth]
    route.merge(extra) { $1 }
    return route
}

private func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

/// The error object of a gateway JSON error body.
private func gatewayError(_ answer: HTTPAnswer) throws -> [String: Any] {
    try #require(try json(answer.body)["error"] as? [String: Any])
}

/// What the echo upstream saw: its `uri` and lowercased header names.
private func echoed(_ answer: HTTPAnswer) throws -> (uri: String, headers: [String: [String]]) {
    let body = try json(answer.body)
    return (body["uri"] as? String ?? "", body["headers"] as? [String: [String]] ?? [:])
}

/// `curl -i` off Swift concurrency's threads.
private func request(_ gateway: TestGateway, _ path: String, _ extra: [String] = []) async throws -> HTTPAnswer {
    try await offThePool { try curlWithHeaders(gateway, path, extra) }
}

@Suite("Authentication end to end: API keys and JWTs over TLS", .serialized)
struct AuthEndToEndTests {
    @Test func apiKeysFromTheConfigurationAndAFile() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let recorder = LogRecorder()
        let routes = [
            route("secure", "/secure/", auth: ["api_key": ["header": "X-API-Key"]]),
            route("partners", "/partners/", auth: ["api_key": ["allow": ["partner-b"]], "realm": "partners"]),
            route("query", "/query/", auth: ["api_key": ["query": "api_key"], "hide_credentials": true]),
            route("hidden", "/hidden/", auth: ["api_key": [:], "hide_credentials": true]),
        ]
        var extra = apiKeyDocument(upstream: upstream)
        extra["access_log"] = ["enabled": true]
        let gateway = try await TestGateway.start(
            routes: routes, extra: extra, accessLog: AccessLog(logger: recorder.logger), prepare: { try writeKeyFile($0) })

        // Missing: 401 with the challenge and the JSON error shape.
        let missing = try await request(gateway, "/secure/a", ["-H", "x-request-id: no-key-1"])
        #expect(missing.code == 401)
        #expect(missing.headers["www-authenticate"] == #"ApiKey realm="gateway", header="X-API-Key""#)
        #expect(missing.headers["content-type"] == "application/json")
        let missingError = try gatewayError(missing)
        #expect(missingError["status"] as? Int == 401)
        #expect(missingError["code"] as? String == "unauthorized")
        #expect(missingError["message"] as? String == "An API key is required in the X-API-Key header.")
        #expect(missingError["request_id"] as? String == "no-key-1")

        // Wrong: 401, the key never echoed.
        let wrongKey = partnerA.dropLast() + "x"
        let wrong = try await request(gateway, "/secure/a", ["-H", "X-API-Key: \(wrongKey)"])
        #expect(wrong.code == 401)
        #expect(try gatewayError(wrong)["message"] as? String == "The API key is not valid.")
        #expect(!wrong.body.contains(wrongKey))

        // Accepted, from the configuration and from the file; the header goes upstream unless hidden.
        let accepted = try await request(gateway, "/secure/a?x=1", ["-H", "x-api-key: \(partnerA)"])
        #expect(accepted.code == 200)
        #expect(try echoed(accepted).headers["x-api-key"] == [partnerA])
        #expect(try await request(gateway, "/secure/b", ["-H", "X-API-Key: \(partnerB)"]).code == 200)

        // Sent twice: 401, whichever is right.
        let twice = try await request(gateway, "/secure/a", ["-H", "X-API-Key: \(partnerA)", "-H", "X-API-Key: \(partnerB)"])
        #expect(twice.code == 401)

        // A valid key of a name the route does not allow: 403, no challenge.
        let forbidden = try await request(gateway, "/partners/a", ["-H", "X-API-Key: \(partnerA)"])
        #expect(forbidden.code == 403)
        #expect(forbidden.headers["www-authenticate"] == nil)
        #expect(try gatewayError(forbidden)["code"] as? String == "forbidden")
        #expect(try await request(gateway, "/partners/a", ["-H", "X-API-Key: \(partnerB)"]).code == 200)
        #expect(
            try await request(gateway, "/partners/a").headers["www-authenticate"]
                == #"ApiKey realm="partners", header="X-API-Key""#)

        // In the query, hidden from the upstream; percent-encoding is decoded.
        let encoded = partnerA.replacingOccurrences(of: "-", with: "%2D")
        let query = try await request(gateway, "/query/a?x=1&api_key=\(encoded)&y=2")
        #expect(query.code == 200)
        #expect(try echoed(query).uri == "/query/a?x=1&y=2")
        #expect(try await request(gateway, "/query/a?api_key=\(partnerA)").code == 200)
        #expect(try echoed(try await request(gateway, "/query/a?api_key=\(partnerA)")).uri == "/query/a")
        let queryMissing = try await request(gateway, "/query/a", ["-H", "X-API-Key: \(partnerA)"])
        #expect(queryMissing.code == 401, "this route reads the query only")
        #expect(queryMissing.headers["www-authenticate"] == #"ApiKey realm="gateway", query="api_key""#)
        #expect(try await request(gateway, "/query/a?api_key=\(wrongKey)").code == 401)
        let hidden = try await request(gateway, "/hidden/a", ["-H", "X-API-Key: \(partnerB)"])
        #expect(hidden.code == 200)
        #expect(try echoed(hidden).headers["x-api-key"] == nil)

        // The access log names the key, never shows it.
        let identities = recorder.field("identity")
        let paths = recorder.field("path")
        let statuses = recorder.field("status")
        #expect(statuses.prefix(4) == ["401", "401", "200", "200"])
        #expect(identities.prefix(4) == [nil, nil, "partner-a", "partner-b"])
        #expect(identities[5] == "partner-a", "the 403 names who was refused")
        #expect(paths.contains("/query/a?x=1&api_key=REDACTED&y=2"))
        #expect(paths.contains("/query/a?api_key=REDACTED"))
        let everything = recorder.entries.map { "\($0)" }.joined()
        #expect(!everything.contains(partnerA) && !everything.contains(partnerB) && !everything.contains(String(wrongKey)))

        let metrics = try gateway.scrape()
        #expect(metricValue(metrics, "gateway_auth_decisions_total", ["route": "secure", "result": "allowed"]) == 2)
        #expect(metricValue(metrics, "gateway_auth_decisions_total", ["route": "secure", "result": "missing"]) == 1)
        #expect(metricValue(metrics, "gateway_auth_decisions_total", ["route": "secure", "result": "invalid"]) == 2)
        #expect(metricValue(metrics, "gateway_auth_decisions_total", ["route": "partners", "result": "forbidden"]) == 1)
        let check = try run("/usr/bin/promtool", ["check", "metrics"], input: Data(metrics.utf8))
        #expect(check.status == 0, "promtool: \(check.stdout) \(check.stderr)")
        // Refused requests never reached the upstream: 2 + 1 + 3 + 1 accepted ones did.
        #expect(upstream.requests == 7)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func rateLimitKeyedByIdentity() async throws {
        let upstream = try await ProxyTestUpstream.start()
        var extra = apiKeyDocument(upstream: upstream)
        extra["rate_limits"] = ["per-client": ["limit": "2/min", "key": "identity"]]
        let routes = [route("secure", "/secure/", auth: ["api_key": [:]], ["rate_limits": ["per-client"]])]
        let gateway = try await TestGateway.start(routes: routes, extra: extra, prepare: { try writeKeyFile($0) })
        // One client IP, two identities: each has its own budget.
        let a = try await offThePool { try curlCodes(gateway, "/secure/x", count: 3, ["-H", "X-API-Key: \(partnerA)"]) }
        #expect(a == [200, 200, 429])
        let b = try await offThePool { try curlCodes(gateway, "/secure/x", count: 2, ["-H", "X-API-Key: \(partnerB)"]) }
        #expect(b == [200, 200])
        // Authentication runs first: a wrong key is 401 and spends nobody's budget.
        #expect(try await request(gateway, "/secure/x", ["-H", "X-API-Key: nobody-at-all-0000"]).code == 401)
        let limited = try await request(gateway, "/secure/x", ["-H", "X-API-Key: \(partnerB)"])
        #expect(limited.code == 429)
        #expect(limited.headers["ratelimit-policy"] == #""per-client";q=2;w=60"#)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func apiKeyFileRotatedByAReload() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let routes = [route("secure", "/secure/", auth: ["api_key": [:]])]
        var extra = apiKeyDocument(upstream: upstream)
        extra["reload"] = ["watch": false]
        let gateway = try await TestGateway.start(routes: routes, extra: extra, prepare: { try writeKeyFile($0) })
        #expect(try await request(gateway, "/secure/x", ["-H", "X-API-Key: \(partnerB)"]).code == 200)
        let rotated = "pb-rotated-0c5f1e9d2a7b"
        try writeKeyFile(gateway.directory, rotated)
        let reload = try await gateway.adminReload()
        #expect(reload.code == 200)
        #expect(reload.body.contains("api_keys.partner-b.file: reloaded"), "\(reload.body)")
        #expect(!reload.body.contains(rotated))
        #expect(try await request(gateway, "/secure/x", ["-H", "X-API-Key: \(partnerB)"]).code == 401)
        #expect(try await request(gateway, "/secure/x", ["-H", "X-API-Key: \(rotated)"]).code == 200)
        // A key file that breaks the rules changes nothing, and says where.
        try writeKeyFile(gateway.directory, "short")
        let refused = try await gateway.adminReload()
        #expect(refused.code == 422)
        #expect(refused.body.contains("api_keys.partner-b.file"))
        #expect(!refused.body.contains("short\\n") && !refused.body.contains("\"short\""))
        #expect(try await request(gateway, "/secure/x", ["-H", "X-API-Key: \(rotated)"]).code == 200)
        await gateway.stop()
        await upstream.stop()
    }
}

// MARK: JWT

/// Keys and tokens made by PyJWT (`Tests/GatewayAuthTests/Fixtures/make_jwts.py`)
/// with dates relative to now, so the gateway's clock decides.
private enum PyJWT {
    static let script = GatewayBinary.repositoryRoot
        .appendingPathComponent("Tests/GatewayAuthTests/Fixtures/make_jwts.py").path

    /// Writes `jwks.json` and `tokens.json` into `directory`.
    static func make(in directory: URL) throws {
        let now = Int(Date().timeIntervalSince1970)
        let result = try run("/usr/bin/python3", [script, directory.path, "--now", String(now)])
        guard result.status == 0 else { throw PythonFailed(message: result.stderr) }
    }

    static func tokens(in directory: URL) throws -> [String: String] {
        let data = try Data(contentsOf: directory.appendingPathComponent("tokens.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
    }

    struct PythonFailed: Error {
        var message: String
    }
}

extension AuthEndToEndTests {
    static var jwtRoutes: [[String: Any]] {
        let jwt: [String: Any] = ["jwks": "main", "issuer": "https://issuer.example", "audience": "gateway-tests"]
        var write = jwt
        write["require"] = ["scope": "orders:write"]
        return [
            route("api", "/api/", auth: ["jwt": jwt]),
            route("write", "/write/", auth: ["jwt": write, "hide_credentials": true]),
        ]
    }

    static func jwtGateway(upstream: ProxyTestUpstream, recorder: LogRecorder? = nil) async throws -> TestGateway {
        var extra: [String: Any] = [
            "jwks": ["main": ["file": "jwks.json"]],
            "upstreams": ["backend": ["targets": [["address": upstream.address]]]],
            "reload": ["watch": false],
        ]
        if recorder != nil { extra["access_log"] = ["enabled": true] }
        return try await TestGateway.start(
            routes: Self.jwtRoutes, extra: extra, accessLog: recorder.map { AccessLog(logger: $0.logger) } ?? AccessLog(),
            prepare: { try PyJWT.make(in: $0) })
    }

    @Test func jwtsMadeByPyJWT() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let recorder = LogRecorder()
        let gateway = try await Self.jwtGateway(upstream: upstream, recorder: recorder)
        let tokens = try PyJWT.tokens(in: gateway.directory)
        func call(_ name: String, _ path: String = "/api/x") async throws -> HTTPAnswer {
            try await request(gateway, path, ["-H", "Authorization: Bearer \(tokens[name]!)"])
        }

        for name in ["rs256_valid", "es256_valid", "hs256_valid", "es256_no_kid", "rs256_aud_array"] {
            let answer = try await call(name)
            #expect(answer.code == 200, "\(name): \(answer.body)")
            // Without hide_credentials the upstream gets the token too.
            #expect(try echoed(answer).headers["authorization"] == ["Bearer \(tokens[name]!)"])
        }
        let refused: [(String, String)] = [
            ("rs256_tampered_payload", "The token's signature is invalid"),
            ("rs256_tampered_signature", "The token's signature is invalid"),
            ("es256_tampered_signature", "The token's signature is invalid"),
            ("rs256_expired", "The token has expired"),
            ("rs256_nbf_future", "The token is not valid yet"),
            ("rs256_wrong_issuer", "The token's issuer is not accepted"),
            ("rs256_wrong_audience", "The token's audience is not accepted"),
            ("alg_none", "The token's algorithm is not allowed"),
            ("hs256_confusion_rsa_pem", "No configured key matches the token's key id and algorithm"),
            ("hs256_confusion_no_kid", "The token's signature is invalid"),
            ("rs256_unknown_kid", "No configured key matches the token's key id and algorithm"),
            ("rs256_no_exp", "The token has no exp claim"),
        ]
        for (name, description) in refused {
            let answer = try await call(name)
            #expect(answer.code == 401, "\(name)")
            #expect(
                answer.headers["www-authenticate"]
                    == #"Bearer realm="gateway", error="invalid_token", error_description="\#(description)""#, "\(name)")
            #expect(try gatewayError(answer)["message"] as? String == description + ".", "\(name)")
        }
        // No token, or another scheme: a challenge without an error code (RFC 6750 §3.1).
        for extra in [[String](), ["-u", "user:password"], ["-H", "Authorization: Bearer"]] {
            let answer = try await request(gateway, "/api/x", extra)
            #expect(answer.code == 401)
            #expect(answer.headers["www-authenticate"] == #"Bearer realm="gateway""#)
        }
        // The scheme is case-insensitive.
        #expect(try await request(gateway, "/api/x", ["-H", "Authorization: bearer \(tokens["rs256_valid"]!)"]).code == 200)

        // A valid token without the required scope: 403 insufficient_scope.
        let readOnly = try await call("rs256_scope_read_only", "/write/x")
        #expect(readOnly.code == 403)
        #expect(
            readOnly.headers["www-authenticate"]
                == #"Bearer realm="gateway", error="insufficient_scope", error_description="The token lacks the required scope claim", scope="orders:write""#
        )
        #expect(try gatewayError(readOnly)["code"] as? String == "forbidden")
        #expect(try await call("rs256_no_scope", "/write/x").code == 403)
        let write = try await call("rs256_valid", "/write/x")
        #expect(write.code == 200)
        #expect(try echoed(write).headers["authorization"] == nil, "hide_credentials")
        #expect(try await call("rs256_scope_array", "/write/x").code == 200)
        // Signature before claims: a tampered token is 401 on the scoped route too.
        #expect(try await call("rs256_tampered_payload", "/write/x").code == 401)

        // The identity is `sub`; the token is never logged.
        let identities = recorder.field("identity")
        #expect(identities.prefix(5).allSatisfy { $0 == "user-1" })
        #expect(identities.contains(nil))
        let everything = recorder.entries.map { "\($0)" }.joined()
        #expect(!everything.contains(tokens["rs256_valid"]!))

        let metrics = try gateway.scrape()
        #expect(metricValue(metrics, "gateway_auth_decisions_total", ["route": "api", "result": "allowed"]) == 6)
        #expect(metricValue(metrics, "gateway_auth_decisions_total", ["route": "api", "result": "expired"]) == 1)
        #expect(metricValue(metrics, "gateway_auth_decisions_total", ["route": "api", "result": "invalid"]) == 11)
        #expect(metricValue(metrics, "gateway_auth_decisions_total", ["route": "api", "result": "missing"]) == 3)
        #expect(metricValue(metrics, "gateway_auth_decisions_total", ["route": "write", "result": "forbidden"]) == 2)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func jwksFileRotatedByAReload() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.jwtGateway(upstream: upstream)
        let before = try PyJWT.tokens(in: gateway.directory)
        let bearer = { (token: String) in ["-H", "Authorization: Bearer \(token)"] }
        #expect(try await request(gateway, "/api/x", bearer(before["rs256_valid"]!)).code == 200)
        // New keys in the same file: after a reload the old tokens fail and the new ones pass.
        try PyJWT.make(in: gateway.directory)
        let after = try PyJWT.tokens(in: gateway.directory)
        #expect(try await request(gateway, "/api/x", bearer(after["rs256_valid"]!)).code == 401, "not reloaded yet")
        let reload = try await gateway.adminReload()
        #expect(reload.code == 200)
        #expect(reload.body.contains("jwks.main.file: reloaded"), "\(reload.body)")
        #expect(try await request(gateway, "/api/x", bearer(before["rs256_valid"]!)).code == 401)
        #expect(try await request(gateway, "/api/x", bearer(after["rs256_valid"]!)).code == 200)
        #expect(try await request(gateway, "/api/x", bearer(after["es256_valid"]!)).code == 200)
        // A broken JWKS changes nothing, and says where.
        try Data(#"{"keys": [{"kty": "RSA", "n": "AQAB=", "e": "AQAB"}]}"#.utf8)
            .write(to: gateway.directory.appendingPathComponent("jwks.json"))
        let refused = try await gateway.adminReload()
        #expect(refused.code == 422)
        #expect(refused.body.contains(#"jwks.main.file"#), "\(refused.body)")
        #expect(refused.body.contains(#"keys[0].n: not base64url without padding"#), "\(refused.body)")
        #expect(try await request(gateway, "/api/x", bearer(after["rs256_valid"]!)).code == 200)
        await gateway.stop()
        await upstream.stop()
    }
}

extension AuthEndToEndTests {
    /// The file watcher follows a JWKS in its own directory, as it does certificates.
    @Test func fileWatcherReloadsAChangedJWKS() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let keys = { (directory: URL) in directory.appendingPathComponent("keys") }
        let gateway = try await TestGateway.start(
            routes: Self.jwtRoutes,
            extra: [
                "jwks": ["main": ["file": "keys/jwks.json"]],
                "upstreams": ["backend": ["targets": [["address": upstream.address]]]],
                "reload": ["watch": true, "debounce": "50ms"],
            ],
            prepare: { try PyJWT.make(in: keys($0)) })
        let watcher = Task { try await ConfigurationWatcher(server: gateway.server).run() }
        try await Task.sleep(for: .milliseconds(300))  // the watches are in place
        let before = try PyJWT.tokens(in: keys(gateway.directory))["es256_valid"]!
        #expect(try await request(gateway, "/api/x", ["-H", "Authorization: Bearer \(before)"]).code == 200)
        // Same size and same first 80 bytes as before: only the whole bytes tell the files apart.
        try PyJWT.make(in: keys(gateway.directory))
        let after = try PyJWT.tokens(in: keys(gateway.directory))["es256_valid"]!
        var code = 0
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            code = try await request(gateway, "/api/x", ["-H", "Authorization: Bearer \(after)"]).code
            if code == 200 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(code == 200, "the new key serves without a reload by hand")
        #expect(try await request(gateway, "/api/x", ["-H", "Authorization: Bearer \(before)"]).code == 401)
        watcher.cancel()
        _ = await watcher.result
        await gateway.stop()
        await upstream.stop()
    }
}

// MARK: The shipped example

extension AuthEndToEndTests {
    static let example = GatewayBinary.repositoryRoot.appendingPathComponent("examples/policies.json").path

    @Test func exampleChecksWithAPIKeySetAndNamesTheVariableWithout() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["API_KEY"] = "example-key-0123456789"
        let valid = try run(GatewayBinary.path, ["check", "--config", Self.example], environment: environment)
        #expect(valid.status == 0, "\(valid.stderr)")
        #expect(valid.stdout.contains("configuration is valid"))

        environment["API_KEY"] = nil
        let unset = try run(GatewayBinary.path, ["check", "--config", Self.example], environment: environment)
        #expect(unset.status == 1)
        #expect(
            unset.stderr.contains(
                "api_keys.secure-client: environment variable API_KEY is not set (give a default with ${API_KEY:-default})"),
            "\(unset.stderr)")

        environment["API_KEY"] = "too-short"
        let short = try run(GatewayBinary.path, ["check", "--config", Self.example], environment: environment)
        #expect(short.status == 1)
        #expect(short.stderr.contains("api_keys.secure-client: an API key must be at least 16 characters long"))
        #expect(!short.stderr.contains("too-short"))
    }
}
