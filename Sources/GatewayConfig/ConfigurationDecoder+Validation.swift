import Foundation
import GatewayValidation

// A route's `validation`: `path`, `query` and `headers` map parameter names to
// JSON Schemas, `required` lists the query and header parameters that must be
// present, and `body` is a JSON Schema inline or `{"file": "schemas/x.json"}`.
// Every schema is compiled here, so its problems carry their JSON paths.

extension ConfigurationDecoder {
    mutating func decodeValidation(_ field: JSONField, match: RouteMatchConfiguration?) -> ValidationConfiguration? {
        guard let validation = object(field, keys: ConfigurationKeys.validation) else { return nil }
        var valid = true
        var configuration = ValidationConfiguration()

        let required = validation.field("required").flatMap { decodeRequiredParameters($0) }
        if validation.field("required") != nil && required == nil { valid = false }

        if let pathField = validation.field("path") {
            if let parameters = decodePathParameters(pathField, match: match) {
                configuration.path = parameters
            } else {
                valid = false
            }
        }
        for (key, location) in [("query", ParameterLocation.query), ("headers", .header)] {
            let names = required?[key] ?? []
            guard let locationField = validation.field(key) else {
                for name in names {
                    report(name.path, "\"\(name.value)\" is not declared in \"\(key)\"")
                    valid = false
                }
                continue
            }
            guard let parameters = decodeParameters(locationField, location: location, required: names) else {
                valid = false
                continue
            }
            if location == .query { configuration.query = parameters } else { configuration.headers = parameters }
        }
        if let bodyField = validation.field("body") {
            if let body = decodeBodySchema(bodyField) { configuration.body = body } else { valid = false }
        }
        return valid ? configuration : nil
    }

    private enum ParameterLocation: Equatable {
        case query, header
    }

    /// `required`: `{"query": [names], "headers": [names]}`, each name with its path.
    private mutating func decodeRequiredParameters(
        _ field: JSONField
    ) -> [String: [(value: String, path: JSONPath)]]? {
        guard let required = object(field, keys: ConfigurationKeys.validationRequired) else { return nil }
        var result: [String: [(value: String, path: JSONPath)]] = [:]
        var valid = true
        for key in ConfigurationKeys.validationRequired {
            guard let elements = array(required.field(key)) else {
                if required.field(key) != nil { valid = false }
                continue
            }
            var names: [(value: String, path: JSONPath)] = []
            for element in elements {
                guard let name = nonEmptyString(element) else {
                    valid = false
                    continue
                }
                names.append((name, element.path))
            }
            result[key] = names
        }
        return valid ? result : nil
    }

    /// `path`: every name must be a `{param}` of the route's path template.
    private mutating func decodePathParameters(
        _ field: JSONField, match: RouteMatchConfiguration?
    ) -> [ValidatedParameter]? {
        guard case .object(let members) = field.value else {
            report(field.path, "expected an object of parameter names to schemas")
            return nil
        }
        let declared = match?.path.parameterNames ?? []
        var parameters: [ValidatedParameter] = []
        var valid = true
        var seen: Set<String> = []
        for member in members {
            let path = field.path.appending(key: member.key)
            guard seen.insert(member.key).inserted else {
                report(path, "duplicate key")
                valid = false
                continue
            }
            if let match, !declared.contains(member.key) {
                let template = match.path.template
                switch match.path {
                case .prefix:
                    report(path, "a \"prefix\" route has no path parameters")
                case .exact:
                    let known =
                        declared.isEmpty
                        ? "it has none" : "its parameters: " + declared.joined(separator: ", ")
                    report(path, "\"\(member.key)\" is not a parameter of the route's path \"\(template)\" (\(known))")
                }
                valid = false
                continue
            }
            guard let schema = decodeSchema(JSONField(value: member.value, path: path)) else {
                valid = false
                continue
            }
            guard schema.compiled.isParameterSchema, !schema.compiled.isArray else {
                report(path, "a path parameter's schema must be a single value (string, integer, number, boolean)")
                valid = false
                continue
            }
            parameters.append(ValidatedParameter(name: member.key, required: true, schema: schema))
        }
        return valid ? parameters : nil
    }

