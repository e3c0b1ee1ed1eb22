/// What was negotiated on a connection, for logs, metrics and routing on ALPN.
public struct TLSHandshakeInfo: Sendable, Equatable {
    /// The protocol version as OpenSSL names it: "TLSv1.3", "TLSv1.2".
    public let version: String
    /// The cipher as OpenSSL names it: "TLS_AES_256_GCM_SHA384".
    public let cipher: String
    /// The ALPN protocol, or nil when none was negotiated.
    public let applicationProtocol: String?
    /// The SNI name the client sent (server side) or that we sent (client side).
    public let serverName: String?
    /// From the start of the handshake (channel active) to its completion.
    public let duration: Duration
    /// Whether a previous session was resumed (ticket or session id).
    public let sessionReused: Bool

    public init(
        version: String,
        cipher: String,
        applicationProtocol: String?,
        serverName: String?,
        duration: Duration,
        sessionReused: Bool
    ) {
        self.version = version
        self.cipher = cipher
        self.applicationProtocol = applicationProtocol
        self.serverName = serverName
        self.duration = duration
        self.sessionReused = sessionReused
    }
}

/// Inbound user events fired by ``TLSHandler``.
public enum TLSUserEvent: Sendable, Equatable {
    /// The handshake completed; application data flows from now on.
    case handshakeCompleted(TLSHandshakeInfo)
    /// The peer sent close_notify; we answered with ours and close the channel.
    case shutdownCompleted
}
