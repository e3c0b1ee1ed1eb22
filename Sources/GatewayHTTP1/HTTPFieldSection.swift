/// A message's header section, parsed in place: the fields as NIO's `HTTPHeaders`
/// wants them, and the two that frame the body.
struct HTTPFieldSection {
    var fields: [(String, String)] = []
    var contentLength: Int?
    /// Whether `Transfer-Encoding` was sent, and whether its last coding is `chunked`.
    var hasTransferEncoding = false
    var isChunked = false

    /// Parses the field lines from `index` up to the blank line that ends `bytes`
    /// (field-name ":" OWS field-value OWS CRLF). Names and values together may
    /// take at most `maxBytes`.
    static func parse(_ bytes: UnsafeRawBufferPointer, from start: Int, maxBytes: Int) throws(HTTPParseError) -> Self {
        var section = Self()
        var index = start
        var fieldBytes = 0
        let end = bytes.count - 2  // the blank line's CRLF
        // One allocation for the fields, not one per doubling: a line ends in each LF.
        var lines = 0
        for offset in start..<end where bytes[offset] == 0x0A { lines += 1 }
        section.fields.reserveCapacity(lines)
        while index < end {
            let nameStart = index
            while index < end, HTTPSyntax.isTokenByte(bytes[index]) { index += 1 }
            guard index > nameStart, index < end, bytes[index] == 0x3A else {
                throw .malformed(
                    index == nameStart && HTTPSyntax.isWhitespace(bytes[index])
                        ? "obsolete line folding" : "invalid header field name")
            }
            let nameEnd = index
            index += 1
            while index < end, HTTPSyntax.isWhitespace(bytes[index]) { index += 1 }
            let valueStart = index
            var valueEnd = index
            // The head ends in CRLF CRLF, so a CR is always found.
            while bytes[index] != 0x0D {
                let byte = bytes[index]
                guard HTTPSyntax.isFieldValueByte(byte) else {
                    throw .malformed("invalid character in header field value")
                }
                index += 1
                if !HTTPSyntax.isWhitespace(byte) { valueEnd = index }
            }
            guard bytes[index + 1] == 0x0A else { throw .malformed("CR without LF") }
            index += 2
            let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameEnd])
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            fieldBytes += name.count + value.count
            if fieldBytes > maxBytes { throw .headerOverflow }
            if HTTPSyntax.equalsLowercase(name, HTTPSyntax.contentLength) {
                guard let length = HTTPSyntax.decimal(value),
                    section.contentLength == nil || section.contentLength == length
                else {
                    throw .malformed("invalid Content-Length")
                }
                section.contentLength = length
            } else if HTTPSyntax.equalsLowercase(name, HTTPSyntax.transferEncoding) {
                section.hasTransferEncoding = true
                section.isChunked = HTTPSyntax.endsInChunked(value)
            }
            section.fields.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return section
    }
}
