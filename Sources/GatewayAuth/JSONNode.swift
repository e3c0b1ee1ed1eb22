/// A whole JSON value, for documents read at configuration time (a JWKS file),
/// where a tree is simpler than scanning and allocation does not matter.
/// Parsed by `JSONScanner`, so just as strict; duplicate member names are refused.
enum JSONNode {
    case object([(key: String, value: JSONNode)])
    case array([JSONNode])
    case string(String)
    /// The number as written.
    case number(String)
    case bool(Bool)
    case null

    static func parse(_ bytes: [UInt8]) throws(JSONScanner.Failure) -> JSONNode {
        let result: Result<JSONNode, JSONScanner.Failure> = bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            do throws(JSONScanner.Failure) {
                let node = try scanner.parseValue(depth: 0)
                try scanner.expectEnd()
                return .success(node)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The member named `key` of an object.
    subscript(key: String) -> JSONNode? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    var typeName: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

extension JSONScanner {
    mutating func parseValue(depth: Int) throws(Failure) -> JSONNode {
        self.skipWhitespace()
        guard depth <= Self.maximumDepth else { throw self.fail("nested too deeply") }
        switch self.peek ?? 0 {
        case UInt8(ascii: "{"):
            try self.beginObject()
            var members: [(key: String, value: JSONNode)] = []
            var first = true
            while let token = try self.nextKey(first: &first) {
                let key = self.string(token)
                if members.contains(where: { $0.key == key }) { throw self.fail("duplicate member \"\(key)\"") }
                members.append((key, try self.parseValue(depth: depth + 1)))
            }
            return .object(members)
        case UInt8(ascii: "["):
            try self.beginArray()
            var elements: [JSONNode] = []
            var first = true
            while try self.nextElement(first: &first) { elements.append(try self.parseValue(depth: depth + 1)) }
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(self.string(try self.scanString()))
        case UInt8(ascii: "t"):
            try self.scanLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.scanLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.scanLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let range = try self.scanNumber()
            return .number(String(decoding: UnsafeBufferPointer(rebasing: self.bytes[range]), as: UTF8.self))
        default:
            throw self.fail("expected a value")
        }
    }
}
