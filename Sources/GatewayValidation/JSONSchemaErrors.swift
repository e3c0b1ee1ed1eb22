/// Why a schema document does not compile: every problem found, in the order the compiler met them.
public struct JSONSchemaErrors: Error, Sendable, Equatable, CustomStringConvertible {
    /// One problem, at a path inside the schema ("properties.qty.minimum"; "" is the root).
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var message: String

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }

        public var description: String { self.path.isEmpty ? self.message : "\(self.path): \(self.message)" }
    }

    public var problems: [Problem]

    public init(problems: [Problem]) {
        self.problems = problems
    }

    public var description: String { self.problems.map(\.description).joined(separator: "\n") }
}

/// A path inside a schema document, written like a config JSON path relative to the schema root.
struct SchemaPath: Sendable, CustomStringConvertible {
    private(set) var text = ""

    func appending(key: String) -> SchemaPath {
        var copy = self
        let isPlainKey =
            !key.isEmpty
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" || $0 == "-") }
        if isPlainKey {
            copy.text = self.text.isEmpty ? key : self.text + "." + key
        } else {
            // Keys with dots, spaces or quotes are bracketed so the path stays unambiguous.
            var escaped = ""
            for character in key {
                if character == "\\" || character == "\"" { escaped.append("\\") }
                escaped.append(character)
            }
            copy.text = self.text + "[\"" + escaped + "\"]"
        }
        return copy
    }

    func appending(index: Int) -> SchemaPath {
        var copy = self
        copy.text += "[\(index)]"
        return copy
    }

    var description: String { self.text }
}
