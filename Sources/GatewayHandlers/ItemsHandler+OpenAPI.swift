public import GatewayValidation

/// The items API as FastAPI's `/openapi.json` describes the tutorial app, member
/// for member (checked against FastAPI's own output in `OpenAPIDocumentTests`).
/// The `Item` schema and the `item_id` parameter are made from the same
/// `ObjectSchema` and `ParameterSchema` the handler validates with.
extension ItemsHandler {
    public var openAPI: BuiltInOpenAPI {
        let itemBody: JSONValue = .object(
            JSONObject([
                "application/json": .object(
                    JSONObject(["schema": .object(JSONObject(["$ref": .string("#/components/schemas/Item")]))]))
            ]))
        let itemID = Self.openAPIParameter(Self.itemIDParameter, nullable: false)
        var operations: [BuiltInOperation] = []
        if self.hasItemID {
            let q = Self.openAPIParameter(
                ParameterSchema(name: "q", location: .query, type: .string, requirement: .defaultValue(.null)),
                nullable: true)
            operations.append(
                BuiltInOperation(
                    method: "GET", name: "read_item",
                    fields: JSONObject(["parameters": .array([itemID, q]), "responses": Self.responses])))
            operations.append(
                BuiltInOperation(
                    method: "PUT", name: "update_item",
                    fields: JSONObject([
                        "parameters": .array([itemID]),
                        "requestBody": .object(JSONObject(["required": .bool(true), "content": itemBody])),
                        "responses": Self.responses,
                    ])))
        } else {
            // FastAPI happens to write this one's requestBody members the other way round.
            operations.append(
                BuiltInOperation(
                    method: "POST", name: "create_item",
                    fields: JSONObject([
                        "requestBody": .object(JSONObject(["content": itemBody, "required": .bool(true)])),
                        "responses": Self.responses,
                    ])))
        }
        return BuiltInOpenAPI(
            operations: operations,
            schemas: [("Item", Self.openAPIModel(Self.itemSchema, title: "Item"))] + ValidationErrorOpenAPI.schemas)
    }

    private static let responses: JSONValue = .object(
        JSONObject([
            "200": .object(
                JSONObject([
                    "description": .string("Successful Response"),
                    "content": .object(
                        JSONObject(["application/json": .object(JSONObject(["schema": .object(JSONObject())]))])),
                ])),
            "422": ValidationErrorOpenAPI.response,
        ]))

    /// A pydantic model's JSON schema: `properties`, `type`, `required`, `title`.
    static func openAPIModel(_ schema: ObjectSchema, title: String) -> JSONValue {
        var properties = JSONObject()
        var required: [JSONValue] = []
        for property in schema.properties {
            properties[property.name] = .object(
                Self.typeSchema(property.type, nullable: property.nullable, title: property.name))
            if case .required = property.requirement { required.append(.string(property.name)) }
        }
        var model = JSONObject(["properties": .object(properties), "type": .string("object")])
        if !required.isEmpty { model["required"] = .array(required) }
        model["title"] = .string(title)
        return .object(model)
    }

    static func openAPIParameter(_ parameter: ParameterSchema, nullable: Bool) -> JSONValue {
        let required: Bool
        if case .required = parameter.requirement { required = true } else { required = false }
        return .object(
            JSONObject([
                "name": .string(parameter.name),
                "in": .string(parameter.location.rawValue),
                "required": .bool(required),
                "schema": .object(Self.typeSchema(parameter.type, nullable: nullable, title: parameter.name)),
            ]))
    }

    /// `{"type": T, "title": …}`, or for `T | None` `{"anyOf": [{"type": T}, {"type": "null"}], "title": …}`.
    private static func typeSchema(_ type: ValueType, nullable: Bool, title name: String) -> JSONObject {
        let title = JSONValue.string(ValidationErrorOpenAPI.title(name))
        guard nullable else { return JSONObject(["type": .string(type.rawValue), "title": title]) }
        return JSONObject([
            "anyOf": .array([
                .object(JSONObject(["type": .string(type.rawValue)])), .object(JSONObject(["type": .string("null")])),
            ]),
            "title": title,
        ])
    }
}
