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
