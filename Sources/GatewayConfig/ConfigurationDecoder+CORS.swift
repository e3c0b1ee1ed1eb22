// A route's `cors` object: allow_origins, allow_methods, allow_headers,
// expose_headers, allow_credentials, max_age.

extension ConfigurationDecoder {
    /// `.some(nil)` when the route has no `cors`, `nil` after reporting a problem.
    mutating func decodeCORS(_ field: JSONField?) -> CORSConfiguration?? {
        guard let field else { return .some(nil) }
        guard let object = object(field, keys: ConfigurationKeys.cors) else { return nil }
        var valid = true
        var configuration = CORSConfiguration(allowOrigins: [])
        if let origins = decodeCORSOrigins(required(object, "allow_origins")) {
            configuration.allowOrigins = origins
        } else {
            valid = false
        }
        if let field = object.field("allow_methods") {
            if let methods = decodeCORSNames(field, kind: .method) { configuration.allowMethods = methods } else {
                valid = false
            }
        }
        if let field = object.field("allow_headers") {
            if let names = decodeCORSNames(field, kind: .header) { configuration.allowHeaders = names } else {
                valid = false
            }
        }
        let exposeField = object.field("expose_headers")
        if let exposeField {
            if let names = decodeCORSNames(exposeField, kind: .header) { configuration.exposeHeaders = names } else {
                valid = false
            }
        }
        let credentialsField = object.field("allow_credentials")
        if let credentialsField {
            if let value = bool(credentialsField) { configuration.allowCredentials = value } else { valid = false }
        }
        if let field = object.field("max_age") {
            if let value = duration(field) {
                if value < .seconds(1) {
                    report(field.path, "must be at least 1s (browsers count it in whole seconds)")
                    valid = false
                } else {
                    configuration.maxAge = value
                }
            } else {
                valid = false
            }
        }
        // Browsers refuse a credentialed answer whose origin or exposed headers are "*":
        // a file that says both would fail in every browser, so it is refused here.
        if configuration.allowCredentials, let credentialsField {
            if configuration.allowOrigins == [.any] {
                report(
                    credentialsField.path,
                    "cannot be true with \"allow_origins\": [\"*\"] (browsers refuse credentials with a wildcard"
                        + " origin); list the origins")
                valid = false
            }
            if configuration.exposeHeaders == ["*"], let exposeField {
                report(
                    exposeField.path,
                    "\"*\" exposes nothing to credentialed requests (browsers read it as a header named \"*\");"
                        + " list the headers")
                valid = false
            }
        }
        return valid ? .some(configuration) : nil
    }

    private mutating func decodeCORSOrigins(_ field: JSONField?) -> [CORSOrigin]? {
        guard let field, let elements = array(field) else { return nil }
        guard !elements.isEmpty else {
            report(field.path, "must contain at least one origin (or \"*\")")
            return nil
        }
        guard let origins = decodeParsedStrings(elements, CORSOrigin.parse) else { return nil }
        if origins.count > 1, origins.contains(.any) {
            report(field.path, "\"*\" already allows every origin; use it alone")
            return nil
        }
        return origins
    }

    private enum CORSNameKind {
        case method, header
    }

    /// Method or header tokens, or `["*"]`. Methods must be uppercase (as in `match.methods`);
    /// headers are case-insensitive, so duplicates are dropped ignoring case.
    private mutating func decodeCORSNames(_ field: JSONField, kind: CORSNameKind) -> [String]? {
        guard let elements = array(field) else { return nil }
        var names: [String] = []
        var valid = true
        for element in elements {
            guard let name = string(element) else {
                valid = false
                continue
            }
            if name == "*" {
                names.append(name)
                continue
            }
            guard !name.isEmpty, name.unicodeScalars.allSatisfy(Self.isTokenCharacter) else {
                let example = kind == .method ? "\"PUT\"" : "\"X-Request-Id\""
                report(element.path, "invalid \(kind) \"\(name)\" (expected a token such as \(example) or \"*\")")
                valid = false
                continue
            }
            if kind == .method, name != name.uppercased() {
                report(element.path, "method \"\(name)\" must be uppercase (did you mean \"\(name.uppercased())\"?)")
                valid = false
                continue
            }
            if !names.contains(where: { $0.lowercased() == name.lowercased() }) { names.append(name) }
        }
        if kind == .method, elements.isEmpty {
            report(field.path, "must not be empty (leave \"allow_methods\" out for the route's methods)")
            valid = false
        }
        if valid, names.count > 1, names.contains("*") {
            report(field.path, "\"*\" already allows every \(kind); use it alone")
            valid = false
        }
        return valid ? names : nil
    }
}
