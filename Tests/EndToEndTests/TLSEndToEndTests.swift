import Foundation
import GatewayTLS
import Testing

@Suite("TLS end to end", .serialized)
struct TLSEndToEndTests {
    @Test func curlOverTLS13() async throws {
        let gateway = try await TestGateway.start()
        let result = try curl(gateway, "/items/42?q=hello", ["--tlsv1.3", "-v"])
        #expect(result.code == 200)
        #expect(result.body == #"{"item_id":42,"q":"hello"}"#)
        #expect(result.stderr.contains("TLSv1.3"))
        #expect(result.stderr.contains("ALPN: server accepted http/1.1"))
        await gateway.stop()
    }

    @Test func curlOverTLS12() async throws {
        let gateway = try await TestGateway.start()
        let result = try curl(gateway, "/items/7", ["--tlsv1.2", "--tls-max", "1.2", "-v"])
        #expect(result.code == 200)
        #expect(result.body == #"{"item_id":7,"q":null}"#)
        #expect(result.stderr.contains("TLSv1.2"))
        #expect(result.stderr.contains("ECDHE"))
        await gateway.stop()
    }

    @Test func opensslClientRefusedOnTLS11() async throws {
        let gateway = try await TestGateway.start()
        // SECLEVEL=0 lets the client offer TLS 1.1, so the refusal is the gateway's.
        let refused = try run(
            "/usr/bin/openssl",
            ["s_client", "-connect", "127.0.0.1:\(gateway.httpsPort)", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
            input: Data())
        #expect(refused.status != 0)
        #expect(!refused.stdout.contains("Cipher is ECDHE"))
        let accepted = try run(
            "/usr/bin/openssl",
            ["s_client", "-connect", "127.0.0.1:\(gateway.httpsPort)", "-tls1_2", "-CAfile", gateway.caPath,
             "-servername", "localhost", "-verify_return_error"],
            input: Data())
        #expect(accepted.status == 0)
        #expect(accepted.stdout.contains("Verify return code: 0 (ok)"))
        await gateway.stop()
    }

    @Test func minimumVersionTLS13RefusesTLS12() async throws {
        let gateway = try await TestGateway.start(tls: ["min_version": "TLSv1.3"])
        let refused = try curl(gateway, "/items/1", ["--tlsv1.2", "--tls-max", "1.2"])
        #expect(refused.code == 0)
        let accepted = try curl(gateway, "/items/1", ["--tlsv1.3"])
        #expect(accepted.code == 200)
        await gateway.stop()
    }

    @Test func sniChoosesBetweenCertificates() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sni-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        _ = try DevelopmentCertificates.ensure(
            caCertificatePath: scratch.appendingPathComponent("api-ca.pem").path,
            caKeyPath: scratch.appendingPathComponent("api-ca-key.pem").path,
            certificatePath: scratch.appendingPathComponent("api.pem").path,
            keyPath: scratch.appendingPathComponent("api-key.pem").path,
            hostnames: ["api.test"], ipAddresses: [])
        let gateway = try await TestGateway.start(extraCertificates: [
            [
                "name": "api", "certificate": scratch.appendingPathComponent("api.pem").path,
                "key": scratch.appendingPathComponent("api-key.pem").path, "server_names": ["api.test"],
            ]
        ])
        func subject(serverName: String) throws -> String {
            let result = try run(
                "/usr/bin/openssl",
                ["s_client", "-connect", "127.0.0.1:\(gateway.httpsPort)", "-servername", serverName], input: Data())
            return result.stdout.split(separator: "\n").first { $0.hasPrefix("subject=") }.map(String.init) ?? ""
        }
        #expect(try subject(serverName: "api.test").contains("api.test"))
        #expect(try subject(serverName: "localhost").contains("localhost"))
        #expect(try subject(serverName: "unknown.example").contains("localhost"))

        let viaSNI = try run(
            "/usr/bin/curl",
            ["-sS", "--cacert", scratch.appendingPathComponent("api-ca.pem").path, "--resolve",
             "api.test:\(gateway.httpsPort):127.0.0.1", "https://api.test:\(gateway.httpsPort)/items/5"])
        #expect(viaSNI.stdout == #"{"item_id":5,"q":null}"#)
        await gateway.stop()
    }

    @Test func handshakeMetricsCountVersions() async throws {
        let gateway = try await TestGateway.start()
        _ = try curl(gateway, "/items/1", ["--tlsv1.3"])
        _ = try curl(gateway, "/items/1", ["--tlsv1.2", "--tls-max", "1.2"])
        _ = try run("/usr/bin/curl", ["-sS", "--tlsv1.3", gateway.url("/items/1")])  // untrusted: client aborts
        let metrics = try run("/usr/bin/curl", ["-sS", "http://127.0.0.1:\(gateway.adminPort)/metrics"]).stdout
        #expect(metrics.contains(#"gateway_tls_handshakes_total{result="success",version="TLSv1.3"} 1"#))
        #expect(metrics.contains(#"gateway_tls_handshakes_total{result="success",version="TLSv1.2"} 1"#))
        #expect(metrics.contains(#"gateway_tls_handshakes_total{result="failure",version="unknown"} 1"#))
        #expect(metrics.contains("gateway_tls_certificate_expiry_timestamp_seconds{name=\"localhost\"}"))
        await gateway.stop()
    }
}
