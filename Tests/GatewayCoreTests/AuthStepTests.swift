import Foundation
import GatewayConfig
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("The authentication step")
struct AuthStepTests {
    static let key = "0123456789abcdef-key"

    private func state(_ routeAuth: String, extra: String = "") throws -> GatewayState {
        let json = #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:0"}],
             "api_keys": {"a": "\#(Self.key)", "b": "0123456789abcdef-b"}, \#(extra)
             "routes": [{"name": "r", "match": {"prefix": "/r/"}, "handler": "items", "auth": \#(routeAuth)}]}
            """#
        let configuration = try GatewayConfigurationLoader.load(
            data: Array(json.utf8), baseDirectory: "/", environment: [:])
        return try GatewayState(configuration: configuration)
    }

    private func head(_ headers: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: "/r/x", headers: HTTPHeaders(headers))
    }

    private func identity(_ outcome: RouteAuth.Outcome) -> String? {
        if case .allowed(let identity) = outcome { return identity }
        return nil
    }

    private func refusal(_ outcome: RouteAuth.Outcome) -> (status: Int, result: RouteAuth.Result)? {
        if case .refused(let refusal, _) = outcome { return (Int(refusal.error.status.code), refusal.result) }
        return nil
    }

    @Test func headerAndQueryLookup() throws {
        let auth = try #require(try state(#"{"api_key": {"header": "X-Key", "query": "k"}}"#).routes[0].auth)
        #expect(identity(auth.authenticate(head([("x-key", Self.key)]), query: nil, now: 0)) == "a")
        #expect(identity(auth.authenticate(head([]), query: "z=1&k=\(Self.key)", now: 0)) == "a")
        // The header wins when both are sent.
        #expect(identity(auth.authenticate(head([("X-KEY", "0123456789abcdef-b")]), query: "k=\(Self.key)", now: 0)) == "b")
        #expect(refusal(auth.authenticate(head([]), query: "kk=\(Self.key)", now: 0))?.result == .missing)
        #expect(refusal(auth.authenticate(head([]), query: "k=\(Self.key)&k=\(Self.key)", now: 0))?.result == .invalid)
        #expect(refusal(auth.authenticate(head([("x-key", "a"), ("x-key", "b")]), query: nil, now: 0))?.result == .invalid)
        #expect(refusal(auth.authenticate(head([]), query: "k=\(Self.key)%4", now: 0))?.result == .invalid)
    }

    @Test func allowListGives403WithTheIdentity() throws {
        let auth = try #require(try state(#"{"api_key": {"allow": ["b"]}}"#).routes[0].auth)
        guard case .refused(let refusal, let refusedIdentity) = auth.authenticate(head([("x-api-key", Self.key)]), query: nil, now: 0)
        else {
            Issue.record("key a is not allowed")
            return
        }
        #expect(refusal.error.status == .forbidden)
        #expect(refusal.challenge == nil)
        #expect(refusedIdentity == "a")
        #expect(identity(auth.authenticate(head([("x-api-key", "0123456789abcdef-b")]), query: nil, now: 0)) == "b")
    }

    @Test func credentialLocationHelpers() {
        #expect(CredentialLocation.bearerToken("Bearer abc") == "abc")
        #expect(CredentialLocation.bearerToken("BEARER   abc") == "abc")
        #expect(CredentialLocation.bearerToken("Bearer") == nil)
        #expect(CredentialLocation.bearerToken("Bearer ") == nil)
        #expect(CredentialLocation.bearerToken("Bearerabc") == nil)
        #expect(CredentialLocation.bearerToken("Basic dXNlcjpwYXNz") == nil)
        #expect(CredentialLocation.removing("k", from: "a=1&k=2&b=3") == "a=1&b=3")
        #expect(CredentialLocation.removing("k", from: "k=2") == nil)
        #expect(CredentialLocation.removing("k", from: "kk=2&k") == "kk=2")
        #expect(CredentialLocation.redacting("k", in: "/p?a=1&k=secret&b") == "/p?a=1&k=REDACTED&b")
        #expect(CredentialLocation.redacting("k", in: "/p") == "/p")
        #expect(CredentialLocation.query("k", in: "a=1&k=a%2Db") == .value("a-b"))
        #expect(CredentialLocation.query("k", in: nil) == .none)
        #expect(CredentialLocation.equalsIgnoringCase("X-Api-Key", "x-api-KEY"))
        #expect(!CredentialLocation.equalsIgnoringCase("x-api-key[", "x-api-key{"), "only letters fold")
    }

    @Test func compilingReadsKeyFilesAndNamesWhatIsWrong() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("auth-step-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("  \(Self.key)\n".utf8).write(to: directory.appendingPathComponent("same.key"))
        try Data(#"{"keys": [{"kty": "oct", "k": "AAAA"}]}"#.utf8).write(to: directory.appendingPathComponent("jwks.json"))
        let json = #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:0"}],
             "api_keys": {"a": "\#(Self.key)", "same": {"file": "same.key"}, "gone": {"file": "gone.key"}},
             "jwks": {"bad": {"file": "jwks.json"}, "missing": {"file": "none.json"}},
             "routes": []}
            """#
        let configuration = try GatewayConfigurationLoader.load(
            data: Array(json.utf8), baseDirectory: directory.path, environment: [:])
        let error = #expect(throws: GatewayStateError.self) { try GatewayState(configuration: configuration) }
        let problems = error?.problems.map(\.description) ?? []
        #expect(
            problems == [
                #"api_keys.gone.file: cannot read "\#(directory.path)/gone.key": no such file"#,
                "api_keys.same: the same key as api_keys.a; each name needs its own key",
                #"jwks.bad.file: "\#(directory.path)/jwks.json": keys[0].k: an HS256 key must be at least 32 bytes, got 3"#,
                #"jwks.missing.file: cannot read "\#(directory.path)/none.json": no such file"#,
            ])
        #expect(!problems.joined().contains(Self.key))
    }

    @Test func aRouteWhoseAlgorithmsNoKeyVerifiesIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("auth-step-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secret = String(repeating: "A", count: 43)
        try Data(#"{"keys": [{"kty": "oct", "k": "\#(secret)"}]}"#.utf8).write(to: directory.appendingPathComponent("jwks.json"))
        let json = #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "jwks": {"main": {"file": "jwks.json"}},
             "routes": [{"name": "r", "match": {"prefix": "/r/"}, "handler": "items", "auth": {"jwt": {"jwks": "main", "algorithms": ["RS256", "ES256"]}}},
                        {"name": "s", "match": {"prefix": "/s/"}, "handler": "items", "auth": {"jwt": {"jwks": "main"}}}]}
            """#
        let configuration = try GatewayConfigurationLoader.load(
            data: Array(json.utf8), baseDirectory: directory.path, environment: [:])
        let error = #expect(throws: GatewayStateError.self) { try GatewayState(configuration: configuration) }
        #expect(
            error?.problems.map(\.description) == [
                #"routes[0].auth.jwt.algorithms: no key of jwks "main" verifies RS256, ES256"#
            ])
    }
}