    /// `query` or `headers`: names to schemas; `required` names must be among them.
    private mutating func decodeParameters(
        _ field: JSONField, location: ParameterLocation, required: [(value: String, path: JSONPath)]
    ) -> [ValidatedParameter]? {
        guard case .object(let members) = field.value else {
            report(field.path, "expected an object of parameter names to schemas")
            return nil
        }
        var parameters: [ValidatedParameter] = []
        var valid = true
        var seen: [String: String] = [:]
        for member in members {
            let path = field.path.appending(key: member.key)
            // Header names are one name whatever their case; query names are as written.
            let key = location == .header ? member.key.lowercased() : member.key
            if let first = seen[key] {
                report(path, first == member.key ? "duplicate key" : "duplicate header \"\(first)\" (names ignore case)")
                valid = false
                continue
            }
            seen[key] = member.key
            if member.key.isEmpty {
                report(path, "a parameter name must not be empty")
                valid = false
                continue
            }
            if location == .header, !member.key.unicodeScalars.allSatisfy(Self.isTokenCharacter) {
                report(path, "invalid header name \"\(member.key)\"")
                valid = false
                continue
            }
            guard let schema = decodeSchema(JSONField(value: member.value, path: path)) else {
                valid = false
                continue
            }
            let arraysAllowed = location == .query
            guard schema.compiled.isParameterSchema, arraysAllowed || !schema.compiled.isArray else {
                report(
                    path,
                    location == .query
                        ? "a query parameter's schema must be a single value or an array of them"
                        : "a header's schema must be a single value (string, integer, number, boolean)")
                valid = false
                continue
            }
            parameters.append(ValidatedParameter(name: member.key, required: false, schema: schema))
        }
        for name in required {
            let key = location == .header ? name.value.lowercased() : name.value
            guard let declared = seen[key], let index = parameters.firstIndex(where: { $0.name == declared }) else {
                if seen[key] == nil {
                    report(
                        name.path,
                        "\"\(name.value)\" is not declared in \"\(location == .query ? "query" : "headers")\"")
                    valid = false
                }
                continue
            }
            parameters[index].required = true
        }
        return valid ? parameters : nil
    }

    /// `body`: a schema, or `{"file": path}` relative to the configuration's directory.
    private mutating func decodeBodySchema(_ field: JSONField) -> ValidationSchema? {
        guard case .object(let members) = field.value else {
            report(field.path, "expected a JSON Schema object or {\"file\": path}")
            return nil
        }
        guard members.contains(where: { $0.key == "file" }) else { return decodeSchema(field) }
        guard let reference = object(field, keys: ConfigurationKeys.validationBodyFile),
            let fileField = reference.field("file"), let name = nonEmptyString(fileField)
        else { return nil }
        let file = FilePaths.resolve(name, against: baseDirectory)
        guard let data = FileManager.default.contents(atPath: file) else {
            report(fileField.path, "cannot read schema file \"\(file)\"")
            return nil
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(Array(data))
        } catch {
            report(fileField.path, "schema file \"\(name)\": \(error.message)")
            return nil
        }
        // Problems inside the file are reported at `file`, with where in the file they are.
        var inFile: [(path: String, message: String)] = []
        let schema = compileSchema(root, file: file) { inFile.append(($0, $1)) }
        for problem in inFile {
            let place = problem.path.isEmpty ? "" : " at \(problem.path)"
            report(fileField.path, "schema file \"\(name)\"\(place): \(problem.message)")
        }
        return schema
    }

    /// An inline schema, with problems at their paths in the configuration.
    private mutating func decodeSchema(_ field: JSONField) -> ValidationSchema? {
        guard case .object = field.value else {
            report(field.path, "expected a JSON Schema object")
            return nil
        }
        var problems: [(path: String, message: String)] = []
        let schema = compileSchema(field.value, file: nil) { problems.append(($0, $1)) }
        for problem in problems {
            report(field.path.appending(schemaPath: problem.path), problem.message)
        }
        return schema
    }

    /// Converts and compiles one schema document; `problem` gets each problem's
    /// path inside the document (`properties.qty.minimum`, `""` for its root).
    private func compileSchema(
        _ document: JSONValue, file: String?, problem: (String, String) -> Void
    ) -> ValidationSchema? {
        var duplicates: [String] = []
        let converted = document.validationValue(at: "", duplicates: &duplicates)
        for path in duplicates { problem(path, "duplicate key") }
        guard duplicates.isEmpty else { return nil }
        switch JSONSchema.compile(converted) {
        case .success(let compiled):
            return ValidationSchema(document: converted, compiled: compiled, file: file)
        case .failure(let errors):
            for error in errors.problems { problem(error.path, error.message) }
            return nil
        }
    }
}

extension JSONPath {
    /// A path inside a schema (`properties.qty.minimum`, `items[0]`, `["a b"]`) appended to this one.
    func appending(schemaPath: String) -> JSONPath {
        guard !schemaPath.isEmpty else { return self }
        return JSONPath(text: schemaPath.hasPrefix("[") ? self.text + schemaPath : self.text + "." + schemaPath)
    }
}

extension JSONValue {
    /// The same document as GatewayValidation's values (what the schema engine
    /// reads). Duplicate object keys are collected (by their paths inside the
    /// document) rather than decided: a schema that says two things is a problem.
    func validationValue(at path: String, duplicates: inout [String]) -> GatewayValidation.JSONValue {
        switch self {
        case .null: return .null
        case .bool(let value): return .bool(value)
        case .number(let text):
            return .number(JSONNumber(lexeme: text, isInteger: !text.contains(where: { ".eE".contains($0) })))
        case .string(let text): return .string(text)
        case .array(let elements):
            return .array(
                elements.enumerated().map { $1.validationValue(at: path + "[\($0)]", duplicates: &duplicates) })
        case .object(let members):
            var object = JSONObject()
            for member in members {
                let memberPath = JSONPath(text: path).appending(key: member.key).text
                if object[member.key] != nil {
                    duplicates.append(memberPath)
                    continue
                }
                object[member.key] = member.value.validationValue(at: memberPath, duplicates: &duplicates)
            }
            return .object(object)
        }
    }
}
