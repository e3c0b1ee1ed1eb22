public import GatewayValidation

/// What a built-in handler contributes to the gateway's OpenAPI document: its
/// operations, described the way FastAPI describes the same endpoints, and the
/// component schemas they refer to.
public struct BuiltInOpenAPI: Sendable {
    public var operations: [BuiltInOperation]
    /// Component schemas by name (`Item`, `HTTPValidationError`, …).
    public var schemas: [(name: String, schema: JSONValue)]

    public init(operations: [BuiltInOperation] = [], schemas: [(name: String, schema: JSONValue)] = []) {
        self.operations = operations
        self.schemas = schemas
    }
}

/// One operation of a built-in handler.
public struct BuiltInOperation: Sendable {
    /// The method, e.g. `"GET"`.
    public var method: String
    /// FastAPI's endpoint function name (`read_item`): the document's `summary` and
    /// `operationId` are made from it and the route's path, as FastAPI makes them.
    public var name: String
    /// The Operation Object's other members in FastAPI's order: `parameters`, `requestBody`, `responses`.
    public var fields: JSONObject

    public init(method: String, name: String, fields: JSONObject) {
        self.method = method
        self.name = name
        self.fields = fields
    }
}

extension BuiltInHandler {
    /// A handler that describes nothing shows no operations.
    public var openAPI: BuiltInOpenAPI { BuiltInOpenAPI() }
}
