/// A compiled JSON Schema (the subset below) that validates like the pydantic 2 model FastAPI
/// would build for it, and reports FastAPI's 422 issues byte for byte.
///
/// Each keyword has one pydantic equivalent; a keyword without one is a compile problem, so an
/// operator never has a keyword silently ignored:
///
/// | JSON Schema                                   | pydantic                                         |
/// | --------------------------------------------- | ------------------------------------------------ |
/// | `"type": "string"`                            | `str`                                            |
/// | `"type": "integer"` / `"number"`              | `int` / `float` (lax: `"12"` and `true` coerce)  |
/// | `"type": "boolean"` / `"null"`                | `bool` / `None`                                  |
/// | `"type": ["T", "null"]`                       | `Optional[T]`                                    |
/// | object with `properties` or `additionalProperties: false` | a `BaseModel` (fields in `properties` order) |
/// | `required`                                    | fields without a default; the others default to `default` or `None` |
/// | `additionalProperties: false` / schema        | `extra='forbid'` / `extra='allow'` with `__pydantic_extra__: dict[str, T]` |
/// | object without `properties`                   | `dict[str, Any]` or `dict[str, T]` (`additionalProperties` schema) |
/// | `"type": "array"`, `items`                    | `list[T]` (`list[Any]` without `items`)          |
/// | `minItems` / `maxItems`                       | `Field(min_length=…)` / `Field(max_length=…)` on the list |
/// | `enum` / `const`                              | `Literal[…]` (null allowed only when listed)     |
/// | `minimum` `maximum` `exclusiveMinimum` `exclusiveMaximum` `multipleOf` | `Field(ge=, le=, gt=, lt=, multiple_of=)` |
/// | `minLength` / `maxLength` / `pattern`         | `Field(min_length=, max_length=, pattern=)` (Rust regex: no look-around, no backreferences) |
/// | `format`: `uuid`, `date-time`, `date`, `email` | `UUID`, `datetime`, `date`, `EmailStr`          |
/// | `title` `description` `examples` `default` `$schema` `$id` | annotations, not validated          |
public struct JSONSchema: Sendable {
    let root: SchemaNode

    init(root: SchemaNode) {
        self.root = root
    }

    /// Compiles a schema document. Every unsupported keyword, wrong type or bad value is reported,
    /// all together, each with its path inside the schema written like a config JSON path relative
    /// to the schema root ("properties.qty.minimum", "items.enum[2]", "" for the root).
    public static func compile(_ document: JSONValue) -> Result<JSONSchema, JSONSchemaErrors> {
        var compiler = SchemaCompiler()
        let root = compiler.compile(document, at: SchemaPath())
        if !compiler.problems.isEmpty { return .failure(JSONSchemaErrors(problems: compiler.problems)) }
        return .success(JSONSchema(root: root))
    }

    /// Validates a decoded JSON body (as pydantic validates a FastAPI body model in lax mode),
    /// appending pydantic-shaped issues whose loc starts with `location` (e.g. `[.key("body")]`).
    public func validate(
        _ value: JSONValue,
        at location: [ValidationIssue.LocationElement],
        issues: inout [ValidationIssue]
    ) {
        var path = location
        self.root.validate(value, path: &path, issues: &issues)
    }

    /// Validates the text of a path, query or header parameter: coerced by the schema's type the
    /// way FastAPI coerces typed parameters, then checked against its constraints. Returns the
    /// coerced value, or nil after appending issues.
    public func validate(
        parameterText: Substring,
        at location: [ValidationIssue.LocationElement],
        issues: inout [ValidationIssue]
    ) -> JSONValue? {
        var path = location
        return self.root.validate(parameterText: parameterText, path: &path, issues: &issues)
    }

    /// Validates the values of a repeated query parameter against an array schema
    /// (`q: list[int] = Query()`): items are reported at `location + [index]`. A scalar schema
    /// validates the last value, as FastAPI does.
    public func validate(
        parameterTexts: [Substring],
        at location: [ValidationIssue.LocationElement],
        issues: inout [ValidationIssue]
    ) -> JSONValue? {
        var path = location
        return self.root.validate(parameterTexts: parameterTexts, path: &path, issues: &issues)
    }

    /// Whether the schema is usable for a parameter (a scalar type, or an array of scalars).
    public var isParameterSchema: Bool {
        if self.root.isScalar { return true }
        if case .array(let rules) = self.root.kind {
            return rules.items?.isScalar ?? false
        }
        return false
    }

    /// Whether the schema describes a list (a repeated query parameter).
    public var isArray: Bool {
        if case .array = self.root.kind { return true }
        return false
    }

    /// The schema's `default`, if it has one (pydantic never validates it).
    public var defaultValue: JSONValue? { self.root.defaultValue }
}
