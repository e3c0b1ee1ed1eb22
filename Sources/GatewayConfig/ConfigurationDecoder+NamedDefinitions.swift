extension ConfigurationDecoder {
    /// An object of named definitions (`upstreams`, `rate_limits`, `api_keys`, `jwks`): each
    /// key is checked like a name field (reported at the member) and recorded in `names`, so
    /// references to it can be checked; a repeated key is a problem; each value is decoded by
    /// `decode`. Sorted by name, as the canonical form is: the order in the file means nothing.
    /// Nil when anything had a problem, after reporting every one.
    mutating func decodeNamedDefinitions<Definition>(
        _ field: JSONField, expected: String, names: WritableKeyPath<ConfigurationDecoder, Set<String>>,
        nameOf: (Definition) -> String,
        _ decode: (inout ConfigurationDecoder, _ name: String, JSONField) -> Definition?
    ) -> [Definition]? {
        guard case .object(let members) = field.value else {
            report(field.path, expected)
            return nil
        }
        var definitions: [Definition] = []
        var valid = true
        for member in members {
            let path = field.path.appending(key: member.key)
            let nameIsValid = labelName(JSONField(value: .string(member.key), path: path)) != nil
            if self[keyPath: names].contains(member.key) {
                report(path, "duplicate key")
                valid = false
                continue
            }
            self[keyPath: names].insert(member.key)
            guard let definition = decode(&self, member.key, JSONField(value: member.value, path: path)), nameIsValid
            else {
                valid = false
                continue
            }
            definitions.append(definition)
        }
        return valid ? definitions.sorted { nameOf($0) < nameOf($1) } : nil
    }
}

extension ConfigurationDecoder {
    /// An array of names that must each name a definition in `known` (`rate_limits` of a
    /// route, `allow` of an API key policy), each once. `unknown` words the problem for a
    /// name that is not there, given the sorted, quoted known names ("" when there are none).
    mutating func decodeNameReferences(
        _ elements: [JSONField], known: Set<String>, unknown: (_ name: String, _ known: String) -> String?
    ) -> [String]? {
        var names: [String] = []
        var valid = true
        for element in elements {
            guard let name = string(element) else {
                valid = false
                continue
            }
            guard known.contains(name) else {
                let knownNames = known.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                if let message = unknown(name, knownNames) { report(element.path, message) }
                valid = false
                continue
            }
            guard !names.contains(name) else {
                report(element.path, "\"\(name)\" is listed twice")
                valid = false
                continue
            }
            names.append(name)
        }
        return valid ? names : nil
    }

    /// An array of strings each parsed by `parse` (CIDR ranges, CORS origins), each
    /// problem reported at its element; repeated values are kept once.
    mutating func decodeParsedStrings<Value: Equatable>(
        _ elements: [JSONField], _ parse: (String) throws(InvalidValue) -> Value
    ) -> [Value]? {
        var values: [Value] = []
        var valid = true
        for element in elements {
            guard let text = string(element) else {
                valid = false
                continue
            }
            do {
                let value = try parse(text)
                if !values.contains(value) { values.append(value) }
            } catch {
                report(element.path, error.message)
                valid = false
            }
        }
        return valid ? values : nil
    }
}
