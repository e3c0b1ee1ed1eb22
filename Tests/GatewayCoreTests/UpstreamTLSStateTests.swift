import GatewayConfig
import Testing

@testable import GatewayCore

@Suite("HTTPS upstreams when the state is compiled")
struct UpstreamTLSStateTests {
    private func state(_ tls: String) throws -> GatewayState {
        let json = #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [],
             "upstreams": {"secure": {"targets": [{"address": "127.0.0.1:1"}], "scheme": "https", "tls": \#(tls)}}}
            """#
        let configuration = try GatewayConfigurationLoader.load(
            data: Array(json.utf8), baseDirectory: "/", environment: [:])
        return try GatewayState(configuration: configuration)
    }

    @Test func anUnreadableCAFileIsAProblemAtTheUpstreamsTLS() throws {
        let error = try #require(throws: GatewayStateError.self) {
            try state(#"{"ca_file": "/nonexistent/ca.pem"}"#)
        }
        #expect(error.problems.map(\.path) == ["upstreams.secure.tls"])
        #expect(error.problems.first?.message.contains("/nonexistent/ca.pem") == true)
    }

    @Test func systemRootsAndNoVerificationCompile() throws {
        _ = try state("{}")
        _ = try state(#"{"verify": false}"#)
    }
}
