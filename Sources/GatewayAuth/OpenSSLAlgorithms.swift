internal import COpenSSL

/// SHA-256 and HMAC as OpenSSL 3 implementations fetched once per process, so
/// a request does not pay the provider lookup that `EVP_sha256()` or the
/// one-shot `HMAC()` would make on every call.
struct OpenSSLAlgorithms: @unchecked Sendable {
    // Immutable after the fetch; OpenSSL's fetched methods are reference
    // counted and safe to use from any thread.
    let sha256: OpaquePointer
    let hmac: OpaquePointer
    /// `{"digest": "SHA256"}` for `EVP_MAC_init`, kept for the life of the process.
    let hmacParameters: UnsafeMutablePointer<OSSL_PARAM>

    static let shared: OpenSSLAlgorithms = {
        guard let sha256 = EVP_MD_fetch(nil, "SHA256", nil), let hmac = EVP_MAC_fetch(nil, "HMAC", nil) else {
            // Only a broken OpenSSL installation gets here.
            fatalError("OpenSSL has no SHA256 or HMAC: \(OpenSSLErrorQueue.drain())")
        }
        // OSSL_PARAM keeps the pointers it is given: both strings live as long as the process.
        let parameters = UnsafeMutablePointer<OSSL_PARAM>.allocate(capacity: 2)
        parameters[0] = OSSL_PARAM_construct_utf8_string(CStrings.digest, CStrings.sha256, 0)
        parameters[1] = OSSL_PARAM_construct_end()
        return OpenSSLAlgorithms(sha256: sha256, hmac: hmac, hmacParameters: parameters)
    }()

    /// SHA-256 of `bytes` into `digest` (32 bytes).
    static func sha256(_ bytes: UnsafeRawBufferPointer, into digest: UnsafeMutableRawBufferPointer) {
        precondition(digest.count >= 32)
        _ = SHA256(
            bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
            digest.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }

    /// HMAC-SHA256 of `message` under `key` into `mac` (32 bytes); false if OpenSSL failed.
    func hmacSHA256(
        key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer, into mac: UnsafeMutableRawBufferPointer
    ) -> Bool {
        guard let context = EVP_MAC_CTX_new(self.hmac) else {
            OpenSSLErrorQueue.clear()
            return false
        }
        defer { EVP_MAC_CTX_free(context) }
        var written = 0
        guard
            EVP_MAC_init(
                context, key.baseAddress?.assumingMemoryBound(to: UInt8.self), key.count, self.hmacParameters) == 1,
            EVP_MAC_update(context, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count) == 1,
            EVP_MAC_final(context, mac.baseAddress?.assumingMemoryBound(to: UInt8.self), &written, mac.count) == 1,
            written == 32
        else {
            OpenSSLErrorQueue.clear()
            return false
        }
        return true
    }
}

/// C strings for OpenSSL parameter names and values. `OSSL_PARAM` and
/// `OSSL_PARAM_BLD` keep the pointers they are given instead of copying, so a
/// temporary bridged from a Swift string would dangle; these live as long as
/// the process.
enum CStrings {
    nonisolated(unsafe) static let digest = strdup("digest")!
    nonisolated(unsafe) static let sha256 = strdup("SHA256")!
    nonisolated(unsafe) static let rsaModulus = strdup("n")!
    nonisolated(unsafe) static let rsaExponent = strdup("e")!
    nonisolated(unsafe) static let group = strdup("group")!
    nonisolated(unsafe) static let publicKey = strdup("pub")!
    nonisolated(unsafe) static let prime256v1 = strdup("prime256v1")!
}

/// The calling thread's OpenSSL error queue. Every failed call here must leave
/// it empty: the TLS code on the same event loop reads it after `SSL_*` calls.
enum OpenSSLErrorQueue {
    /// The queued errors as text, oldest first, leaving the queue empty.
    static func drain() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "no OpenSSL error recorded" : messages.joined(separator: "; ")
    }

    static func clear() {
        ERR_clear_error()
    }
}
