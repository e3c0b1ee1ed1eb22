internal import CGatewayOpenSSL
internal import COpenSSL
internal import NIOCore

/// One `SSL*` whose BIO reads ciphertext straight from ``inbound`` and appends the ciphertext
/// OpenSSL writes to ``outbound`` (see ``ConnectionBIO``).
///
/// No memory BIOs: their buffers keep their largest size for the life of the connection, and
/// every byte went through them with a copy and `BIO_ctrl` calls. An idle connection here holds
/// no ciphertext buffer at all.
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

    let ssl: OpaquePointer
    /// Ciphertext received and not yet read by OpenSSL. During a read it is usually the
    /// channel's own buffer (no copy); ``finishReceive()`` lets go of it afterwards.
    ///
    /// Exclusivity of ``inbound``, ``inboundIsOwned`` and ``outbound`` is not checked at run
    /// time: the BIO callbacks use them only inside `SSL_*` calls, and no method holds an
    /// access to them across such a call.
    @exclusivity(unchecked) fileprivate var inbound = ByteBuffer()
    /// Whether ``inbound`` is a buffer of ours (a partial record kept between reads) rather
    /// than the channel's.
    @exclusivity(unchecked) private var inboundIsOwned = false
    /// Ciphertext OpenSSL wrote and nobody took yet.
    @exclusivity(unchecked) fileprivate var outbound = ByteBuffer()
    /// Whether the last read ended with every record processed (no partial record in OpenSSL's
    /// record buffer).
    @exclusivity(unchecked) private var inputDrained = true
    /// Whether OpenSSL keeps its 16 KB read and write record buffers between records (see
    /// ``keepRecordBuffers()``); by default (the contexts' SSL_MODE_RELEASE_BUFFERS) it frees
    /// them after every record.
    @exclusivity(unchecked) private(set) var keepsRecordBuffers = false

    init?(context: OpaquePointer, isServer: Bool) {
        guard let ssl = SSL_new(context) else {
            _ = OpenSSLErrorQueue.drain()
            return nil
        }
        guard let bio = BIO_new(ConnectionBIO.method) else {
            _ = OpenSSLErrorQueue.drain()
            SSL_free(ssl)
            return nil
        }
        self.ssl = ssl
        // Unretained: the SSL (and so the BIO) is freed in deinit, before self goes away.
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
        BIO_set_init(bio, 1)
        SSL_set_bio(ssl, bio, bio)  // one BIO both ways: the SSL owns its one reference
        // OpenSSL then reads all the ciphertext there is in one BIO call instead of each
        // record's header and body in two.
        SSL_set_read_ahead(ssl, 1)
        if isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
        }
    }

    deinit {
        SSL_free(self.ssl)
    }

    // MARK: Ciphertext in and out

    /// Hands ciphertext received from the network to OpenSSL. Call ``finishReceive()`` when
    /// done with it.
    @inline(__always)
    func receive(_ buffer: ByteBuffer) {
        if self.inbound.readableBytes == 0 {
            self.inbound = buffer
            self.inboundIsOwned = false
        } else {
            self.appendToInbound(buffer)
        }
    }

    private func appendToInbound(_ buffer: ByteBuffer) {
        if !self.inboundIsOwned {
            var owned = ByteBuffer()
            owned.reserveCapacity(self.inbound.readableBytes + buffer.readableBytes)
            owned.writeImmutableBuffer(self.inbound)
            self.inbound = owned
            self.inboundIsOwned = true
        } else if self.inbound.readerIndex > 0 {
            self.inbound.discardReadBytes()
        }
        self.inbound.writeImmutableBuffer(buffer)
    }

    /// Lets go of the channel's buffer: what OpenSSL did not read yet (a partial record) is
    /// kept in a buffer of our own.
    @inline(__always)
    func finishReceive() {
        let left = self.inbound.readableBytes
        if left == 0 {
            if self.inbound.capacity > 0 {
                self.inbound = ByteBuffer()
                self.inboundIsOwned = false
            }
        } else if !self.inboundIsOwned {
            var owned = ByteBuffer()
            owned.reserveCapacity(left)
            owned.writeImmutableBuffer(self.inbound)
            self.inbound = owned
            self.inboundIsOwned = true
        }
    }

    /// Drops unread ciphertext (the connection failed or closed).
    func discardInput() {
        self.inbound = ByteBuffer()
        self.inboundIsOwned = false
    }

    /// Ciphertext waiting to be sent.
    var pendingOutputBytes: Int {
        self.outbound.readableBytes
    }

    /// Ciphertext received but not yet read by OpenSSL.
    var pendingInputBytes: Int {
        self.inbound.readableBytes
    }

    /// Whether there is ciphertext to process: not read by OpenSSL yet, or read ahead into its
    /// record buffer (as when the peer's first data came with the end of its handshake).
    var hasUnprocessedInput: Bool {
        self.inbound.readableBytes > 0 || SSL_has_pending(self.ssl) == 1
    }

    /// Bytes of buffer capacity held for ciphertext: none on an idle connection, unless a
    /// partial record waits for the rest.
    var bufferedCiphertextCapacity: Int {
        self.inbound.capacity + self.outbound.capacity
    }

    /// Takes all pending ciphertext.
    func takeOutput() -> ByteBuffer {
        let output = self.outbound
        self.outbound = ByteBuffer()
        return output
    }

    // MARK: Record buffers

    /// Stops releasing the record buffers after each record: a busy connection then does not
    /// allocate and free 2 × 16 KB per request (about 5 % of its TLS instructions).
    func keepRecordBuffers() {
        guard !self.keepsRecordBuffers else {
            return
        }
        self.keepsRecordBuffers = true
        CGatewayOpenSSL_SSL_clear_mode(self.ssl, Int(SSL_MODE_RELEASE_BUFFERS))
    }

    /// Frees the record buffers now and after each record again (the connection went idle).
    /// With a partial record waiting, the read buffer is kept until the record completes.
    func releaseRecordBuffers() {
        guard self.keepsRecordBuffers else {
            return
        }
        self.keepsRecordBuffers = false
        CGatewayOpenSSL_SSL_set_mode(self.ssl, Int(SSL_MODE_RELEASE_BUFFERS))
        // OpenSSL refuses while a record is half read or written; before 3.0.14 it did not check
        // everything (CVE-2024-4741), so ask only when no partial record can be there.
        if self.inputDrained, self.inbound.readableBytes == 0, SSL_has_pending(self.ssl) == 0 {
            if SSL_free_buffers(self.ssl) != 1 {
                _ = OpenSSLErrorQueue.drain()
            }
        }
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
                // A short read drained the record; with no ciphertext left, here or read
                // ahead by OpenSSL, the next SSL_read could only say WANT_READ (and, with
                // SSL_MODE_RELEASE_BUFFERS, allocate and free its 16 KB record buffer to say so).
                if result < space, self.inbound.readableBytes == 0, SSL_has_pending(self.ssl) == 0 {
                    self.inputDrained = true
                    return .wantRead
                }
                continue
            }
            let error = SSL_get_error(self.ssl, result)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                // Perhaps a partial record in OpenSSL's record buffer.
                self.inputDrained = false
                return .wantRead
            case SSL_ERROR_ZERO_RETURN:
                return .closeNotify
            default:
                return .failed(TLSError.readFailed("TLS read failed (\(Self.name(ofError: error)))"))
            }
        }
    }

    /// Encrypts `bytes` (not empty) and appends the ciphertext to `output` (give it room for
    /// ``ciphertextCapacity(forPlaintext:)``: OpenSSL writes straight into it). One record per
    /// 16 KB of plaintext.
    func write(_ bytes: UnsafeRawBufferPointer, into output: inout ByteBuffer) -> TLSError? {
        // OpenSSL's output goes to `outbound`: lend it `output`'s storage.
        if self.outbound.readableBytes > 0 {
            output.writeBuffer(&self.outbound)
        }
        swap(&self.outbound, &output)
        defer { swap(&self.outbound, &output) }
        var offset = 0
        while offset < bytes.count {
            let chunk = Int32(clamping: bytes.count - offset)
            let result = SSL_write(self.ssl, bytes.baseAddress! + offset, chunk)
            if result <= 0 {
                let error = SSL_get_error(self.ssl, result)
                return TLSError.writeFailed("TLS write failed (\(Self.name(ofError: error)))")
            }
            offset += Int(result)
        }
        return nil
    }

    /// An upper bound of the ciphertext for `count` bytes of plaintext (TLS 1.2 GCM has the
    /// largest per-record overhead of our suites: 29 bytes).
    static func ciphertextCapacity(forPlaintext count: Int) -> Int {
        count + (count / 16_384 + 1) * 29
    }

    /// Queues our close_notify in ``outbound``. We never wait for the peer's in this call.
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
        let version = Self.interned(SSL_get_version(self.ssl))
        let cipher = SSL_get_current_cipher(self.ssl).map { Self.interned(SSL_CIPHER_get_name($0)) } ?? ""
        var protocolBytes: UnsafePointer<UInt8>? = nil
        var protocolLength: UInt32 = 0
        SSL_get0_alpn_selected(self.ssl, &protocolBytes, &protocolLength)
        let applicationProtocol = protocolBytes.map {
            String(decoding: UnsafeBufferPointer(start: $0, count: Int(protocolLength)), as: UTF8.self)
        }
        let serverName = SSL_get_servername(self.ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        return (version, cipher, applicationProtocol, serverName, SSL_session_reused(self.ssl) == 1)
    }

    /// Names every connection reports, as literals: a String made from a C string of more than
    /// 15 bytes is a heap allocation that an idle connection would keep in its handshake info.
    private static let commonNames: [String] = [
        "TLSv1.3", "TLSv1.2",
        "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ]

    private static func interned(_ name: UnsafePointer<CChar>) -> String {
        for common in Self.commonNames where common.withCString({ strcmp($0, name) }) == 0 {
            return common
        }
        return String(cString: name)
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

// MARK: - The BIO

/// A source/sink BIO over the owning ``TLSConnection``'s ``TLSConnection/inbound`` and
/// ``TLSConnection/outbound`` buffers. Its data is an unretained pointer to the connection,
/// which frees the `SSL*` (and so the BIO) in its deinit.
///
/// OpenSSL calls these only from inside `SSL_*` calls that a ``TLSConnection`` method makes,
/// never while that method holds an access to `inbound` or `outbound`.
enum ConnectionBIO {
    nonisolated(unsafe) static let method: OpaquePointer = {
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "GatewayTLS connection") else {
            fatalError("BIO_meth_new failed: out of memory")
        }
        BIO_meth_set_read(method, connectionBIORead)
        BIO_meth_set_write(method, connectionBIOWrite)
        BIO_meth_set_ctrl(method, connectionBIOControl)
        BIO_meth_set_create(method, connectionBIOCreate)
        BIO_meth_set_destroy(method, connectionBIODestroy)
        return method
    }()
}

private let connectionBIORead: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int32) -> Int32 = {
    bio, destination, length in
    guard let bio, let destination, length > 0, let data = BIO_get_data(bio) else {
        return 0
    }
    CGatewayOpenSSL_BIO_clear_retry_flags(bio)
    return Unmanaged<TLSConnection>.fromOpaque(data)._withUnsafeGuaranteedRef { connection in
        let count = min(Int(length), connection.inbound.readableBytes)
        guard count > 0 else {
            // No data yet, not EOF.
            CGatewayOpenSSL_BIO_set_retry_read(bio)
            return -1
        }
        connection.inbound.withUnsafeReadableBytes { bytes in
            UnsafeMutableRawPointer(destination).copyMemory(from: bytes.baseAddress!, byteCount: count)
        }
        connection.inbound.moveReaderIndex(forwardBy: count)
        return Int32(count)
    }
}

