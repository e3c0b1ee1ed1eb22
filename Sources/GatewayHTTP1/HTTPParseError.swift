/// Why the bytes on a connection are not an HTTP/1.1 message. Past this point the
/// byte stream can't be trusted: a client gets 431 or 400 and the connection closes;
/// an upstream connection is closed and its request answered 502.
public enum HTTPParseError: Error, Equatable, Sendable {
    /// The request target, a header field, the header section or the trailers are
    /// over the parser's `maxHeaderBytes`.
    case headerOverflow
    /// Anything else; the reason is for logs and tests.
    case malformed(String)
}
