// The top-level `openapi` object: enabled, path, docs_path, title, version,
// description. Its two paths are checked against the routes like any two
// routes are, once the routes are decoded.

extension ConfigurationDecoder {
    /// `.some(nil)` when the document is not served, `nil` after reporting a problem.
    mutating func decodeOpenAPI(_ field: JSONField?) -> OpenAPIConfiguration?? {
        guard let field else { return .some(nil) }
        guard let object = object(field, keys: ConfigurationKeys.openAPI) else { return nil }
        var valid = true
        let enabledField = object.field("enabled")
        let enabled = bool(enabledField)
        if enabledField != nil && enabled == nil { valid = false }
        var configuration = OpenAPIConfiguration()
        let pathField = object.field("path")
        if let pathField {
            if let path = decodeServedPath(pathField) { configuration.path = path } else { valid = false }
        }
        let docsField = object.field("docs_path")
        if let docsField {
            if case .null = docsField.value {
                configuration.docsPath = nil
            } else if let path = decodeServedPath(docsField) {
                configuration.docsPath = path
            } else {
                valid = false
            }
        }
        if valid, configuration.docsPath == configuration.path {
            if let docsField {
                report(docsField.path, "must differ from \"path\" (\(configuration.path))")
            } else if let pathField {
                report(pathField.path, "must differ from \"docs_path\" (\(configuration.path))")
            }
            valid = false
        }
        if let field = object.field("title") {
            if let text = nonEmptyString(field) { configuration.title = text } else { valid = false }
        }
        if let field = object.field("version") {
            if let text = nonEmptyString(field) { configuration.version = text } else { valid = false }
        }
        if let field = object.field("description") {
            if let text = string(field) { configuration.description = text } else { valid = false }
        }
        guard valid else { return nil }
        return .some(enabled == false ? nil : configuration)
    }

    /// A literal path the gateway serves a page at. It ends up inside the Swagger UI
    /// page's script, so characters that would need escaping there are refused.
    private mutating func decodeServedPath(_ field: JSONField) -> String? {
        guard let text = string(field) else { return nil }
        if let problem = PathPattern.validateExact(text) {
            report(field.path, problem.message)
            return nil
        }
        guard !text.contains(where: { "{}'\"<>\\%".contains($0) }) else {
            report(field.path, "must be a plain path without parameters, quotes, \"<\", \">\", \"\\\" or \"%\"")
            return nil
        }
        return text
    }

    /// The document and page are routes for `GET` and `HEAD` on any host: a route
    /// with the same path shape, no host and one of those methods would be matched
    /// first by neither, so the file is refused as for two conflicting routes.
    mutating func checkOpenAPIConflicts(_ openAPI: OpenAPIConfiguration, routes: [RouteConfiguration], at path: JSONPath) {
        let served = [("path", openAPI.path), ("docs_path", openAPI.docsPath)]
        for case (let key, let servedPath?) in served {
            let shape = PathPattern.exact(servedPath).matchingShape
            for (index, route) in routes.enumerated() where route.match.host == nil {
                guard route.match.path.matchingShape == shape else { continue }
                let methods = route.match.methods ?? ["GET", "HEAD"]
                let common = methods.filter { $0 == "GET" || $0 == "HEAD" }
                guard !common.isEmpty else { continue }
                report(
                    path.appending(key: key),
                    "conflicts with routes[\(index)] (\"\(route.name)\"): both match \(common.joined(separator: ", "))"
                        + " on path \"\(servedPath)\"; move the page or the route (or give the route a \"host\")")
            }
        }
    }
}
