public import NIOCore

/// What FastAPI makes of a request body before validating it against a JSON body parameter
/// (`fastapi/routing.py`, `get_request_handler`, with `strict_content_type` on, the default).
public enum RequestBody: Sendable, Equatable {
    /// No body bytes: a required body is `missing`.
    case absent
    /// A JSON content type and a document `json.loads` accepts.
    case json(JSONDocument)
    /// Any other content type, or none: the raw bytes are validated, and no model accepts bytes.
    /// The string is the body decoded as UTF-8, nil when it isn't (echoing it then fails with 500).
    case raw(String?)
    /// `json.JSONDecodeError`: 422 with `json_invalid`, alone.
    case invalidJSON(JSONSyntaxError)
    /// Any other error from `json.loads`: 400 `There was an error parsing the body`.
    case unreadable

    public static func read(_ body: ByteBuffer?, contentType: Substring?, parser: JSONParser = JSONParser()) -> Self {
        guard let body, body.readableBytes > 0 else { return .absent }
        guard let contentType, Self.isJSON(contentType) else {
            return .raw(body.withUnsafeReadableBytes { String(validating: $0, as: UTF8.self) })
        }
        switch parser.parse(body) {
        case .success(let document): return .json(document)
        case .failure(.syntax(let error)): return .invalidJSON(error)
        case .failure(.undecodable): return .unreadable
        }
    }

    /// FastAPI's test: `email.message.Message` content type with main type `application` and
    /// subtype `json` or `*+json`. An empty header counts as absent.
    public static func isJSON(_ contentType: Substring) -> Bool {
        var value = contentType
        if let semicolon = value.firstIndex(of: ";") { value = value[..<semicolon] }
        value = Self.trimPythonWhitespace(value)
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }  // email: anything else is text/plain
        guard Self.asciiLowercaseEquals(parts[0], "application") else { return false }
        let subtype = parts[1]
        if Self.asciiLowercaseEquals(subtype, "json") { return true }
        return subtype.utf8.count >= 5 && Self.asciiLowercaseEquals(subtype.suffix(5), "+json")
    }

    private static func asciiLowercaseEquals(_ text: Substring, _ lower: StaticString) -> Bool {
        guard text.utf8.count == lower.utf8CodeUnitCount else { return false }
        for (k, c) in text.utf8.enumerated() {
            let folded = c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c + 32 : c
            if folded != lower.utf8Start[k] { return false }
        }
        return true
    }

    /// `str.strip()`.
    private static func trimPythonWhitespace(_ text: Substring) -> Substring {
        func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace || (0x1C...0x1F).contains(s.value) }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return text[text.endIndex...] }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return Substring(scalars[first...last])
    }
}
