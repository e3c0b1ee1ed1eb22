// A route's `request_decompression`: `true`, `false`, or an object with
// `max_bytes` and `max_ratio`.

extension ConfigurationDecoder {
    /// `.some(nil)` when the route does not decompress, `nil` after reporting a problem.
    mutating func decodeRequestDecompression(_ field: JSONField) -> RequestDecompressionConfiguration?? {
        if case .bool(let enabled) = field.value {
            return .some(enabled ? RequestDecompressionConfiguration() : nil)
        }
        guard case .object = field.value else {
            report(field.path, "expected a boolean or an object")
            return nil
        }
        guard let object = object(field, keys: ConfigurationKeys.requestDecompression) else { return nil }
        var configuration = RequestDecompressionConfiguration()
        var valid = true
        if let field = object.field("max_bytes") {
            if let value = integer(field, minimum: 1) { configuration.maxBytes = value } else { valid = false }
        }
        if let field = object.field("max_ratio") {
            if let value = integer(field, minimum: 1) { configuration.maxRatio = value } else { valid = false }
        }
        return valid ? .some(configuration) : nil
    }
}
