/// Python's `urllib.parse.unquote(s, encoding="utf-8", errors="replace")`, which Starlette uses
/// for query strings (via `parse_qsl`) and uvicorn for the path: `%XX` becomes a byte, invalid
/// sequences stay as they are, and the bytes of each ASCII run are decoded as UTF-8 with U+FFFD
/// for what doesn't decode.
public enum PercentDecoding {
    /// How to read bytes at or above 0x80 that arrive unescaped.
    public enum RawByteHandling: Sendable {
        /// Starlette decodes the query string as Latin-1 before parsing: each byte is one character.
        case latin1
        /// Keep the bytes as UTF-8 (a path segment; uvicorn only admits ASCII there anyway).
        case utf8
    }

    public static func decode(
        _ bytes: UnsafeRawBufferPointer,
        plusAsSpace: Bool = false,
        rawBytes: RawByteHandling = .utf8
    ) -> String {
        var simple = true
        for b in bytes where b == UInt8(ascii: "%") || b >= 0x80 || (plusAsSpace && b == UInt8(ascii: "+")) {
            simple = false
            break
        }
        if simple { return String(decoding: bytes, as: UTF8.self) }

        var result = ""
        var chunk: [UInt8] = []
        chunk.reserveCapacity(bytes.count)
        func flush() {
            if !chunk.isEmpty {
                result += String(decoding: chunk, as: UTF8.self)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b >= 0x80 && rawBytes == .latin1 {
                flush()
                result.unicodeScalars.append(Unicode.Scalar(b))
                i += 1
            } else if b == UInt8(ascii: "%"), i + 2 < n, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) {
                chunk.append(hi << 4 | lo)
                i += 3
            } else if b == UInt8(ascii: "+") && plusAsSpace {
                chunk.append(UInt8(ascii: " "))
                i += 1
            } else {
                chunk.append(b)
                i += 1
            }
        }
        flush()
        return result
    }

    public static func decode(_ text: Substring, plusAsSpace: Bool = false, rawBytes: RawByteHandling = .utf8) -> String {
        var text = text
        return text.withUTF8 { Self.decode(UnsafeRawBufferPointer($0), plusAsSpace: plusAsSpace, rawBytes: rawBytes) }
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// A query string read the way Starlette's `request.query_params` reads it:
/// `parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)`.
public struct QueryParameters: Sendable, Equatable {
    public private(set) var pairs: [(name: String, value: String)]

    public init(_ raw: Substring?) {
        self.pairs = []
        guard let raw else { return }
        Self.forEachField(raw) { name, value in
            self.pairs.append(
                (Self.decodeComponent(name), value.map(Self.decodeComponent) ?? "")
            )
            return true
        }
    }

    /// `query_params.get(name)`: the last value given for `name`.
    public func value(named name: String) -> String? {
        self.pairs.last { $0.name == name }?.value
    }

    public static func == (lhs: QueryParameters, rhs: QueryParameters) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }

    /// `query_params.get(name)` without building the whole list: only the matching value is decoded.
    public static func lastValue(named name: String, in raw: Substring?) -> String? {
        guard let raw else { return nil }
        var found: Substring?? = nil
        forEachField(raw) { fieldName, value in
            if Self.nameMatches(fieldName, name) { found = .some(value) }
            return true
        }
        guard let match = found else { return nil }
        return match.map(decodeComponent) ?? ""
    }

    private static func nameMatches(_ raw: Substring, _ name: String) -> Bool {
        if raw.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") || $0 >= 0x80 }) {
            return decodeComponent(raw) == name
        }
        return raw.utf8.elementsEqual(name.utf8)
    }

    static func decodeComponent(_ raw: Substring) -> String {
        PercentDecoding.decode(raw, plusAsSpace: true, rawBytes: .latin1)
    }

    /// Splits on `&`, drops empty fields, splits each at the first `=` (no `=`: no value).
    /// Walks indices rather than `split`, which would allocate an array per query.
    private static func forEachField(_ raw: Substring, _ body: (Substring, Substring?) -> Bool) {
        let utf8 = raw.utf8
        var start = utf8.startIndex
        while start < utf8.endIndex {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: "&")) ?? utf8.endIndex
            if start < end {
                let field = raw[start..<end]
                let keepGoing: Bool
                if let eq = field.utf8.firstIndex(of: UInt8(ascii: "=")) {
                    keepGoing = body(field[..<eq], field[field.utf8.index(after: eq)...])
                } else {
                    keepGoing = body(field, nil)
                }
                if !keepGoing { return }
            }
            start = end == utf8.endIndex ? end : utf8.index(after: end)
        }
    }
}
