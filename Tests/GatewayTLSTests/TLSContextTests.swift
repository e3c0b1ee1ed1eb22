import Foundation
import GatewayTLS
import NIOCore
import NIOEmbedded
import Testing

@Suite("Server and client contexts")
struct TLSContextTests {
    // MARK: SNI

    /// Three certificates from one CA: localhost (default), api.example.com and *.apps.example.com.
    private func sniContext(_ certificates: CertificateFixture) throws -> TLSServerContext {
        let api = try certificates.makeLeaf(named: "api", hostnames: ["api.example.com"])
        let apps = try certificates.makeLeaf(named: "apps", hostnames: ["*.apps.example.com"])
        return try TLSServerContext(
            configuration: TLSServerConfiguration(certificates: [
                certificates.source,
                TLSCertificateSource(
                    name: "api",
                    certificatePath: api.certificatePath,
                    keyPath: api.keyPath,
                    serverNames: ["API.example.com"]
                ),
                TLSCertificateSource(
                    name: "apps",
                    certificatePath: apps.certificatePath,
                    keyPath: apps.keyPath,
                    serverNames: ["*.apps.example.com"]
                ),
            ])
        )
    }

    @Test(
        "SNI selects the certificate by exact name (any case) or wildcard, else the default",
        arguments: [
            ("api.example.com", "CN=api.example.com"),
            ("Api.Example.COM", "CN=api.example.com"),
            ("one.apps.example.com", "CN=*.apps.example.com"),
            ("two.one.apps.example.com", "CN=localhost"),
            ("unknown.example.org", "CN=localhost"),
            ("localhost", "CN=localhost"),
        ]
    )
    func sni(serverName: String, expectedCommonName: String) throws {
        let certificates = try CertificateFixture()
        let server = try self.sniContext(certificates)
        // Verification is off: the point is which certificate the server picks.
        let client = try TLSClientContext(trustRootsPath: certificates.caCertificatePath, verifyPeer: false)
        let pair = try TLSPair(server: server, client: client, serverHostname: serverName)
        defer { pair.close() }
        try pair.connect()

        let subject = try #require(pair.clientHandler.peerCertificateSubject)
        #expect(subject.hasPrefix(expectedCommonName + ","))
        #expect(pair.serverHandler.localCertificateSubject == subject)
        #expect(pair.serverRecorder.handshakeInfo?.serverName == serverName)
    }

    @Test("without SNI the default certificate is used")
    func noServerName() throws {
        let certificates = try CertificateFixture()
        let server = try self.sniContext(certificates)
        let client = try TLSClientContext(trustRootsPath: certificates.caCertificatePath, verifyPeer: false)
        let pair = try TLSPair(server: server, client: client, serverHostname: nil)
        defer { pair.close() }
        try pair.connect()
        #expect(pair.clientHandler.peerCertificateSubject?.hasPrefix("CN=localhost,") == true)
        #expect(pair.serverRecorder.handshakeInfo?.serverName == nil)
    }

