internal import CGatewayOpenSSL
internal import COpenSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Development certificates made with OpenSSL's C API: a local CA and leaf certificates signed
/// by it, so that `curl --cacert ca.pem https://localhost:8443` and `openssl s_client -verify`
/// accept the gateway without `-k`. Keys are EC P-256 and written with mode 0600.
///
/// These functions block on file I/O and key generation: call them at startup or from tests,
/// never on an event loop.
public enum DevelopmentCertificates {
    /// Creates the leaf certificate and key when either file is missing, and the CA when its
    /// files are missing too. Existing files are left alone.
    ///
    /// - Returns: true when it created a file.
    @discardableResult
    public static func ensure(
        caCertificatePath: String,
        caKeyPath: String,
        certificatePath: String,
        keyPath: String,
        hostnames: [String] = ["localhost"],
        ipAddresses: [String] = ["127.0.0.1", "::1"]
    ) throws(TLSError) -> Bool {
        if FileAccess.exists(certificatePath) && FileAccess.exists(keyPath) {
            return false
        }
        if !(FileAccess.exists(caCertificatePath) && FileAccess.exists(caKeyPath)) {
            try Self.makeCertificateAuthority(certificatePath: caCertificatePath, keyPath: caKeyPath)
        }
        try Self.makeCertificate(
            hostnames: hostnames,
            ipAddresses: ipAddresses,
            caCertificatePath: caCertificatePath,
            caKeyPath: caKeyPath,
            certificatePath: certificatePath,
            keyPath: keyPath
        )
        return true
    }

