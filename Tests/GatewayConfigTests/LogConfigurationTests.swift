import GatewayConfig
import Testing

@Suite("log section")
struct LogConfigurationTests {
    @Test func levelDefaultsToInfoAndDecodes() throws {
        #expect(try load(minimalDocument).log.level == .info)
        let warning = #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "log": {"level": "warning"}}"#
        let configuration = try load(warning)
        #expect(configuration.log.level == .warning)
        // Only a non-default level enters the fingerprint, so existing files keep theirs.
        #expect(try load(minimalDocument).fingerprint != configuration.fingerprint)
        let explicitInfo = #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "log": {"level": "info"}}"#
        #expect(try load(minimalDocument).fingerprint == (try load(explicitInfo)).fingerprint)
    }

    @Test func problemsHaveTheirPaths() {
        let base = #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": []"#
        #expect(
            problems(of: base + #", "log": {"level": "verbose"}}"#) == [
                "log.level: unknown level \"verbose\" (known: trace, debug, info, notice, warning, error, critical)"
            ])
        #expect(problems(of: base + #", "log": {"level": 3}}"#) == ["log.level: expected a string"])
        #expect(problems(of: base + #", "log": {"lvl": "info"}}"#).first?.hasPrefix("log.lvl: unknown key") == true)
    }
}
