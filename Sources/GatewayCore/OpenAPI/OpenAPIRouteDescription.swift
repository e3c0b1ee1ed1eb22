import GatewayConfig
import GatewayHandlers
import GatewayValidation

/// One route as the OpenAPI document shows it: its path template, its
/// operations and the component schemas they use. Made once per configuration.
///
/// A built-in route shows its handler's operations (the items handler's are
/// FastAPI's). A proxied route shows one operation per method with its path
/// parameters, and a `default` response: what the upstream answers is not
/// known. A prefix route is shown as `prefix{path}` with a `path` parameter
/// for the rest of the path, as FastAPI shows a `{path:path}` route.
struct OpenAPIRouteDescription {
    /// The route's `match.host`: which documents show the route (see `OpenAPIDocuments`).
    let host: String?
    /// The Paths Object key, e.g. `/items/{item_id}` or `/static/{path}`.
    let pathKey: String
    /// The matching shape (parameter names left out), so two templates OpenAPI
    /// would consider the same path share one Path Item.
    let shape: String
    /// Lowercased methods (`get`) and their Operation Objects, in the route's order.
    let operations: [(method: String, operation: JSONObject)]
    let schemas: [(name: String, schema: JSONValue)]

    /// The methods an OpenAPI 3.1 Path Item can hold; a route's other methods are not shown.
    static let documentedMethods = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"]

    init(route: RouteConfiguration, handler: (any BuiltInHandler)?) {
        self.host = route.match.host
        var pathParameters: [JSONValue] = []
        switch route.match.path {
        case .exact(let template):
            self.pathKey = template
            self.shape = route.match.path.matchingShape
        case .prefix(let prefix):
            self.pathKey = prefix + "{path}"
            self.shape = PathPattern.exact(prefix + "{path}").matchingShape
            pathParameters.append(Self.restOfPathParameter(prefix: prefix))
        }
        let methods = route.match.methods ?? Self.documentedMethods
        var operations: [(String, JSONObject)] = []
        var schemas: [(String, JSONValue)] = []
        var extraResponses: [(String, JSONValue)] = []
        if !route.rateLimits.isEmpty {
            extraResponses.append(("429", Self.gatewayErrorResponse("Too many requests: a rate limit refused it")))
            schemas += Self.gatewayErrorSchemas
        }

        if let handler {
            let description = handler.openAPI
            for operation in description.operations where methods.contains(operation.method) {
                var fields = operation.fields
                if !pathParameters.isEmpty {
                    // The rest-of-path parameter first, and `parameters` where FastAPI puts it.
                    var reordered = JSONObject([
                        "parameters": .array(pathParameters + (fields["parameters"]?.arrayElements ?? []))
                    ])
                    for (key, value) in fields.pairs where key != "parameters" { reordered[key] = value }
                    fields = reordered
                }
                operations.append(
                    (
                        operation.method.lowercased(),
                        Self.operation(
                            name: operation.name, method: operation.method, pathKey: self.pathKey, fields: fields,
                            extraResponses: extraResponses)
                    ))
            }
            schemas += description.schemas
        } else {
            if case .exact = route.match.path {
                for name in route.match.path.parameterNames {
                    pathParameters.append(Self.stringPathParameter(name))
                }
            }
            for method in methods where Self.documentedMethods.contains(method) {
                var fields = JSONObject()
                if case .prefix(let prefix) = route.match.path {
                    fields["description"] = .string(
                        "Matches every path that starts with `\(prefix)`; `{path}` is the rest of the path.")
                }
                if !pathParameters.isEmpty { fields["parameters"] = .array(pathParameters) }
                fields["responses"] = .object(
                    JSONObject(["default": .object(JSONObject(["description": .string("The upstream's response")]))]))
                operations.append(
                    (
                        method.lowercased(),
                        Self.operation(
                            name: route.name, method: method, pathKey: self.pathKey, fields: fields,
                            extraResponses: extraResponses)
                    ))
            }
        }
        self.operations = operations
        self.schemas = schemas
    }

    /// `summary` and `operationId` as FastAPI makes them from an endpoint's name,
    /// then `fields`, then the gateway's own responses for the route.
    static func operation(
        name: String, method: String, pathKey: String, fields: JSONObject, extraResponses: [(String, JSONValue)]
    ) -> JSONObject {
        var operation = JSONObject([
            "summary": .string(ValidationErrorOpenAPI.title(name)),
            "operationId": .string(Self.operationID(name: name, path: pathKey, method: method)),
        ])
        for (key, value) in fields.pairs {
            if key == "responses", case .object(var responses) = value {
                for (status, response) in extraResponses where responses[status] == nil {
                    responses[status] = response
                }
                operation[key] = .object(responses)
            } else {
                operation[key] = value
            }
        }
        return operation
    }

    /// FastAPI's `generate_unique_id`: `re.sub(r"\W", "_", name + path) + "_" + method.lower()`.
    static func operationID(name: String, path: String, method: String) -> String {
        let word = (name + path).map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" }
        return String(word) + "_" + method.lowercased()
    }

    static func stringPathParameter(_ name: String) -> JSONValue {
        .object(
            JSONObject([
                "name": .string(name), "in": .string("path"), "required": .bool(true),
                "schema": .object(
                    JSONObject(["type": .string("string"), "title": .string(ValidationErrorOpenAPI.title(name))])),
            ]))
    }

    static func restOfPathParameter(prefix: String) -> JSONValue {
        .object(
            JSONObject([
                "name": .string("path"), "in": .string("path"), "required": .bool(true),
                "description": .string("The rest of the path after `\(prefix)`; it may contain `/`."),
                "schema": .object(JSONObject(["type": .string("string"), "title": .string("Path")])),
            ]))
    }

    static func gatewayErrorResponse(_ description: String) -> JSONValue {
        .object(
            JSONObject([
                "description": .string(description),
                "content": .object(
                    JSONObject([
                        "application/json": .object(
                            JSONObject([
                                "schema": .object(JSONObject(["$ref": .string("#/components/schemas/GatewayError")]))
                            ]))
                    ])),
            ]))
    }

    /// The body of every error the gateway makes itself (`GatewayError.body`).
    static let gatewayErrorSchemas: [(String, JSONValue)] = {
        func field(_ type: String, _ title: String) -> JSONValue {
            .object(JSONObject(["type": .string(type), "title": .string(title)]))
        }
        let error: JSONValue = .object(
            JSONObject([
                "properties": .object(
                    JSONObject([
                        "status": field("integer", "Status"), "code": field("string", "Code"),
                        "message": field("string", "Message"), "request_id": field("string", "Request Id"),
                    ])),
                "type": .string("object"),
                "required": .array(["status", "code", "message", "request_id"].map { .string($0) }),
                "title": .string("Error"),
            ]))
        return [
            (
                "GatewayError",
                .object(
                    JSONObject([
                        "properties": .object(JSONObject(["error": error])), "type": .string("object"),
                        "required": .array([.string("error")]), "title": .string("GatewayError"),
                    ]))
            )
        ]
    }()
}

extension JSONValue {
    var arrayElements: [JSONValue]? {
        if case .array(let elements) = self { elements } else { nil }
    }
}
