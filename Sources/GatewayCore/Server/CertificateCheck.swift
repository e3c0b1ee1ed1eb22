public import GatewayConfig
import Foundation
import GatewayTLS

/// What `gateway check` says of the certificate files a configuration names:
/// each one is loaded as the server would load it, so a missing file, a bad key
/// or a key that doesn't match is found before the gateway starts (like `nginx -t`).
public enum CertificateCheck {
    /// One line per problem, `listeners[0].tls.certificates[1]: …`; empty when all load.
    public static func problems(in configuration: GatewayConfiguration) -> [String] {
        var problems: [String] = []
        for (listenerIndex, listener) in configuration.listeners.enumerated() {
            guard let tls = listener.tls else { continue }
            for (index, certificate) in tls.certificates.enumerated() {
                let path = "listeners[\(listenerIndex)].tls.certificates[\(index)]"
                if certificate.generateIfMissing
                    && !(FileManager.default.fileExists(atPath: certificate.certificatePath)
                        && FileManager.default.fileExists(atPath: certificate.keyPath))
                {
                    continue  // made at start as a development certificate
                }
                do {
                    _ = try TLSServerContext(
                        configuration: TLSServerConfiguration(
                            certificates: [
                                TLSCertificateSource(
                                    name: certificate.name, certificatePath: certificate.certificatePath,
                                    keyPath: certificate.keyPath, serverNames: certificate.serverNames)
                            ],
                            minimumVersion: tls.minVersion == .tls13 ? .tls1_3 : .tls1_2,
                            cipherList: tls.ciphers,
                            cipherSuites: tls.cipherSuites))
                } catch {
                    problems.append("\(path): \(error)")
                }
            }
        }
        return problems
    }
}
