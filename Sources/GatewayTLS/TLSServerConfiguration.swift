public import NIOCore

/// A TLS protocol version the gateway can be limited to.
public enum TLSVersion: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case tls1_2
    case tls1_3

    /// The name OpenSSL uses for the version ("TLSv1.2").
    public var description: String {
        switch self {
        case .tls1_2: "TLSv1.2"
        case .tls1_3: "TLSv1.3"
        }
    }
}

/// One certificate (chain) and its private key, and the host names it serves.
public struct TLSCertificateSource: Sendable, Equatable {
    /// A name for logs and metrics, e.g. "default" or "api".
    public var name: String
    /// A PEM file with the leaf certificate first, optionally followed by intermediates.
    public var certificatePath: String
    /// A PEM file with the private key of the leaf certificate.
    public var keyPath: String
    /// Host names selected by SNI: exact names (compared case-insensitively) or `*.example.com`
    /// wildcards, which match exactly one label.
    public var serverNames: [String]

    public init(name: String, certificatePath: String, keyPath: String, serverNames: [String] = []) {
        self.name = name
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.serverNames = serverNames
    }
}

/// Settings of the TLS listener. Defaults follow Mozilla's "intermediate" profile.
public struct TLSServerConfiguration: Sendable, Equatable {
    /// Mozilla intermediate: ECDHE key exchange with AEAD ciphers only (TLS 1.2).
    public static let defaultCipherList =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    /// The certificates to serve; the first one is used when SNI matches none (or is absent).
    public var certificates: [TLSCertificateSource]
    /// The oldest protocol version accepted.
    public var minimumVersion: TLSVersion
    /// TLS 1.2 cipher list in OpenSSL syntax; nil means ``defaultCipherList``.
    public var cipherList: String?
    /// TLS 1.3 cipher suites in OpenSSL syntax; nil keeps OpenSSL's default.
    public var cipherSuites: String?
    /// ALPN protocols in server preference order. Clients offering none of them still connect,
    /// without ALPN.
    public var applicationProtocols: [String]
    /// Whether to issue session tickets (stateless resumption).
    public var sessionTickets: Bool
    /// How long a client may take to complete the handshake, from connection to Finished.
    public var handshakeTimeout: TimeAmount

    public init(
        certificates: [TLSCertificateSource],
        minimumVersion: TLSVersion = .tls1_2,
        cipherList: String? = nil,
        cipherSuites: String? = nil,
        applicationProtocols: [String] = ["http/1.1"],
        sessionTickets: Bool = true,
        handshakeTimeout: TimeAmount = .seconds(10)
    ) {
        self.certificates = certificates
        self.minimumVersion = minimumVersion
        self.cipherList = cipherList
        self.cipherSuites = cipherSuites
        self.applicationProtocols = applicationProtocols
        self.sessionTickets = sessionTickets
        self.handshakeTimeout = handshakeTimeout
    }
}
