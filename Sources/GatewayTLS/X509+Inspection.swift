internal import CGatewayOpenSSL
internal import COpenSSL

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reading names and dates out of an `X509*` for logs, metrics and tests. Not for the hot path.
enum X509Inspection {
    /// The subject in RFC 2253 form ("CN=localhost,O=Gateway Development").
    static func subject(of certificate: OpaquePointer) -> String {
        guard let name = X509_get_subject_name(certificate) else {
            return ""
        }
        return Self.string(of: name)
    }

    static func string(of name: OpaquePointer) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else {
            return ""
        }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, CGatewayOpenSSL_XN_FLAG_RFC2253()) >= 0 else {
            _ = OpenSSLErrorQueue.drain()
            return ""
        }
        return Self.drainToString(bio)
    }

    /// The end of the validity period.
    static func notAfter(of certificate: OpaquePointer) -> Date? {
        guard let time = X509_get0_notAfter(certificate) else {
            return nil
        }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else {
            _ = OpenSSLErrorQueue.drain()
            return nil
        }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// Reads everything left in a memory BIO as UTF-8 text.
    static func drainToString(_ bio: OpaquePointer) -> String {
        let count = Int(CGatewayOpenSSL_BIO_pending(bio))
        guard count > 0 else {
            return ""
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let read = BIO_read(bio, buffer.baseAddress, Int32(count))
            initialized = max(0, Int(read))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
