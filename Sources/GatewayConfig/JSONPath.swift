/// A position in the document, printed the way an operator would write it in
/// JavaScript: `routes[1].match.path`, or `(root)` for the document itself.
struct JSONPath: Sendable, Equatable, CustomStringConvertible {
    /// The path as written, empty for the root.
    private(set) var text: String

    init(text: String) {
        self.text = text
    }

    static let root = JSONPath(text: "")

    func appending(key: String) -> JSONPath {
        let isPlainKey =
            !key.isEmpty
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" || $0 == "-") }
        if isPlainKey {
            return JSONPath(text: text.isEmpty ? key : text + "." + key)
        }
        // Keys with dots, spaces or quotes in them are bracketed so the path stays unambiguous.
        var escaped = ""
        for character in key {
            if character == "\\" || character == "\"" {
                escaped.append("\\")
            }
            escaped.append(character)
        }
        return JSONPath(text: text + "[\"" + escaped + "\"]")
    }

    func appending(index: Int) -> JSONPath {
        JSONPath(text: text + "[\(index)]")
    }

    var description: String {
        text.isEmpty ? "(root)" : text
    }
}
