// `${VAR}` and `${VAR:-default}` in the string values of gateway.json, replaced
// from the environment before the document is decoded, as Docker Compose and
// Envoy's bootstrap templating do. Keys are never substituted, and neither are
// numbers or booleans, so the decoder still sees the types the file wrote.

enum EnvironmentSubstitution {
    /// The document with every reference replaced, or the problems (an unset
    /// variable without a default, a malformed reference), each with its JSON path.
    static func apply(to value: JSONValue, environment: [String: String]) -> (JSONValue, [ConfigurationProblem]) {
        var problems: [ConfigurationProblem] = []
        let result = substitute(value, at: .root, environment: environment, problems: &problems)
        return (result, problems)
    }

    private static func substitute(
        _ value: JSONValue, at path: JSONPath, environment: [String: String], problems: inout [ConfigurationProblem]
    ) -> JSONValue {
        switch value {
        case .string(let text):
            guard text.contains("$") else { return value }
            do {
                return .string(try expand(text, environment: environment))
            } catch {
                problems.append(ConfigurationProblem(path: path.description, message: error.message))
                return value
            }
        case .array(let elements):
            return .array(
                elements.enumerated().map {
                    substitute($1, at: path.appending(index: $0), environment: environment, problems: &problems)
                })
        case .object(let members):
            return .object(
                members.map {
                    JSONMember(
                        key: $0.key,
                        value: substitute(
                            $0.value, at: path.appending(key: $0.key), environment: environment, problems: &problems))
                })
        case .null, .bool, .number:
            return value
        }
    }

    /// Expands one string. `$${` is a literal `${`; a `$` not followed by `{` is kept.
    /// `${VAR:-default}` uses the default when VAR is unset or empty, as the shell does.
    static func expand(_ text: String, environment: [String: String]) throws(InvalidValue) -> String {
        var output = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("${") {
                output += "${"
                rest = after.dropFirst(2)
                continue
            }
            guard after.hasPrefix("{") else {
                output += "$"
                rest = after
                continue
            }
            guard let close = after.firstIndex(of: "}") else {
                throw InvalidValue("unterminated \"${\" in \"\(text)\" (write \"$${\" for a literal \"${\")")
            }
            let reference = after[after.index(after: after.startIndex)..<close]
            let name: Substring
            var fallback: Substring?
            if let separator = reference.firstRange(of: ":-") {
                name = reference[..<separator.lowerBound]
                fallback = reference[separator.upperBound...]
            } else {
                name = reference
            }
            guard isVariableName(name) else {
                throw InvalidValue(
                    "invalid environment reference \"${\(reference)}\" (expected ${NAME} or ${NAME:-default}, "
                        + "NAME made of letters, digits and _)")
            }
            let found = environment[String(name)]
            if let fallback {
                output += (found?.isEmpty ?? true) ? String(fallback) : found!
            } else if let found {
                output += found
            } else {
                throw InvalidValue(
                    "environment variable \(name) is not set (give a default with ${\(name):-default})")
            }
            rest = after[after.index(after: close)...]
        }
        output += rest
        return output
    }

    private static func isVariableName(_ name: Substring) -> Bool {
        guard let first = name.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
