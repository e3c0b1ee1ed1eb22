internal import COpenSSL

/// An error from the TLS layer: loading certificates, building contexts, or a connection.
///
/// Compare ``kind`` to tell errors apart (`error.kind == .handshakeFailed`); the set of kinds
/// may grow, so switch with a `default`. ``openSSLErrors`` carries OpenSSL's error queue as it
/// was when the failing call returned, one line per entry, for logs and operators.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as a comparable value.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidCertificate
            case invalidPrivateKey
            case keyMismatch
            case contextSetup
            case certificateGeneration
            case handshakeFailed
            case handshakeTimeout
            case uncleanShutdown
            case readFailed
            case writeFailed
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A certificate file is missing, unreadable or not a PEM certificate (chain).
        public static let invalidCertificate = Kind(.invalidCertificate)
        /// A private key file is missing, unreadable or not a PEM private key.
        public static let invalidPrivateKey = Kind(.invalidPrivateKey)
        /// The private key does not belong to the certificate.
        public static let keyMismatch = Kind(.keyMismatch)
        /// An `SSL_CTX` could not be configured (cipher list, trust roots, ALPN, ...).
        public static let contextSetup = Kind(.contextSetup)
        /// A development certificate or key could not be created or written.
        public static let certificateGeneration = Kind(.certificateGeneration)
        /// The TLS handshake failed: protocol error, no shared version or cipher, bad certificate,
        /// or the peer went away before it completed.
        public static let handshakeFailed = Kind(.handshakeFailed)
        /// The TLS handshake did not complete within the configured time.
        public static let handshakeTimeout = Kind(.handshakeTimeout)
        /// The peer closed the connection without sending close_notify.
        public static let uncleanShutdown = Kind(.uncleanShutdown)
        /// Decrypting received data failed (bad record, alert from the peer).
        public static let readFailed = Kind(.readFailed)
        /// Encrypting data to send failed.
        public static let writeFailed = Kind(.writeFailed)

        public var description: String {
            switch self.base {
            case .invalidCertificate: "invalidCertificate"
            case .invalidPrivateKey: "invalidPrivateKey"
            case .keyMismatch: "keyMismatch"
            case .contextSetup: "contextSetup"
            case .certificateGeneration: "certificateGeneration"
            case .handshakeFailed: "handshakeFailed"
            case .handshakeTimeout: "handshakeTimeout"
            case .uncleanShutdown: "uncleanShutdown"
            case .readFailed: "readFailed"
            case .writeFailed: "writeFailed"
            }
        }
    }

    /// What went wrong.
    public let kind: Kind
    /// The file the error is about, when there is one.
    public let file: String?
    /// A human readable summary, without the OpenSSL errors.
    public let message: String
    /// OpenSSL's error queue for the failed call, oldest first (`error:0A000086:SSL routines:...`).
    public let openSSLErrors: [String]

    init(kind: Kind, file: String? = nil, message: String, openSSLErrors: [String] = []) {
        self.kind = kind
        self.file = file
        self.message = message
        self.openSSLErrors = openSSLErrors
    }

    public var description: String {
        if self.openSSLErrors.isEmpty {
            return self.message
        }
        return "\(self.message): \(self.openSSLErrors.joined(separator: "; "))"
    }
}

// MARK: - Constructors

extension TLSError {
    // Each constructor drains OpenSSL's error queue, so call it right after the failing call.

    static func invalidCertificate(file: String, reason: String? = nil) -> TLSError {
        TLSError(
            kind: .invalidCertificate,
            file: file,
            message: "cannot load certificate \(file)" + (reason.map { " (\($0))" } ?? ""),
            openSSLErrors: OpenSSLErrorQueue.drain()
        )
    }

    static func invalidPrivateKey(file: String, reason: String? = nil) -> TLSError {
        TLSError(
            kind: .invalidPrivateKey,
            file: file,
            message: "cannot load private key \(file)" + (reason.map { " (\($0))" } ?? ""),
            openSSLErrors: OpenSSLErrorQueue.drain()
        )
    }

    static func keyMismatch(certificateFile: String, keyFile: String) -> TLSError {
        TLSError(
            kind: .keyMismatch,
            file: keyFile,
            message: "private key \(keyFile) does not match certificate \(certificateFile)",
            openSSLErrors: OpenSSLErrorQueue.drain()
        )
    }

    static func contextSetup(_ message: String) -> TLSError {
        TLSError(kind: .contextSetup, message: message, openSSLErrors: OpenSSLErrorQueue.drain())
    }

    static func certificateGeneration(_ message: String, file: String? = nil) -> TLSError {
        TLSError(
            kind: .certificateGeneration,
            file: file,
            message: message,
            openSSLErrors: OpenSSLErrorQueue.drain()
        )
    }

    static func handshakeFailed(_ message: String, details: [String] = []) -> TLSError {
        TLSError(kind: .handshakeFailed, message: message, openSSLErrors: OpenSSLErrorQueue.drain() + details)
    }

    static func handshakeTimeout(after timeout: String) -> TLSError {
        TLSError(kind: .handshakeTimeout, message: "TLS handshake did not complete within \(timeout)")
    }

    static let uncleanShutdown = TLSError(
        kind: .uncleanShutdown,
        message: "connection closed by peer without TLS close_notify"
    )

    static func readFailed(_ message: String) -> TLSError {
        TLSError(kind: .readFailed, message: message, openSSLErrors: OpenSSLErrorQueue.drain())
    }

    static func writeFailed(_ message: String) -> TLSError {
        TLSError(kind: .writeFailed, message: message, openSSLErrors: OpenSSLErrorQueue.drain())
    }
}

// MARK: - OpenSSL error queue

/// OpenSSL's per-thread error queue. We do not clear it before each call (measured as a cost on
/// the hot path); instead every failure drains it, so it is empty again for the next call.
enum OpenSSLErrorQueue {
    /// Removes every entry from this thread's error queue and returns them as strings, oldest first.
    static func drain() -> [String] {
        var errors: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 {
                break
            }
            errors.append(Self.string(for: code))
        }
        return errors
    }

    static func string(for code: UInt) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            ERR_error_string_n(code, buffer.baseAddress, buffer.count)
            return String(cString: buffer.baseAddress!)
        }
    }
}
