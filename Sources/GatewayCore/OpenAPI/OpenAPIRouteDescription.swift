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
    /// `components.securitySchemes` the operations name (a route with `auth`).
    let securitySchemes: [(name: String, scheme: JSONValue)]

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
        // The gateway's own steps, in the order they run: auth, rate limits, validation.
        var extra = OperationAdditions()
        if let auth = route.auth {
            extra.add(auth)
            schemas += Self.gatewayErrorSchemas
        }
        if !route.rateLimits.isEmpty {
            extra.responses.append(("429", Self.gatewayErrorResponse("Too many requests: a rate limit refused it")))
            schemas += Self.gatewayErrorSchemas
        }
        if let validation = route.validation {
            extra.add(validation)
            schemas += ValidationErrorOpenAPI.schemas
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
                            extra: extra)
                    ))
            }
            schemas += description.schemas
        } else {
            if case .exact = route.match.path {
                // Typed by `validation.path` where it says; any other segment is a string.
                for name in route.match.path.parameterNames where !extra.describes(name, in: "path") {
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
                            name: route.name, method: method, pathKey: self.pathKey, fields: fields, extra: extra)
                    ))
            }
        }
        self.operations = operations
        self.schemas = schemas
        self.securitySchemes = extra.securitySchemes
    }

    /// `summary` and `operationId` as FastAPI makes them from an endpoint's name,
    /// `security`, then `fields` with the gateway's own parameters, request body
    /// and responses for the route merged in, in FastAPI's member order.
    static func operation(
        name: String, method: String, pathKey: String, fields: JSONObject, extra: OperationAdditions
    ) -> JSONObject {
        var operation = JSONObject(["summary": .string(ValidationErrorOpenAPI.title(name))])
        if let description = fields["description"] { operation["description"] = description }
        operation["operationId"] = .string(Self.operationID(name: name, path: pathKey, method: method))
        if !extra.security.isEmpty { operation["security"] = .array(extra.security) }
        // Parameters the handler or the path already shows keep their place; the others follow.
        var parameters = fields["parameters"]?.arrayElements ?? []
        for parameter in extra.parameters where !parameters.contains(where: { Self.sameParameter($0, parameter) }) {
            parameters.append(parameter)
        }
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if let body = fields["requestBody"] ?? extra.requestBody { operation["requestBody"] = body }
        for (key, value) in fields.pairs where !["parameters", "requestBody", "description"].contains(key) {
            if key == "responses", case .object(var responses) = value {
                for (status, response) in extra.responses.sorted(by: { $0.0 < $1.0 }) where responses[status] == nil {
                    responses[status] = response
                }
                operation[key] = .object(responses)
            } else {
                operation[key] = value
            }
        }
        return operation
    }

    static func sameParameter(_ one: JSONValue, _ other: JSONValue) -> Bool {
        guard case .object(let a) = one, case .object(let b) = other else { return false }
        return a["in"] == b["in"] && a["name"] == b["name"]
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

/// What the gateway's own steps add to a route's operations: `security` and
/// 401/403 for `auth`, 429 for `rate_limits`, and for `validation` the typed
/// parameters, the JSON request body and FastAPI's 422.
struct OperationAdditions {
    var security: [JSONValue] = []
    var securitySchemes: [(name: String, scheme: JSONValue)] = []
    /// Path, then query, then header parameters, as FastAPI lists them.
    var parameters: [JSONValue] = []
    var requestBody: JSONValue?
    var responses: [(String, JSONValue)] = []

    func describes(_ name: String, in location: String) -> Bool {
        self.parameters.contains { parameter in
            guard case .object(let object) = parameter else { return false }
            return object["in"] == .string(location) && object["name"] == .string(name)
        }
    }

    mutating func add(_ validation: ValidationConfiguration) {
        for (location, list, always) in [
            ("path", validation.path, true), ("query", validation.query, false), ("header", validation.headers, false),
        ] {
            for parameter in list {
                self.parameters.append(
                    .object(
                        JSONObject([
                            "name": .string(parameter.name), "in": .string(location),
                            "required": .bool(always || parameter.required),
                            "schema": Self.titled(parameter.schema.document, parameter.name),
                        ])))
            }
        }
        if let body = validation.body {
            self.requestBody = .object(
                JSONObject([
                    "content": .object(
                        JSONObject(["application/json": .object(JSONObject(["schema": body.document]))])),
                    "required": .bool(true),
                ]))
        }
        self.responses.append(("422", ValidationErrorOpenAPI.response))
    }

    mutating func add(_ auth: RouteAuthConfiguration) {
        var refusesKnownIdentities = false
        switch auth.method {
        case .apiKey(let key):
            // Either place is accepted, so each is an alternative requirement.
            if let header = key.header {
                self.scheme("APIKeyHeader_" + header, ["type": .string("apiKey"), "in": .string("header"), "name": .string(header)])
            }
            if let query = key.query {
                self.scheme("APIKeyQuery_" + query, ["type": .string("apiKey"), "in": .string("query"), "name": .string(query)])
            }
            refusesKnownIdentities = key.allow != nil
        case .jwt(let jwt):
            self.scheme("HTTPBearer", ["type": .string("http"), "scheme": .string("bearer"), "bearerFormat": .string("JWT")])
            refusesKnownIdentities = !jwt.required.isEmpty
        }
        self.responses.append(
            ("401", OpenAPIRouteDescription.gatewayErrorResponse("Not authenticated: no valid credentials")))
        if refusesKnownIdentities {
            self.responses.append(
                ("403", OpenAPIRouteDescription.gatewayErrorResponse("Forbidden: the credentials do not allow this route")))
        }
    }

    private mutating func scheme(_ name: String, _ members: KeyValuePairs<String, JSONValue>) {
        // Component names allow letters, digits, `.`, `-` and `_` only.
        let name = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
        self.security.append(.object(JSONObject([name: .array([])])))
        self.securitySchemes.append((name, .object(JSONObject(members))))
    }

    /// A parameter's schema with pydantic's `title` when it has none.
    static func titled(_ schema: JSONValue, _ name: String) -> JSONValue {
        guard case .object(var object) = schema, object["title"] == nil else { return schema }
        object["title"] = .string(ValidationErrorOpenAPI.title(name))
        return .object(object)
    }
}
