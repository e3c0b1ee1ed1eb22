internal import CGatewayOpenSSL
internal import COpenSSL

/// The JWS algorithms the gateway verifies (RFC 7518 §3). `none` and every
/// other algorithm are absent on purpose: a token naming one is refused.
public enum JWTAlgorithm: String, Sendable, CaseIterable, Hashable {
    /// HMAC with SHA-256 under a shared secret (`oct` key).
    case HS256
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`RSA` key, at least 2048 bits).
    case RS256
    /// ECDSA on P-256 with SHA-256 (`EC` key, `crv` `P-256`).
    case ES256

    /// The key type that verifies this algorithm, and only this one: a key is
    /// never used with an algorithm of another family (no HS256 "signed" with
    /// an RSA public key).
    var keyType: JSONWebKey.KeyType {
        switch self {
        case .HS256: .symmetric
        case .RS256: .rsa
        case .ES256: .ecP256
        }
    }
}

/// One verification key from a JWKS, with its OpenSSL key built once when the
/// set is loaded, never per request.
///
/// Immutable; the `EVP_PKEY` is only read after construction, which OpenSSL 3
/// allows from several threads at once.
public final class JSONWebKey: @unchecked Sendable {
    public enum KeyType: String, Sendable {
        case rsa = "RSA"
        case ecP256 = "EC P-256"
        case symmetric = "oct"

        /// The JWK `kty` of this type.
        var jwkType: String {
            switch self {
            case .rsa: "RSA"
            case .ecP256: "EC"
            case .symmetric: "oct"
            }
        }
    }

    /// `kid`, if the key has one.
    public let id: String?
    public let type: KeyType
    /// `alg`, if the key names one: then only that algorithm may use it.
    public let algorithm: JWTAlgorithm?
    /// RSA and EC keys.
    private let publicKey: OpaquePointer?
    /// `oct` keys.
    private let secret: [UInt8]

    private init(id: String?, type: KeyType, algorithm: JWTAlgorithm?, publicKey: OpaquePointer?, secret: [UInt8]) {
        self.id = id
        self.type = type
        self.algorithm = algorithm
        self.publicKey = publicKey
        self.secret = secret
    }

    deinit {
        if let publicKey = self.publicKey { EVP_PKEY_free(publicKey) }
    }

    /// Whether a token signed with `algorithm` may be checked against this key.
    public func verifies(_ algorithm: JWTAlgorithm) -> Bool {
        algorithm.keyType == self.type && (self.algorithm == nil || self.algorithm == algorithm)
    }

    // MARK: Building

    /// A problem with one key's material, said without echoing it.
    struct BuildError: Error {
        var member: String?
        var message: String
    }

    /// An RSA public key from its modulus and exponent (big-endian, unsigned).
    static func rsa(id: String?, algorithm: JWTAlgorithm?, modulus: [UInt8], exponent: [UInt8]) throws(BuildError)
        -> JSONWebKey
    {
        let n = BN_bin2bn(modulus, Int32(modulus.count), nil)
        let e = BN_bin2bn(exponent, Int32(exponent.count), nil)
        defer {
            BN_free(n)
            BN_free(e)
        }
        guard let n, let e else { throw Self.openSSLFailure(nil) }
        let key = try Self.fromParameters(type: "RSA") { builder in
            OSSL_PARAM_BLD_push_BN(builder, CStrings.rsaModulus, n) == 1
                && OSSL_PARAM_BLD_push_BN(builder, CStrings.rsaExponent, e) == 1
        }
        let bits = EVP_PKEY_get_bits(key)
        guard bits >= 2048 else {
            EVP_PKEY_free(key)
            throw BuildError(
                member: "n", message: "an RSA key of \(bits) bits is too small (RS256 needs at least 2048)")
        }
        return JSONWebKey(id: id, type: .rsa, algorithm: algorithm, publicKey: key, secret: [])
    }