private let connectionBIOWrite: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32 = {
    bio, source, length in
    guard let bio, let source, length > 0, let data = BIO_get_data(bio) else {
        return 0
    }
    _ = Unmanaged<TLSConnection>.fromOpaque(data)._withUnsafeGuaranteedRef { connection in
        connection.outbound.writeBytes(UnsafeRawBufferPointer(start: source, count: Int(length)))
    }
    return length
}

private let connectionBIOControl: @convention(c) (OpaquePointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int = {
    bio, command, _, _ in
    switch command {
    case BIO_CTRL_FLUSH:
        // Output is sent when the handler takes it.
        return 1
    case BIO_CTRL_PENDING:
        guard let bio, let data = BIO_get_data(bio) else {
            return 0
        }
        return Unmanaged<TLSConnection>.fromOpaque(data)._withUnsafeGuaranteedRef { $0.inbound.readableBytes }
    default:
        // Everything else (KTLS, EOF, close flags, push/pop) is unsupported or a no-op.
        return 0
    }
}

private let connectionBIOCreate: @convention(c) (OpaquePointer?) -> Int32 = { _ in 1 }

private let connectionBIODestroy: @convention(c) (OpaquePointer?) -> Int32 = { bio in
    if let bio {
        BIO_set_data(bio, nil)
        BIO_set_init(bio, 0)
    }
    return 1
}
