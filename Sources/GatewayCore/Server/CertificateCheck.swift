import Foundation
public import GatewayConfig
import GatewayTLS
import NIOCore

/// What `gateway check` and a reload say of the certificate files a configuration
/// names: each one is loaded as the server would load it, so a missing file, a bad
/// key or a key that doesn't match is found before it is served (like `nginx -t`).
public enum CertificateCheck {
    /// One line per problem, `listeners[0].tls.certificates[1]: …`; empty when all load.
    public static func problems(in configuration: GatewayConfiguration) -> [String] {
        configurationProblems(in: configuration).map(\.description)
    }

    /// Every certificate problem of the configuration, each with its JSON path.
    public static func configurationProblems(in configuration: GatewayConfiguration) -> [ConfigurationProblem] {
        var problems: [ConfigurationProblem] = []
        for (listenerIndex, listener) in configuration.listeners.enumerated() {
            guard let tls = listener.tls else { continue }
            problems += Self.problems(listenerIndex: listenerIndex, tls: tls, skippingMissingGenerated: true)
        }
        return problems
    }

    /// The problems of one listener's certificates. With `skippingMissingGenerated`, a
    /// `generate_if_missing` certificate whose files do not exist yet is not a problem
    /// (the server makes it at start).
    static func problems(
        listenerIndex: Int, tls: TLSListenerConfiguration, skippingMissingGenerated: Bool
    ) -> [ConfigurationProblem] {
        var problems: [ConfigurationProblem] = []
        for (index, certificate) in tls.certificates.enumerated() {
            let path = "listeners[\(listenerIndex)].tls.certificates[\(index)]"
            if skippingMissingGenerated && certificate.generateIfMissing
                && !(FileManager.default.fileExists(atPath: certificate.certificatePath)
                    && FileManager.default.fileExists(atPath: certificate.keyPath))
            {
                continue  // made at start as a development certificate
            }
            var single = tls
            single.certificates = [certificate]
            do {
                _ = try TLSServerContext(configuration: single.serverConfiguration)
            } catch {
                problems.append(ConfigurationProblem(path: path, message: "\(error)"))
            }
        }
        return problems
    }
}

extension TLSListenerConfiguration {
    /// The TLS module's configuration for this listener (ALPN offers `http/1.1`).
    var serverConfiguration: TLSServerConfiguration {
        TLSServerConfiguration(
            certificates: self.certificates.map {
                TLSCertificateSource(
                    name: $0.name, certificatePath: $0.certificatePath, keyPath: $0.keyPath,
                    serverNames: $0.serverNames)
            },
            minimumVersion: self.minVersion == .tls13 ? .tls1_3 : .tls1_2,
            cipherList: self.ciphers,
            cipherSuites: self.cipherSuites,
            applicationProtocols: ["http/1.1"],
            sessionTickets: self.sessionTickets,
            handshakeTimeout: TimeAmount(self.handshakeTimeout)
        )
    }
}
