/// How FastAPI's OpenAPI document describes the 422 body that `ValidationErrorBody`
/// writes: the `HTTPValidationError` and `ValidationError` component schemas and
/// the `422` response of every operation that validates, key for key as FastAPI
/// 0.165 generates them.
public enum ValidationErrorOpenAPI {
    /// The component schemas, by name, in FastAPI's (sorted) order.
    public static let schemas: [(name: String, schema: JSONValue)] = [
        ("HTTPValidationError", httpValidationError),
        ("ValidationError", validationError),
    ]

    /// `responses["422"]`.
    public static let response: JSONValue = .object(
        JSONObject([
            "description": .string("Validation Error"),
            "content": .object(
                JSONObject([
                    "application/json": .object(
                        JSONObject([
                            "schema": .object(JSONObject(["$ref": .string("#/components/schemas/HTTPValidationError")]))
                        ]))
                ])),
        ]))

    static let httpValidationError: JSONValue = .object(
        JSONObject([
            "properties": .object(
                JSONObject([
                    "detail": .object(
                        JSONObject([
                            "items": .object(JSONObject(["$ref": .string("#/components/schemas/ValidationError")])),
                            "type": .string("array"),
                            "title": .string("Detail"),
                        ]))
                ])),
            "type": .string("object"),
            "title": .string("HTTPValidationError"),
        ]))

    static let validationError: JSONValue = .object(
        JSONObject([
            "properties": .object(
                JSONObject([
                    "loc": .object(
                        JSONObject([
                            "items": .object(
                                JSONObject([
                                    "anyOf": .array([
                                        .object(JSONObject(["type": .string("string")])),
                                        .object(JSONObject(["type": .string("integer")])),
                                    ])
                                ])),
                            "type": .string("array"),
                            "title": .string("Location"),
                        ])),
                    "msg": .object(JSONObject(["type": .string("string"), "title": .string("Message")])),
                    "type": .object(JSONObject(["type": .string("string"), "title": .string("Error Type")])),
                    "input": .object(JSONObject(["title": .string("Input")])),
                    "ctx": .object(JSONObject(["type": .string("object"), "title": .string("Context")])),
                ])),
            "type": .string("object"),
            "required": .array([.string("loc"), .string("msg"), .string("type")]),
            "title": .string("ValidationError"),
        ]))

    /// pydantic's default title of a field or parameter: `item_id` → `Item Id`.
    public static func title(_ name: String) -> String {
        pythonTitle(name.replacingUnderscores())
    }

    /// Python's `str.title()`: a letter after a letter is lowercased, any other letter uppercased.
    public static func pythonTitle(_ text: String) -> String {
        var result = ""
        var previousIsLetter = false
        for character in text {
            if character.isLetter {
                result += previousIsLetter ? character.lowercased() : character.uppercased()
                previousIsLetter = true
            } else {
                result.append(character)
                previousIsLetter = false
            }
        }
        return result
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(self.map { $0 == "_" ? " " : $0 })
    }
}
