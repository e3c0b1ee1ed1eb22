import Foundation
import GatewayConfig
import GatewayTLS
import Logging

/// What a listener's `TLSServerContext` was built from: its `tls` settings and a
/// hash of the bytes of every certificate and key file. When a reload finds the
/// same source, the listener keeps its context (and with it OpenSSL's session
/// cache); when a file was rotated, the hash differs and a new context is built.
struct TLSContextSource: Equatable, Sendable {
    let configuration: TLSListenerConfiguration
    let filesHash: Int

    /// Reads the files now. A file that cannot be read hashes as absent; building
    /// the context then reports why.
    init(_ configuration: TLSListenerConfiguration) {
        self.configuration = configuration
        var hasher = Hasher()
        for certificate in configuration.certificates {
            for path in [certificate.certificatePath, certificate.keyPath] {
                hasher.combine(fileAt: path)  // every byte: `Data`'s own hash reads only 80
            }
        }
        self.filesHash = hasher.finalize()
    }
}

/// Builds traffic listeners' TLS contexts from their files, creating development
/// certificates where configured. File I/O and key parsing: call it off the event
/// loops (at start and from the reload task).
struct TLSContextLoader {
    let logger: Logger

    /// A context for `tls`, or `previous` when its source did not change.
    /// - Throws: every problem, each with the JSON path of the certificate it is about.
    func load(
        _ tls: TLSListenerConfiguration, listenerIndex: Int, previous: (TLSServerContext, TLSContextSource)?
    ) throws(ConfigurationError) -> (TLSServerContext, TLSContextSource) {
        do {
            try self.createDevelopmentCertificates(tls)
        } catch {
            throw ConfigurationError(
                file: nil,
                problems: [ConfigurationProblem(path: "listeners[\(listenerIndex)].tls", message: "\(error)")])
        }
        let source = TLSContextSource(tls)
        if let previous, previous.1 == source { return previous }
        do {
            return (try TLSServerContext(configuration: tls.serverConfiguration), source)
        } catch {
            // Say which certificate failed; a listener-wide setting (a cipher list) fails them all.
            var problems = CertificateCheck.problems(
                listenerIndex: listenerIndex, tls: tls, skippingMissingGenerated: false)
            if problems.isEmpty {
                problems = [ConfigurationProblem(path: "listeners[\(listenerIndex)].tls", message: "\(error)")]
            }
            throw ConfigurationError(file: nil, problems: problems)
        }
    }

    private func createDevelopmentCertificates(_ tls: TLSListenerConfiguration) throws {
        for certificate in tls.certificates where certificate.generateIfMissing {
            let directory = (certificate.certificatePath as NSString).deletingLastPathComponent
            let caPath = directory + "/dev-ca.pem"
            let created = try DevelopmentCertificates.ensure(
                caCertificatePath: caPath, caKeyPath: directory + "/dev-ca-key.pem",
                certificatePath: certificate.certificatePath, keyPath: certificate.keyPath)
            if created {
                self.logger.notice(
                    "created a development certificate; trust its CA to connect without -k",
                    metadata: [
                        "certificate": .string(certificate.certificatePath), "ca": .string(caPath),
                    ])
            }
        }
    }
}
