/// One entry of `listeners`: a socket the gateway accepts traffic on.
public struct ListenerConfiguration: Sendable, Equatable {
    /// Unique among listeners; used in logs and metric labels.
    public var name: String
    public var address: SocketAddressConfiguration
    /// `nil` for a plain HTTP listener.
    public var tls: TLSListenerConfiguration?

    public init(name: String, address: SocketAddressConfiguration, tls: TLSListenerConfiguration? = nil) {
        self.name = name
        self.address = address
        self.tls = tls
    }
}

/// The `tls` object of a listener.
public struct TLSListenerConfiguration: Sendable, Equatable {
    /// At least one; SNI picks among them by ``CertificateConfiguration/serverNames``.
    public var certificates: [CertificateConfiguration]
    public var minVersion: TLSMinimumVersion
    /// OpenSSL cipher list for TLS 1.2 (`SSL_CTX_set_cipher_list`); `nil` keeps the TLS module's default.
    public var ciphers: String?
    /// OpenSSL TLS 1.3 suites (`SSL_CTX_set_ciphersuites`); `nil` keeps the TLS module's default.
    public var cipherSuites: String?
    public var sessionTickets: Bool
    /// How long a client may take to complete the handshake.
    public var handshakeTimeout: Duration

    public init(
        certificates: [CertificateConfiguration],
        minVersion: TLSMinimumVersion = .tls12,
        ciphers: String? = nil,
        cipherSuites: String? = nil,
        sessionTickets: Bool = true,
        handshakeTimeout: Duration = .seconds(10)
    ) {
        self.certificates = certificates
        self.minVersion = minVersion
        self.ciphers = ciphers
        self.cipherSuites = cipherSuites
        self.sessionTickets = sessionTickets
        self.handshakeTimeout = handshakeTimeout
    }
}

/// `min_version` of a TLS listener; the raw values are the strings used in the file.
public enum TLSMinimumVersion: String, Sendable, Equatable, CaseIterable {
    case tls12 = "TLSv1.2"
    case tls13 = "TLSv1.3"
}

/// One entry of `tls.certificates`.
public struct CertificateConfiguration: Sendable, Equatable {
    /// Unique within the listener.
    public var name: String
    /// Absolute path of the PEM certificate (chain); relative paths in the file are
    /// resolved against the configuration file's directory.
    public var certificatePath: String
    /// Absolute path of the PEM private key, resolved like ``certificatePath``.
    public var keyPath: String
    /// Lowercased host names this certificate answers for via SNI; `*.example.com` wildcards allowed.
    public var serverNames: [String]
    /// Create a self-signed certificate and key at the paths when they do not exist (development).
    public var generateIfMissing: Bool

    public init(
        name: String,
        certificatePath: String,
        keyPath: String,
        serverNames: [String] = [],
        generateIfMissing: Bool = false
    ) {
        self.name = name
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.serverNames = serverNames
        self.generateIfMissing = generateIfMissing
    }
}