    /// A P-256 public key from its affine coordinates (32 bytes each); the point must be on the curve.
    static func ecP256(id: String?, algorithm: JWTAlgorithm?, x: [UInt8], y: [UInt8]) throws(BuildError) -> JSONWebKey {
        guard x.count == 32 else {
            throw BuildError(member: "x", message: "must be 32 bytes for P-256, got \(x.count)")
        }
        guard y.count == 32 else {
            throw BuildError(member: "y", message: "must be 32 bytes for P-256, got \(y.count)")
        }
        // The uncompressed point, allocated here so it outlives the parameters that point at it.
        let point = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 65)
        defer { point.deallocate() }
        point[0] = 0x04
        _ = UnsafeMutableBufferPointer(rebasing: point[1..<33]).initialize(from: x)
        _ = UnsafeMutableBufferPointer(rebasing: point[33..<65]).initialize(from: y)
        let key: OpaquePointer
        do {
            key = try Self.fromParameters(type: "EC") { builder in
                OSSL_PARAM_BLD_push_utf8_string(builder, CStrings.group, CStrings.prime256v1, 0) == 1
                    && OSSL_PARAM_BLD_push_octet_string(builder, CStrings.publicKey, point.baseAddress, 65) == 1
            }
        } catch {
            throw BuildError(member: "x", message: "x and y are not a point on P-256")
        }
        return JSONWebKey(id: id, type: .ecP256, algorithm: algorithm, publicKey: key, secret: [])
    }

    /// A shared HMAC secret; RFC 7518 §3.2 asks for at least as many bits as the hash (256).
    static func symmetric(id: String?, algorithm: JWTAlgorithm?, secret: [UInt8]) throws(BuildError) -> JSONWebKey {
        guard secret.count >= 32 else {
            throw BuildError(member: "k", message: "an HS256 key must be at least 32 bytes, got \(secret.count)")
        }
        return JSONWebKey(id: id, type: .symmetric, algorithm: algorithm, publicKey: nil, secret: secret)
    }

    /// `EVP_PKEY_fromdata` for a public key from the parameters `push` adds
    /// (whose pointers must stay valid until this returns), then OpenSSL's own
    /// public-key check.
    private static func fromParameters(type: String, push: (OpaquePointer) -> Bool) throws(BuildError)
        -> OpaquePointer
    {
        guard let builder = OSSL_PARAM_BLD_new() else { throw Self.openSSLFailure(nil) }
        defer { OSSL_PARAM_BLD_free(builder) }
        guard push(builder), let parameters = OSSL_PARAM_BLD_to_param(builder) else {
            throw Self.openSSLFailure(nil)
        }
        defer { OSSL_PARAM_free(parameters) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { throw Self.openSSLFailure(nil) }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_fromdata_init(context) == 1,
            EVP_PKEY_fromdata(context, &key, CGatewayOpenSSL_EVP_PKEY_PUBLIC_KEY(), parameters) == 1,
            let key
        else { throw Self.openSSLFailure(nil) }
        guard let check = EVP_PKEY_CTX_new_from_pkey(nil, key, nil) else {
            EVP_PKEY_free(key)
            throw Self.openSSLFailure(nil)
        }
        defer { EVP_PKEY_CTX_free(check) }
        guard EVP_PKEY_public_check(check) == 1 else {
            EVP_PKEY_free(key)
            throw Self.openSSLFailure(nil)
        }
        return key
    }

    private static func openSSLFailure(_ member: String?) -> BuildError {
        BuildError(member: member, message: "OpenSSL refused the key: \(OpenSSLErrorQueue.drain())")
    }

    // MARK: Verifying

    /// Whether `signature` is this key's signature of `message` with `algorithm`
    /// (which `verifies(_:)` allowed). Leaves OpenSSL's error queue empty.
    func verify(
        _ algorithm: JWTAlgorithm, message: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer
    ) -> Bool {
        switch algorithm {
        case .HS256:
            guard signature.count == 32 else { return false }
            return withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { mac in
                let computed = self.secret.withUnsafeBytes { key in
                    OpenSSLAlgorithms.shared.hmacSHA256(key: key, message: message, into: mac)
                }
                // CRYPTO_memcmp: the time does not depend on where the bytes differ.
                return computed && CRYPTO_memcmp(mac.baseAddress, signature.baseAddress, 32) == 0
            }
        case .RS256:
            return self.digestVerify(message: message, signature: signature)
        case .ES256:
            // JWS carries r || s (RFC 7518 §3.4); OpenSSL verifies the DER ECDSA-Sig-Value.
            guard signature.count == 64 else { return false }
            return withUnsafeTemporaryAllocation(byteCount: 80, alignment: 8) { der in
                guard let length = Self.derSignature(raw: signature, into: der) else { return false }
                return self.digestVerify(message: message, signature: UnsafeRawBufferPointer(rebasing: der[..<length]))
            }
        }
    }

    private func digestVerify(message: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer) -> Bool {
        guard let publicKey = self.publicKey, let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, OpenSSLAlgorithms.shared.sha256, nil, publicKey) == 1 else {
            OpenSSLErrorQueue.clear()
            return false
        }
        let verified = EVP_DigestVerify(
            context, signature.baseAddress?.assumingMemoryBound(to: UInt8.self), signature.count,
            message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count)
        if verified != 1 { OpenSSLErrorQueue.clear() }
        return verified == 1
    }

    /// r || s (32 bytes each) as a DER `ECDSA-Sig-Value`, through OpenSSL's `ECDSA_SIG`.
    static func derSignature(raw: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        let bytes = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard let r = BN_bin2bn(bytes, 32, nil) else { return nil }
        guard let s = BN_bin2bn(bytes + 32, 32, nil) else {
            BN_free(r)
            return nil
        }
        guard ECDSA_SIG_set0(signature, r, s) == 1 else {  // owns r and s from here
            BN_free(r)
            BN_free(s)
            OpenSSLErrorQueue.clear()
            return nil
        }
        guard i2d_ECDSA_SIG(signature, nil) <= output.count else { return nil }
        var cursor: UnsafeMutablePointer<UInt8>? = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let length = i2d_ECDSA_SIG(signature, &cursor)
        guard length > 0 else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        return Int(length)
    }
}
