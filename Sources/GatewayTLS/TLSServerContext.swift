internal import CGatewayOpenSSL
internal import COpenSSL

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A certificate as loaded into a ``TLSServerContext``, for logs and the expiry metric.
public struct TLSLoadedCertificate: Sendable, Equatable {
    /// The ``TLSCertificateSource/name`` it was loaded from.
    public let name: String
    /// The SNI names it serves.
    public let serverNames: [String]
    /// The end of the leaf certificate's validity.
    public let notAfter: Date
    /// The leaf certificate's subject in RFC 2253 form ("CN=localhost,O=...").
    public let subject: String
}

/// The server side of TLS: one `SSL_CTX` per certificate, SNI selection and ALPN.
///
/// Building one reads files and parses keys: do it off the event loops (at startup or on a
/// reload) and share the result. It is immutable afterwards and safe to use from any thread;
/// every ``TLSHandler`` keeps the context it was made from alive.
public final class TLSServerContext: @unchecked Sendable {
    /// The configuration this context was built from.
    public let configuration: TLSServerConfiguration
    /// The loaded certificates, in configuration order (the first is the default).
    public let certificates: [TLSLoadedCertificate]

    let selector: CertificateSelector

    /// Loads every certificate and key, and builds the `SSL_CTX`s. Blocks on file I/O.
    public init(configuration: TLSServerConfiguration) throws(TLSError) {
        guard !configuration.certificates.isEmpty else {
            throw TLSError.contextSetup("TLS configuration has no certificate")
        }
        let selector = CertificateSelector(alpn: try ALPNWireFormat(configuration.applicationProtocols))
        var loaded: [TLSLoadedCertificate] = []
        for (index, source) in configuration.certificates.enumerated() {
            let context = try ServerSSLContextBuilder.make(configuration: configuration, source: source)
            selector.add(context: context, serverNames: source.serverNames, isDefault: index == 0)
            let leaf = SSL_CTX_get0_certificate(context)!
            loaded.append(
                TLSLoadedCertificate(
                    name: source.name,
                    serverNames: source.serverNames,
                    notAfter: X509Inspection.notAfter(of: leaf) ?? Date(timeIntervalSince1970: 0),
                    subject: X509Inspection.subject(of: leaf)
                )
            )
        }
        selector.installCallbacks()
        self.configuration = configuration
        self.certificates = loaded
        self.selector = selector
    }

    /// A new server-side `SSL*` on the default certificate, or nil when OpenSSL is out of memory.
    func makeConnection() -> TLSConnection? {
        TLSConnection(context: self.selector.defaultContext, isServer: true)
    }
}

// MARK: - SSL_CTX setup

private enum ServerSSLContextBuilder {
    static func make(
        configuration: TLSServerConfiguration,
        source: TLSCertificateSource
    ) throws(TLSError) -> OpaquePointer {
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError.contextSetup("SSL_CTX_new failed")
        }
        do {
            try Self.configure(context, configuration: configuration, source: source)
            return context
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    private static func configure(
        _ context: OpaquePointer,
        configuration: TLSServerConfiguration,
        source: TLSCertificateSource
    ) throws(TLSError) {
        try SSLContextSettings.setVersions(context, minimum: configuration.minimumVersion, maximum: nil)

        var options =
            CGatewayOpenSSL_SSL_OP_NO_RENEGOTIATION()
            | CGatewayOpenSSL_SSL_OP_NO_COMPRESSION()
            | CGatewayOpenSSL_SSL_OP_CIPHER_SERVER_PREFERENCE()
        if !configuration.sessionTickets {
            options |= CGatewayOpenSSL_SSL_OP_NO_TICKET()
            SSL_CTX_set_num_tickets(context, 0)
        }
        SSL_CTX_set_options(context, options)
        // Idle keep-alive connections then hold no 16 KB read/write buffers (see the notes).
        CGatewayOpenSSL_SSL_CTX_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS))
        CGatewayOpenSSL_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_SERVER))
        let sessionContext: [UInt8] = Array("swift-api-gateway".utf8)
        SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))

        let cipherList = configuration.cipherList ?? TLSServerConfiguration.defaultCipherList
        guard SSL_CTX_set_cipher_list(context, cipherList) == 1 else {
            throw TLSError.contextSetup("invalid TLS 1.2 cipher list \"\(cipherList)\"")
        }
        if let cipherSuites = configuration.cipherSuites {
            guard SSL_CTX_set_ciphersuites(context, cipherSuites) == 1 else {
                throw TLSError.contextSetup("invalid TLS 1.3 cipher suites \"\(cipherSuites)\"")
            }
        }

        try Self.loadCertificateAndKey(context, source: source)
    }

    private static func loadCertificateAndKey(_ context: OpaquePointer, source: TLSCertificateSource) throws(TLSError) {
        if let reason = FileAccess.unreadableReason(source.certificatePath) {
            throw TLSError.invalidCertificate(file: source.certificatePath, reason: reason)
        }
        guard SSL_CTX_use_certificate_chain_file(context, source.certificatePath) == 1 else {
            throw TLSError.invalidCertificate(file: source.certificatePath)
        }

        if let reason = FileAccess.unreadableReason(source.keyPath) {
            throw TLSError.invalidPrivateKey(file: source.keyPath, reason: reason)
        }
        // Parse the key ourselves first so that "not a key" and "not this certificate's key"
        // are told apart.
        guard let file = BIO_new_file(source.keyPath, "r") else {
            throw TLSError.invalidPrivateKey(file: source.keyPath)
        }
        let key = PEM_read_bio_PrivateKey(file, nil, nil, nil)
        BIO_free(file)
        guard let key else {
            throw TLSError.invalidPrivateKey(file: source.keyPath)
        }
        defer { EVP_PKEY_free(key) }
        guard SSL_CTX_use_PrivateKey(context, key) == 1, SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError.keyMismatch(certificateFile: source.certificatePath, keyFile: source.keyPath)
        }
    }
}

/// Settings shared by the server and client contexts.
enum SSLContextSettings {
    static func setVersions(_ context: OpaquePointer, minimum: TLSVersion, maximum: TLSVersion?) throws(TLSError) {
        guard CGatewayOpenSSL_SSL_CTX_set_min_proto_version(context, minimum.openSSLVersion) == 1 else {
            throw TLSError.contextSetup("cannot set minimum TLS version \(minimum)")
        }
        if let maximum {
            guard CGatewayOpenSSL_SSL_CTX_set_max_proto_version(context, maximum.openSSLVersion) == 1 else {
                throw TLSError.contextSetup("cannot set maximum TLS version \(maximum)")
            }
        }
    }
}

extension TLSVersion {
    var openSSLVersion: Int32 {
        switch self {
        case .tls1_2: TLS1_2_VERSION
        case .tls1_3: TLS1_3_VERSION
        }
    }
}