    @Test("a verifying client accepts the SNI-selected certificate for its host name")
    func sniWithVerification() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(
            server: try self.sniContext(certificates),
            client: try certificates.clientContext(),
            serverHostname: "x.apps.example.com"
        )
        defer { pair.close() }
        try pair.connect()
        #expect(pair.clientRecorder.errors.isEmpty)
        #expect(pair.clientRecorder.handshakeInfo != nil)
    }

    @Test("loaded certificates report name, subject and expiry")
    func loadedCertificates() throws {
        let certificates = try CertificateFixture()
        let context = try self.sniContext(certificates)
        #expect(context.certificates.map(\.name) == ["default", "api", "apps"])
        #expect(context.certificates[1].serverNames == ["API.example.com"])
        #expect(context.certificates[1].subject == "CN=api.example.com,O=Gateway Development")
        let notAfter = context.certificates[0].notAfter.timeIntervalSinceNow
        #expect(abs(notAfter - 824 * 86_400) < 3_600)
    }

    // MARK: Bad files

    @Test("a missing certificate file is an error naming the file")
    func missingCertificate() throws {
        let certificates = try CertificateFixture()
        let missing = certificates.directory.file("nope.pem")
        let error = try #require(throws: TLSError.self) {
            try TLSServerContext(
                configuration: TLSServerConfiguration(certificates: [
                    TLSCertificateSource(name: "x", certificatePath: missing, keyPath: certificates.keyPath)
                ])
            )
        }
        #expect(error.kind == .invalidCertificate)
        #expect(error.file == missing)
        #expect(error.description.contains("cannot load certificate \(missing)"))
        #expect(error.description.contains("No such file"))
    }

    @Test("a file that is not a certificate is an error with OpenSSL's reasons")
    func garbageCertificate() throws {
        let certificates = try CertificateFixture()
        let garbage = certificates.directory.file("garbage.pem")
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let error = try #require(throws: TLSError.self) {
            try TLSServerContext(
                configuration: TLSServerConfiguration(certificates: [
                    TLSCertificateSource(name: "x", certificatePath: garbage, keyPath: certificates.keyPath)
                ])
            )
        }
        #expect(error.kind == .invalidCertificate)
        #expect(error.description.contains(garbage))
        #expect(!error.openSSLErrors.isEmpty)
    }

    @Test("a file that is not a key is an error naming the file")
    func garbageKey() throws {
        let certificates = try CertificateFixture()
        let error = try #require(throws: TLSError.self) {
            try TLSServerContext(
                configuration: TLSServerConfiguration(certificates: [
                    TLSCertificateSource(
                        name: "x",
                        certificatePath: certificates.certificatePath,
                        keyPath: certificates.certificatePath
                    )
                ])
            )
        }
        #expect(error.kind == .invalidPrivateKey)
        #expect(error.description.contains("cannot load private key \(certificates.certificatePath)"))
        #expect(!error.openSSLErrors.isEmpty)
    }

    @Test("a key of another certificate is a key mismatch")
    func mismatchedKey() throws {
        let certificates = try CertificateFixture()
        let other = try certificates.makeLeaf(named: "other", hostnames: ["other.example.com"])
        let error = try #require(throws: TLSError.self) {
            try TLSServerContext(
                configuration: TLSServerConfiguration(certificates: [
                    TLSCertificateSource(
                        name: "x", certificatePath: certificates.certificatePath, keyPath: other.keyPath)
                ])
            )
        }
        #expect(error.kind == .keyMismatch)
        #expect(error.description.contains(other.keyPath))
        #expect(error.description.contains(certificates.certificatePath))
    }

    @Test("an invalid cipher list is a context setup error")
    func badCipherList() throws {
        let certificates = try CertificateFixture()
        let error = try #require(throws: TLSError.self) {
            try TLSServerContext(
                configuration: TLSServerConfiguration(certificates: [certificates.source], cipherList: "NOPE-NOTHING")
            )
        }
        #expect(error.kind == .contextSetup)
    }

    // MARK: Client verification

    @Test("the client refuses a certificate from a CA it does not trust")
    func untrustedCertificateAuthority() throws {
        let certificates = try CertificateFixture()
        let otherCA = try CertificateFixture(prefix: "other-")
        let pair = try TLSPair(server: try certificates.serverContext(), client: try otherCA.clientContext())
        defer { pair.close() }
        try pair.connect()

        let error = try #require(pair.clientRecorder.tlsErrors.first)
        #expect(error.kind == .handshakeFailed)
        #expect(error.description.contains("certificate verify failed"))
        #expect(pair.clientRecorder.handshakeInfo == nil)
        #expect(!pair.client.isActive)
    }

    @Test("the client refuses a certificate for another host name")
    func hostnameMismatch() throws {
        let certificates = try CertificateFixture()
        let pair = try TLSPair(
            server: try certificates.serverContext(),
            client: try certificates.clientContext(),
            serverHostname: "api.example.com"
        )
        defer { pair.close() }
        try pair.connect()

        let error = try #require(pair.clientRecorder.tlsErrors.first)
        #expect(error.kind == .handshakeFailed)
        #expect(error.description.contains("hostname mismatch"))
    }

    @Test("the client checks an IP address against the certificate's IP SANs")
    func ipAddressVerification() throws {
        let certificates = try CertificateFixture()
        let good = try TLSPair(
            server: try certificates.serverContext(),
            client: try certificates.clientContext(),
            serverHostname: "127.0.0.1"
        )
        defer { good.close() }
        try good.connect()
        #expect(good.clientRecorder.handshakeInfo != nil)
        #expect(good.serverRecorder.handshakeInfo?.serverName == nil)  // no SNI for IP addresses

        let bad = try TLSPair(
            server: try certificates.serverContext(),
            client: try certificates.clientContext(),
            serverHostname: "10.1.2.3"
        )
        defer { bad.close() }
        try bad.connect()
        #expect(bad.clientRecorder.tlsErrors.first?.kind == .handshakeFailed)
    }

    @Test("the client refuses an expired certificate")
    func expiredCertificate() throws {
        let certificates = try CertificateFixture()
        let expired = try certificates.makeLeaf(
            named: "expired",
            hostnames: ["localhost"],
            validDays: 5,
            backdatedDays: 10
        )
        let server = try TLSServerContext(
            configuration: TLSServerConfiguration(certificates: [
                TLSCertificateSource(
                    name: "expired", certificatePath: expired.certificatePath, keyPath: expired.keyPath)
            ])
        )
        #expect(server.certificates[0].notAfter < Date())
        let pair = try TLSPair(server: server, client: try certificates.clientContext())
        defer { pair.close() }
        try pair.connect()
        let error = try #require(pair.clientRecorder.tlsErrors.first)
        #expect(error.description.contains("certificate has expired"))
    }
}
