internal import CGatewayOpenSSL
internal import COpenSSL
public import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The client side of TLS: one `SSL_CTX` with trust roots, for tests and HTTPS upstreams.
///
/// Building one reads the trust store: do it off the event loops and share the result. It is
/// immutable afterwards and safe to use from any thread.
public final class TLSClientContext: @unchecked Sendable {
    /// Whether the server's certificate chain and host name are verified.
    public let verifyPeer: Bool
    /// How long the server may take to complete the handshake.
    public let handshakeTimeout: TimeAmount

    let context: OpaquePointer
    private let alpn: ALPNWireFormat

    /// - Parameters:
    ///   - trustRootsPath: a PEM file (or an OpenSSL hashed directory) of trusted CAs; nil uses the
    ///     system's default verify paths.
    ///   - verifyPeer: verify the server's chain and host name (turn off only in tests).
    ///   - applicationProtocols: ALPN protocols to offer, in preference order; empty offers none.
    public init(
        trustRootsPath: String? = nil,
        verifyPeer: Bool = true,
        minimumVersion: TLSVersion = .tls1_2,
        maximumVersion: TLSVersion? = nil,
        applicationProtocols: [String] = ["http/1.1"],
        handshakeTimeout: TimeAmount = .seconds(10)
    ) throws(TLSError) {
        let alpn = try ALPNWireFormat(applicationProtocols)
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError.contextSetup("SSL_CTX_new failed")
        }
        do {
            try Self.configure(
                context,
                trustRootsPath: trustRootsPath,
                verifyPeer: verifyPeer,
                minimumVersion: minimumVersion,
                maximumVersion: maximumVersion,
                alpn: alpn
            )
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.context = context
        self.alpn = alpn
        self.verifyPeer = verifyPeer
        self.handshakeTimeout = handshakeTimeout
    }

    deinit {
        SSL_CTX_free(self.context)
    }

    private static func configure(
        _ context: OpaquePointer,
        trustRootsPath: String?,
        verifyPeer: Bool,
        minimumVersion: TLSVersion,
        maximumVersion: TLSVersion?,
        alpn: ALPNWireFormat
    ) throws(TLSError) {
        try SSLContextSettings.setVersions(context, minimum: minimumVersion, maximum: maximumVersion)
        SSL_CTX_set_options(
            context,
            CGatewayOpenSSL_SSL_OP_NO_RENEGOTIATION() | CGatewayOpenSSL_SSL_OP_NO_COMPRESSION()
        )
        CGatewayOpenSSL_SSL_CTX_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS))

        if let trustRootsPath {
            if let reason = FileAccess.unreadableReason(trustRootsPath) {
                throw TLSError.invalidCertificate(file: trustRootsPath, reason: reason)
            }
            let loaded =
                FileAccess.isDirectory(trustRootsPath)
                ? SSL_CTX_load_verify_locations(context, nil, trustRootsPath)
                : SSL_CTX_load_verify_locations(context, trustRootsPath, nil)
            guard loaded == 1 else {
                throw TLSError.invalidCertificate(file: trustRootsPath, reason: "cannot load trust roots")
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            throw TLSError.contextSetup("cannot load the system's default trust roots")
        }
        SSL_CTX_set_verify(context, verifyPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)

        if !alpn.isEmpty {
            // Unlike most of OpenSSL, this returns 0 on success.
            guard SSL_CTX_set_alpn_protos(context, alpn.bytes.baseAddress, UInt32(alpn.bytes.count)) == 0 else {
                throw TLSError.contextSetup("cannot set ALPN protocols")
            }
        }
    }

    /// A new client-side `SSL*`, or nil when OpenSSL is out of memory.
    func makeConnection() -> TLSConnection? {
        TLSConnection(context: self.context, isServer: false)
    }

    /// Makes `connection` send `serverHostname` by SNI and, when verifying, check the server's
    /// certificate against it (a DNS name, or an IP address).
    func setServerHostname(_ serverHostname: String, on connection: TLSConnection) -> TLSError? {
        let isIPAddress = Self.isIPAddress(serverHostname)
        if !isIPAddress {
            // SNI carries DNS names only (RFC 6066).
            guard CGatewayOpenSSL_SSL_set_tlsext_host_name(connection.ssl, serverHostname) == 1 else {
                return TLSError.contextSetup("invalid server name \"\(serverHostname)\" for SNI")
            }
        }
        if self.verifyPeer {
            let ok =
                isIPAddress
                ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(connection.ssl), serverHostname)
                : SSL_set1_host(connection.ssl, serverHostname)
            guard ok == 1 else {
                return TLSError.contextSetup("cannot verify against host name \"\(serverHostname)\"")
            }
        }
        return nil
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var storage = in6_addr()
        return inet_pton(AF_INET, host, &storage) == 1 || inet_pton(AF_INET6, host, &storage) == 1
    }
}
