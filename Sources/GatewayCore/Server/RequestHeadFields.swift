import GatewayProxy
import NIOHTTP1

/// The fields of a request head the handler reads for every request, found in one pass
/// over the headers rather than a `first(name:)` or `contains(name:)` scan each.
struct RequestHeadFields {
    /// The first `Content-Length`, if it is a number.
    var contentLength: Int?
    var hasTransferEncoding = false
    /// The first `Host`.
    var host: Substring?
    var hasExpect = false

    init(_ headers: HTTPHeaders) {
        var sawContentLength = false
        for (name, value) in headers {
            switch name.utf8.count {
            case 4 where self.host == nil && name.caseInsensitiveEquals("host"):
                self.host = Substring(value)
            case 6 where name.caseInsensitiveEquals("expect"):
                self.hasExpect = true
            case 14 where !sawContentLength && name.caseInsensitiveEquals("content-length"):
                sawContentLength = true
                self.contentLength = Int(value)
            case 17 where name.caseInsensitiveEquals("transfer-encoding"):
                self.hasTransferEncoding = true
            default:
                break
            }
        }
    }

    /// RFC 9112 §6.3: a request without `Content-Length` or `Transfer-Encoding` has no body.
    var hasBody: Bool {
        (self.contentLength ?? 0) > 0 || self.hasTransferEncoding
    }
}
