// A route's `compression`: `true`, `false`, or an object with `gzip`,
// `min_size`, `level` and `types`.

extension ConfigurationDecoder {
    /// `.some(nil)` when the route does not compress, `nil` after reporting a problem.
    mutating func decodeCompression(_ field: JSONField) -> CompressionConfiguration?? {
        if case .bool(let enabled) = field.value {
            return .some(enabled ? CompressionConfiguration() : nil)
        }
        guard case .object = field.value else {
            report(field.path, "expected a boolean or an object")
            return nil
        }
        guard let object = object(field, keys: ConfigurationKeys.compression) else { return nil }
        var valid = true
        let gzipField = object.field("gzip")
        let gzip = bool(gzipField)
        if gzipField != nil && gzip == nil { valid = false }
        var configuration = CompressionConfiguration()
        if let field = object.field("min_size") {
            if let value = integer(field, minimum: 0) { configuration.minSize = value } else { valid = false }
        }
        if let field = object.field("level") {
            if let value = integer(field, minimum: 1) {
                if value > 9 {
                    report(field.path, "must be at most 9")
                    valid = false
                } else {
                    configuration.level = value
                }
            } else {
                valid = false
            }
        }
        if let field = object.field("types") {
            if let types = decodeCompressionTypes(field) { configuration.types = types } else { valid = false }
        }
        guard valid else { return nil }
        return .some(gzip == false ? nil : configuration)
    }

    /// Media types: `type/subtype` or `type/*`, without parameters; lowercased, duplicates dropped.
    private mutating func decodeCompressionTypes(_ field: JSONField) -> [String]? {
        guard let elements = array(field) else { return nil }
        var types: [String] = []
        var valid = true
        for element in elements {
            guard let text = string(element) else {
                valid = false
                continue
            }
            let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false)
            let isToken = { (part: Substring) in
                !part.isEmpty && part.unicodeScalars.allSatisfy { Self.isTokenCharacter($0) }
            }
            guard parts.count == 2, isToken(parts[0]), parts[0] != "*", parts[1] == "*" || isToken(parts[1]) else {
                report(element.path, "expected a media type such as \"application/json\" or \"text/*\"")
                valid = false
                continue
            }
            let type = parts.joined(separator: "/")
            if !types.contains(type) { types.append(type) }
        }
        return valid ? types : nil
    }
}
