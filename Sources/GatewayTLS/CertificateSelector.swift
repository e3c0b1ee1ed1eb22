internal import CGatewayOpenSSL
internal import COpenSSL

/// Owns the server's `SSL_CTX`s and answers OpenSSL's SNI and ALPN callbacks.
///
/// OpenSSL reaches it through the `SSL_CTX`'s app data as an unretained pointer, so it must
/// outlive every `SSL*` made from its contexts: ``TLSServerContext`` owns it and every
/// ``TLSHandler`` owns the server context. Immutable once ``installCallbacks()`` ran.
final class CertificateSelector: @unchecked Sendable {
    private(set) var contexts: [OpaquePointer] = []
    private var exactNames: [String: OpaquePointer] = [:]
    /// "*.example.com" is stored under "example.com".
    private var wildcardParents: [String: OpaquePointer] = [:]
    let alpn: ALPNWireFormat

    init(alpn: ALPNWireFormat) {
        self.alpn = alpn
    }

    deinit {
        for context in self.contexts {
            SSL_CTX_free(context)
        }
    }

    var defaultContext: OpaquePointer {
        self.contexts[0]
    }

    /// Takes ownership of `context`. Earlier certificates win when names repeat.
    func add(context: OpaquePointer, serverNames: [String], isDefault: Bool) {
        self.contexts.append(context)
        for name in serverNames {
            let name = Self.normalized(name)
            if name.hasPrefix("*.") {
                let parent = String(name.dropFirst(2))
                if self.wildcardParents[parent] == nil {
                    self.wildcardParents[parent] = context
                }
            } else if self.exactNames[name] == nil {
                self.exactNames[name] = context
            }
        }
    }

    func installCallbacks() {
        let unmanaged = Unmanaged.passUnretained(self).toOpaque()
        for context in self.contexts {
            CGatewayOpenSSL_SSL_CTX_set_app_data(context, unmanaged)
            CGatewayOpenSSL_SSL_CTX_set_tlsext_servername_callback(context, serverNameCallback)
            if !self.alpn.isEmpty {
                SSL_CTX_set_alpn_select_cb(context, applicationProtocolCallback, unmanaged)
            }
        }
    }

    /// The context for a name sent by SNI: an exact name, else a wildcard one label up, else nil.
    func context(forServerName rawName: String) -> OpaquePointer? {
        let name = Self.normalized(rawName)
        if let context = self.exactNames[name] {
            return context
        }
        if let dot = name.firstIndex(of: "."),
            let context = self.wildcardParents[String(name[name.index(after: dot)...])]
        {
            return context
        }
        return nil
    }

    private static func normalized(_ name: String) -> String {
        var name = name.lowercased()
        if name.hasSuffix(".") {
            name.removeLast()
        }
        return name
    }
}

// MARK: - OpenSSL callbacks

/// Switches the connection to the certificate matching the SNI name. Unknown names keep the
/// default certificate, as nginx does.
private let serverNameCallback:
    @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32 = {
        ssl, _, _ in
        guard let ssl,
            let rawName = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name),
            let current = SSL_get_SSL_CTX(ssl),
            let selectorPointer = CGatewayOpenSSL_SSL_CTX_get_app_data(current)
        else {
            return SSL_TLSEXT_ERR_OK
        }
        let selector = Unmanaged<CertificateSelector>.fromOpaque(selectorPointer).takeUnretainedValue()
        if let chosen = selector.context(forServerName: String(cString: rawName)), chosen != current {
            SSL_set_SSL_CTX(ssl, chosen)
        }
        return SSL_TLSEXT_ERR_OK
    }

/// Picks the first of our protocols that the client offers (server preference). Without an
/// overlap the handshake goes on without ALPN rather than failing.
private let applicationProtocolCallback:
    @convention(c) (
        OpaquePointer?,
        UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
        UnsafeMutablePointer<UInt8>?,
        UnsafePointer<UInt8>?,
        UInt32,
        UnsafeMutableRawPointer?
    ) -> Int32 = { _, out, outLength, clientProtocols, clientLength, selectorPointer in
        guard let out, let outLength, let clientProtocols, let selectorPointer else {
            return SSL_TLSEXT_ERR_NOACK
        }
        let selector = Unmanaged<CertificateSelector>.fromOpaque(selectorPointer).takeUnretainedValue()
        let server = selector.alpn.bytes
        // SSL_select_next_proto takes `unsigned char **` where the callback got `const unsigned char **`.
        let result = out.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 1) { mutableOut in
            SSL_select_next_proto(
                mutableOut,
                outLength,
                server.baseAddress,
                UInt32(server.count),
                clientProtocols,
                clientLength
            )
        }
        return result == OPENSSL_NPN_NEGOTIATED ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK
    }

// MARK: - ALPN wire format

/// Protocol names as OpenSSL wants them: each prefixed by its length in one byte. The bytes
/// live as long as this value, at a stable address that OpenSSL may point into.
final class ALPNWireFormat: @unchecked Sendable {
    let bytes: UnsafeMutableBufferPointer<UInt8>

    init(_ protocols: [String]) throws(TLSError) {
        var wire: [UInt8] = []
        for name in protocols {
            let utf8 = Array(name.utf8)
            guard (1...255).contains(utf8.count) else {
                throw TLSError(
                    kind: .contextSetup,
                    message: "invalid ALPN protocol name \"\(name)\": must be 1 to 255 bytes"
                )
            }
            wire.append(UInt8(utf8.count))
            wire.append(contentsOf: utf8)
        }
        self.bytes = .allocate(capacity: wire.count)
        _ = self.bytes.initialize(from: wire)
    }

    deinit {
        self.bytes.deallocate()
    }

    var isEmpty: Bool {
        self.bytes.isEmpty
    }
}
