import NIOCore

/// An answer made once per configuration and served as it is, with an `ETag`
/// so that a client can revalidate it (`If-None-Match` → 304): the OpenAPI
/// document and the Swagger UI page.
struct ServedPage: Sendable {
    let body: ByteBuffer
    let contentType: StaticString
    /// A strong validator: FNV-1a 64 of the body, quoted.
    let etag: String

    init(body: ByteBuffer, contentType: StaticString) {
        self.body = body
        self.contentType = contentType
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in body.readableBytesView {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        self.etag = "\"" + String(repeating: "0", count: 16 - hex.count) + hex + "\""
    }

    /// Whether `If-None-Match` names this page's current version (or is `*`).
    func isCurrent(ifNoneMatch values: [Substring]) -> Bool {
        for value in values {
            for element in value.split(separator: ",") {
                var tag = element.trimmingHTTPWhitespace()
                if tag == "*" { return true }
                // Weak comparison, as RFC 9110 asks for If-None-Match.
                if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
                if tag == self.etag { return true }
            }
        }
        return false
    }
}

/// What a gateway-made route serves: the OpenAPI document (one per host view)
/// or the Swagger UI page.
enum GatewayPage: Sendable {
    case openAPI(OpenAPIDocuments)
    case docs(ServedPage)

    func page(forHost host: Substring?) -> ServedPage {
        switch self {
        case .openAPI(let documents): documents.page(forHost: host)
        case .docs(let page): page
        }
    }
}