    /// Creates a self-signed CA certificate (CA:TRUE, keyCertSign) and its key, replacing the files.
    public static func makeCertificateAuthority(
        commonName: String = "Gateway Development CA",
        certificatePath: String,
        keyPath: String,
        validDays: Int = 3650
    ) throws(TLSError) {
        let key = try Self.generateKey()
        defer { EVP_PKEY_free(key) }
        let certificate = try Self.buildCertificate(
            commonName: commonName,
            publicKey: key,
            issuer: nil,
            signingKey: key,
            validDays: validDays,
            backdatedDays: 1,
            extensions: [
                (NID_basic_constraints, "critical,CA:TRUE"),
                (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
            ]
        )
        defer { X509_free(certificate) }
        try Self.writeKey(key, to: keyPath)
        try Self.writeCertificate(certificate, to: certificatePath)
    }

    /// Creates a server certificate for `hostnames` and `ipAddresses` (as subjectAltNames), signed
    /// by the CA in `caCertificatePath`/`caKeyPath`, replacing the files.
    ///
    /// - Parameters:
    ///   - commonName: the subject CN; defaults to the first host name (or "localhost").
    ///   - validDays: length of the validity period, which starts `backdatedDays` ago. A
    ///     `validDays` smaller than `backdatedDays` makes an expired certificate, for tests.
    public static func makeCertificate(
        commonName: String? = nil,
        hostnames: [String],
        ipAddresses: [String] = [],
        caCertificatePath: String,
        caKeyPath: String,
        certificatePath: String,
        keyPath: String,
        validDays: Int = 825,
        backdatedDays: Int = 1
    ) throws(TLSError) {
        let caCertificate = try Self.readCertificate(caCertificatePath)
        defer { X509_free(caCertificate) }
        let caKey = try Self.readKey(caKeyPath)
        defer { EVP_PKEY_free(caKey) }

        let key = try Self.generateKey()
        defer { EVP_PKEY_free(key) }
        var extensions: [(Int32, String)] = [
            (NID_basic_constraints, "critical,CA:FALSE"),
            (NID_key_usage, "critical,digitalSignature"),
            (NID_ext_key_usage, "serverAuth"),
            (NID_subject_key_identifier, "hash"),
            (NID_authority_key_identifier, "keyid:always"),
        ]
        let alternativeNames = hostnames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" }
        if !alternativeNames.isEmpty {
            extensions.append((NID_subject_alt_name, alternativeNames.joined(separator: ",")))
        }
        let certificate = try Self.buildCertificate(
            commonName: commonName ?? hostnames.first ?? "localhost",
            publicKey: key,
            issuer: caCertificate,
            signingKey: caKey,
            validDays: validDays,
            backdatedDays: backdatedDays,
            extensions: extensions
        )
        defer { X509_free(certificate) }
        try Self.writeKey(key, to: keyPath)
        try Self.writeCertificate(certificate, to: certificatePath)
    }

    // MARK: - Building

    private static func generateKey() throws(TLSError) -> OpaquePointer {
        guard let key = CGatewayOpenSSL_EVP_EC_gen("P-256") else {
            throw TLSError.certificateGeneration("cannot generate an EC P-256 key")
        }
        return key
    }

    /// A signed X509 v3 certificate; self-signed when `issuer` is nil.
    private static func buildCertificate(
        commonName: String,
        publicKey: OpaquePointer,
        issuer: OpaquePointer?,
        signingKey: OpaquePointer,
        validDays: Int,
        backdatedDays: Int,
        extensions: [(Int32, String)]
    ) throws(TLSError) -> OpaquePointer {
        guard let certificate = X509_new() else {
            throw TLSError.certificateGeneration("X509_new failed")
        }
        var succeeded = false
        defer {
            if !succeeded {
                X509_free(certificate)
            }
        }

        let secondsPerDay = 86_400
        guard X509_set_version(certificate, 2) == 1,  // v3
            ASN1_INTEGER_set_uint64(X509_get_serialNumber(certificate), UInt64.random(in: 1...UInt64(Int64.max))) == 1,
            X509_gmtime_adj(X509_getm_notBefore(certificate), -backdatedDays * secondsPerDay) != nil,
            X509_gmtime_adj(X509_getm_notAfter(certificate), (validDays - backdatedDays) * secondsPerDay) != nil,
            X509_set_pubkey(certificate, publicKey) == 1
        else {
            throw TLSError.certificateGeneration("cannot fill in certificate fields")
        }

        guard let name = X509_NAME_new() else {
            throw TLSError.certificateGeneration("X509_NAME_new failed")
        }
        defer { X509_NAME_free(name) }
        let format = CGatewayOpenSSL_MBSTRING_ASC()
        guard X509_NAME_add_entry_by_txt(name, "O", format, "Gateway Development", -1, -1, 0) == 1,
            X509_NAME_add_entry_by_txt(name, "CN", format, commonName, -1, -1, 0) == 1,
            X509_set_subject_name(certificate, name) == 1,
            X509_set_issuer_name(certificate, issuer.map { X509_get_subject_name($0) } ?? name) == 1
        else {
            throw TLSError.certificateGeneration("invalid certificate name \"\(commonName)\"")
        }

        var extensionContext = X509V3_CTX()
        CGatewayOpenSSL_X509V3_set_ctx_nodb(&extensionContext)
        X509V3_set_ctx(&extensionContext, issuer ?? certificate, certificate, nil, nil, 0)
        for (nid, value) in extensions {
            guard let x509Extension = X509V3_EXT_conf_nid(nil, &extensionContext, nid, value) else {
                throw TLSError.certificateGeneration("invalid certificate extension \"\(value)\"")
            }
            let added = X509_add_ext(certificate, x509Extension, -1)
            X509_EXTENSION_free(x509Extension)
            guard added == 1 else {
                throw TLSError.certificateGeneration("cannot add certificate extension \"\(value)\"")
            }
        }

        guard X509_sign(certificate, signingKey, EVP_sha256()) > 0 else {
            throw TLSError.certificateGeneration("cannot sign certificate")
        }
        succeeded = true
        return certificate
    }

    // MARK: - Files

    private static func readCertificate(_ path: String) throws(TLSError) -> OpaquePointer {
        if let reason = FileAccess.unreadableReason(path) {
            throw TLSError.invalidCertificate(file: path, reason: reason)
        }
        guard let file = BIO_new_file(path, "r") else {
            throw TLSError.invalidCertificate(file: path)
        }
        defer { BIO_free(file) }
        guard let certificate = PEM_read_bio_X509(file, nil, nil, nil) else {
            throw TLSError.invalidCertificate(file: path)
        }
        return certificate
    }

    private static func readKey(_ path: String) throws(TLSError) -> OpaquePointer {
        if let reason = FileAccess.unreadableReason(path) {
            throw TLSError.invalidPrivateKey(file: path, reason: reason)
        }
        guard let file = BIO_new_file(path, "r") else {
            throw TLSError.invalidPrivateKey(file: path)
        }
        defer { BIO_free(file) }
        guard let key = PEM_read_bio_PrivateKey(file, nil, nil, nil) else {
            throw TLSError.invalidPrivateKey(file: path)
        }
        return key
    }

    private static func writeCertificate(_ certificate: OpaquePointer, to path: String) throws(TLSError) {
        guard let pem = BIO_new(BIO_s_mem()) else {
            throw TLSError.certificateGeneration("BIO_new failed", file: path)
        }
        defer { BIO_free(pem) }
        guard PEM_write_bio_X509(pem, certificate) == 1 else {
            throw TLSError.certificateGeneration("cannot encode certificate", file: path)
        }
        try Self.write(X509Inspection.drainToString(pem), to: path, mode: 0o644)
    }

    private static func writeKey(_ key: OpaquePointer, to path: String) throws(TLSError) {
        guard let pem = BIO_new(BIO_s_mem()) else {
            throw TLSError.certificateGeneration("BIO_new failed", file: path)
        }
        defer { BIO_free(pem) }
        guard PEM_write_bio_PrivateKey(pem, key, nil, nil, 0, nil, nil) == 1 else {
            throw TLSError.certificateGeneration("cannot encode private key", file: path)
        }
        try Self.write(X509Inspection.drainToString(pem), to: path, mode: 0o600)
    }

    /// Writes `text` to `path` with exactly `mode`, creating missing parent directories.
    private static func write(_ text: String, to path: String, mode: mode_t) throws(TLSError) {
        try Self.createParentDirectories(of: path)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw Self.fileError("cannot create \(path)", path: path)
        }
        defer { close(descriptor) }
        // The file may have existed with looser permissions.
        guard fchmod(descriptor, mode) == 0 else {
            throw Self.fileError("cannot set permissions of \(path)", path: path)
        }
        var bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                systemWrite(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR {
                    continue
                }
                throw Self.fileError("cannot write \(path)", path: path)
            }
            written += result
        }
        bytes.removeAll()
    }

    private static func createParentDirectories(of path: String) throws(TLSError) {
        var directories: [String] = []
        var current = path
        while let slash = current.lastIndex(of: "/"), slash != current.startIndex {
            current = String(current[..<slash])
            if FileAccess.exists(current) {
                break
            }
            directories.append(current)
        }
        for directory in directories.reversed() {
            if mkdir(directory, 0o755) != 0 && errno != EEXIST {
                throw Self.fileError("cannot create directory \(directory)", path: directory)
            }
        }
    }

    private static func fileError(_ message: String, path: String) -> TLSError {
        TLSError(
            kind: .certificateGeneration,
            file: path,
            message: "\(message): \(String(cString: strerror(errno)))"
        )
    }
}

/// POSIX write(2), named apart from `DevelopmentCertificates.write(_:to:mode:)`.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
