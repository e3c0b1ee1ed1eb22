internal import CGatewayOpenSSL
internal import COpenSSL
internal import NIOCore

/// One `SSL*` with a memory BIO on each side: ciphertext from the network goes into `readBIO`,
/// ciphertext for the network comes out of `writeBIO`.
///
/// Owned by one ``TLSHandler`` and used only on its channel's event loop. The `SSL_CTX` it was
/// made from must outlive it; the handler keeps its Swift context alive for that.
final class TLSConnection {
    enum HandshakeResult {
        case complete
        case wantRead
        case failed(TLSError)
    }

    enum ReadResult {
        /// Nothing more can be decrypted until more ciphertext arrives.
        case wantRead
        /// The peer sent close_notify.
        case closeNotify
        case failed(TLSError)
    }

    /// A memory BIO keeps its largest allocation until freed. After more than this much went
    /// through one at once, it is replaced, so that idle connections hold small buffers only.
    static let retainedBIOBytes = 16 * 1024
    /// Plaintext per `SSL_write` call; the ciphertext is moved out of the BIO after each.
    static let writeChunkBytes = 64 * 1024

    let ssl: OpaquePointer
    private var readBIO: OpaquePointer
    private var writeBIO: OpaquePointer
    private var readBIOHighWater = 0

    init?(context: OpaquePointer, isServer: Bool) {
        guard let ssl = SSL_new(context) else {
            _ = OpenSSLErrorQueue.drain()
            return nil
        }
        guard let readBIO = Self.makeMemoryBIO() else {
            SSL_free(ssl)
            return nil
        }
        guard let writeBIO = Self.makeMemoryBIO() else {
            BIO_free(readBIO)
            SSL_free(ssl)
            return nil
        }
        SSL_set_bio(ssl, readBIO, writeBIO)  // the SSL owns both BIOs from here on
        if isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
        }
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
    }

    deinit {
        SSL_free(self.ssl)
    }

    // MARK: Ciphertext in and out

    /// Hands ciphertext received from the network to OpenSSL.
    func receive(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return
            }
            // A memory BIO grows as needed; it fails only when malloc does.
            _ = BIO_write(self.readBIO, base, Int32(bytes.count))
        }
        self.readBIOHighWater = max(self.readBIOHighWater, buffer.readableBytes)
    }

    /// Ciphertext waiting to be sent.
    var pendingOutputBytes: Int {
        Int(CGatewayOpenSSL_BIO_pending(self.writeBIO))
    }

    /// Ciphertext received but not yet processed by OpenSSL.
    var pendingInputBytes: Int {
        Int(CGatewayOpenSSL_BIO_pending(self.readBIO))
    }

    /// Moves all pending ciphertext into `buffer`.
    /// - Returns: the number of bytes moved.
    @discardableResult
    func takeOutput(into buffer: inout ByteBuffer) -> Int {
        let count = self.pendingOutputBytes
        guard count > 0 else {
            return 0
        }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes in
            Int(max(0, BIO_read(self.writeBIO, bytes.baseAddress, Int32(count))))
        }
        return count
    }

    // MARK: TLS operations

    func doHandshake() -> HandshakeResult {
        let result = SSL_do_handshake(self.ssl)
        if result == 1 {
            return .complete
        }
        let error = SSL_get_error(self.ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wantRead
        default:
            var details: [String] = []
            let verifyResult = SSL_get_verify_result(self.ssl)
            if verifyResult != Int(X509_V_OK) {
                details.append(
                    "certificate verification: " + String(cString: X509_verify_cert_error_string(verifyResult)))
            }
            return .failed(
                TLSError.handshakeFailed("TLS handshake failed (\(Self.name(ofError: error)))", details: details))
        }
    }

    /// Decrypts everything it can into `buffer`, growing it when full.
    func readPlaintext(into buffer: inout ByteBuffer) -> ReadResult {
        while true {
            var result: Int32 = 0
            var space: Int32 = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { bytes in
                space = Int32(clamping: bytes.count)
                result = SSL_read(self.ssl, bytes.baseAddress, space)
                return result > 0 ? Int(result) : 0
            }
            if result > 0 {
                // A short read drained the record; without read-ahead OpenSSL buffers nothing
                // beyond it, so an empty read BIO means the next SSL_read could only say
                // WANT_READ (and, with SSL_MODE_RELEASE_BUFFERS, allocate and free its 16 KB
                // record buffer to say so).
                if result < space, self.pendingInputBytes == 0 {
                    self.replaceReadBIOIfLarge()
                    return .wantRead
                }
                continue
            }
            let error = SSL_get_error(self.ssl, result)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                self.replaceReadBIOIfLarge()
                return .wantRead
            case SSL_ERROR_ZERO_RETURN:
                return .closeNotify
            default:
                return .failed(TLSError.readFailed("TLS read failed (\(Self.name(ofError: error)))"))
            }
        }
    }

    /// Encrypts `bytes` (not empty) and appends the ciphertext to `output`: one record per
    /// 16 KB of plaintext.
    func write(_ bytes: UnsafeRawBufferPointer, into output: inout ByteBuffer) -> TLSError? {
        var offset = 0
        var largestChunk = 0
        while offset < bytes.count {
            let chunk = Int32(min(bytes.count - offset, Self.writeChunkBytes))
            let result = SSL_write(self.ssl, bytes.baseAddress! + offset, chunk)
            if result <= 0 {
                let error = SSL_get_error(self.ssl, result)
                return TLSError.writeFailed("TLS write failed (\(Self.name(ofError: error)))")
            }
            offset += Int(result)
            largestChunk = max(largestChunk, self.takeOutput(into: &output))
        }
        if largestChunk > Self.retainedBIOBytes {
            self.replaceWriteBIO()
        }
        return nil
    }

    /// An upper bound of the ciphertext for `count` bytes of plaintext (TLS 1.2 GCM has the
    /// largest per-record overhead of our suites: 29 bytes).
    static func ciphertextCapacity(forPlaintext count: Int) -> Int {
        count + (count / 16_384 + 1) * 29
    }

    private func replaceReadBIOIfLarge() {
        guard self.readBIOHighWater > Self.retainedBIOBytes, self.pendingInputBytes == 0,
            let fresh = Self.makeMemoryBIO()
        else {
            return
        }
        SSL_set0_rbio(self.ssl, fresh)  // frees the old one
        self.readBIO = fresh
        self.readBIOHighWater = 0
    }

    private func replaceWriteBIO() {
        guard self.pendingOutputBytes == 0, let fresh = Self.makeMemoryBIO() else {
            return
        }
        SSL_set0_wbio(self.ssl, fresh)  // frees the old one
        self.writeBIO = fresh
    }

    private static func makeMemoryBIO() -> OpaquePointer? {
        guard let bio = BIO_new(BIO_s_mem()) else {
            _ = OpenSSLErrorQueue.drain()
            return nil
        }
        // An empty memory BIO must mean "no data yet", not EOF.
        CGatewayOpenSSL_BIO_set_mem_eof_return(bio, -1)
        return bio
    }

    /// Queues our close_notify in the write BIO. We never wait for the peer's in this call.
    func sendCloseNotify() {
        let result = SSL_shutdown(self.ssl)
        if result < 0 {
            _ = OpenSSLErrorQueue.drain()
        }
    }

    // MARK: Negotiated parameters

    var handshakeFacts:
        (version: String, cipher: String, applicationProtocol: String?, serverName: String?, reused: Bool)
    {
        let version = String(cString: SSL_get_version(self.ssl))
        let cipher = SSL_get_current_cipher(self.ssl).map { String(cString: SSL_CIPHER_get_name($0)) } ?? ""
        var protocolBytes: UnsafePointer<UInt8>? = nil
        var protocolLength: UInt32 = 0
        SSL_get0_alpn_selected(self.ssl, &protocolBytes, &protocolLength)
        let applicationProtocol = protocolBytes.map {
            String(decoding: UnsafeBufferPointer(start: $0, count: Int(protocolLength)), as: UTF8.self)
        }
        let serverName = SSL_get_servername(self.ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        return (version, cipher, applicationProtocol, serverName, SSL_session_reused(self.ssl) == 1)
    }

    /// The peer's leaf certificate subject (RFC 2253), if it sent one.
    var peerCertificateSubject: String? {
        SSL_get0_peer_certificate(self.ssl).map { X509Inspection.subject(of: $0) }
    }

    /// The subject of the certificate we present (changes with SNI on the server).
    var localCertificateSubject: String? {
        SSL_get_certificate(self.ssl).map { X509Inspection.subject(of: $0) }
    }

    private static func name(ofError error: Int32) -> String {
        switch error {
        case SSL_ERROR_SSL: "SSL_ERROR_SSL"
        case SSL_ERROR_SYSCALL: "SSL_ERROR_SYSCALL"
        case SSL_ERROR_ZERO_RETURN: "SSL_ERROR_ZERO_RETURN"
        case SSL_ERROR_WANT_READ: "SSL_ERROR_WANT_READ"
        case SSL_ERROR_WANT_WRITE: "SSL_ERROR_WANT_WRITE"
        default: "SSL error \(error)"
        }
    }
}
