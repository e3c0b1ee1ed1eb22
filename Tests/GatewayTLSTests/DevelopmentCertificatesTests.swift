import Foundation
import GatewayTLS
import Testing

@Suite("Development certificates")
struct DevelopmentCertificatesTests {
    @Test("ensure creates a CA and a leaf once, with private keys readable by the owner only")
    func ensureCreatesOnce() throws {
        let directory = try TemporaryDirectory()
        let paths = (
            ca: directory.file("certs/dev-ca.pem"),
            caKey: directory.file("certs/dev-ca-key.pem"),
            cert: directory.file("certs/localhost.pem"),
            key: directory.file("certs/localhost-key.pem")
        )
        let created = try DevelopmentCertificates.ensure(
            caCertificatePath: paths.ca,
            caKeyPath: paths.caKey,
            certificatePath: paths.cert,
            keyPath: paths.key
        )
        #expect(created)
        for key in [paths.caKey, paths.key] {
            let attributes = try FileManager.default.attributesOfItem(atPath: key)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
        let again = try DevelopmentCertificates.ensure(
            caCertificatePath: paths.ca,
            caKeyPath: paths.caKey,
            certificatePath: paths.cert,
            keyPath: paths.key
        )
        #expect(!again)
    }

    @Test("a missing leaf is reissued by the existing CA")
    func reusesExistingCA() throws {
        let certificates = try CertificateFixture()
        let caBefore = try String(contentsOfFile: certificates.caCertificatePath, encoding: .utf8)
        let leafBefore = try String(contentsOfFile: certificates.certificatePath, encoding: .utf8)
        try FileManager.default.removeItem(atPath: certificates.keyPath)

        let created = try DevelopmentCertificates.ensure(
            caCertificatePath: certificates.caCertificatePath,
            caKeyPath: certificates.caKeyPath,
            certificatePath: certificates.certificatePath,
            keyPath: certificates.keyPath
        )
        #expect(created)
        #expect(try String(contentsOfFile: certificates.caCertificatePath, encoding: .utf8) == caBefore)
        #expect(try String(contentsOfFile: certificates.certificatePath, encoding: .utf8) != leafBefore)
        _ = try certificates.serverContext()
    }

    @Test("openssl verifies the leaf against the CA and sees the SANs and usages")
    func opensslAcceptsCertificates() throws {
        let certificates = try CertificateFixture()
        let verify = try runProcess(
            "/usr/bin/openssl",
            [
                "verify", "-purpose", "sslserver", "-CAfile", certificates.caCertificatePath,
                certificates.certificatePath,
            ]
        )
        #expect(verify.status == 0, "\(verify.output)")

        let leaf = try runProcess("/usr/bin/openssl", ["x509", "-noout", "-text", "-in", certificates.certificatePath])
        #expect(leaf.output.contains("DNS:localhost"))
        #expect(leaf.output.contains("IP Address:127.0.0.1"))
        #expect(leaf.output.contains("IP Address:0:0:0:0:0:0:0:1"))
        #expect(leaf.output.contains("CA:FALSE"))
        #expect(leaf.output.contains("TLS Web Server Authentication"))
        #expect(leaf.output.contains("Digital Signature"))
        #expect(leaf.output.contains("X509v3 Subject Key Identifier"))
        #expect(leaf.output.contains("X509v3 Authority Key Identifier"))
        #expect(leaf.output.contains("ASN1 OID: prime256v1"))

        let ca = try runProcess("/usr/bin/openssl", ["x509", "-noout", "-text", "-in", certificates.caCertificatePath])
        #expect(ca.output.contains("CA:TRUE"))
        #expect(ca.output.contains("Certificate Sign"))
    }

    @Test("an unwritable location is a TLSError, not a crash")
    func unwritableLocation() throws {
        let directory = try TemporaryDirectory()
        let blocker = directory.file("file")
        try "x".write(toFile: blocker, atomically: true, encoding: .utf8)
        let error = try #require(throws: TLSError.self) {
            try DevelopmentCertificates.ensure(
                caCertificatePath: blocker + "/ca.pem",
                caKeyPath: blocker + "/ca-key.pem",
                certificatePath: blocker + "/cert.pem",
                keyPath: blocker + "/key.pem"
            )
        }
        #expect(error.kind == .certificateGeneration)
    }
}

// MARK: - Running tools

struct ProcessResult {
    var status: Int32
    /// Standard output and standard error together.
    var output: String
}

/// Runs a tool with stdin from /dev/null, killing it after `timeout` seconds.
func runProcess(_ executable: String, _ arguments: [String], timeout: TimeInterval = 20) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let deadline = DispatchTime.now() + timeout
    let watchdog = DispatchWorkItem { [process] in
        if process.isRunning {
            process.terminate()
        }
    }
    DispatchQueue.global().asyncAfter(deadline: deadline, execute: watchdog)
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    watchdog.cancel()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}
