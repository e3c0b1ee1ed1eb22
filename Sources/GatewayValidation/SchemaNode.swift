/// One compiled (sub)schema: what pydantic type it stands for and its constraints, checked in
/// pydantic-core's order. Immutable and shared across requests.
final class SchemaNode: Sendable {
    enum Kind: Sendable {
        /// No `type`: `Any`.
        case any
        /// `None`.
        case null
        case string(StringConstraints)
        case integer(IntegerConstraints)
        case number(FloatConstraints)
        case boolean
        /// `enum` / `const`: `Literal[...]`.
        case literal(LiteralChoices)
        /// `UUID`, `datetime`, `date`, `EmailStr`.
        case format(StringFormat)
        /// An object with declared properties: a pydantic model.
        case model(ModelRules)
        /// An object without declared properties: `dict[str, T]`.
        case dictionary(values: SchemaNode?)
        case array(ArrayRules)
    }

    struct Property: Sendable {
        var name: String
        var schema: SchemaNode
        var isRequired: Bool
    }

    enum ExtraMembers: Sendable {
        /// pydantic's default: unknown members are dropped.
        case ignore
        /// `extra='forbid'`.
        case forbid
        /// `extra='allow'` with typed extras.
        case validate(SchemaNode)
    }

    struct ModelRules: Sendable {
        var properties: [Property]
        var propertyNames: Set<String>
        var extra: ExtraMembers
    }

    struct ArrayRules: Sendable {
        var items: SchemaNode?
        var minItems: Int?
        var maxItems: Int?
    }

    let kind: Kind
    /// `Optional[T]`: JSON null is accepted as is.
    let nullable: Bool
    let defaultValue: JSONValue?

    init(kind: Kind, nullable: Bool = false, defaultValue: JSONValue? = nil) {
        self.kind = kind
        self.nullable = nullable
        self.defaultValue = defaultValue
    }

    /// A type a single parameter value (text) can hold.
    var isScalar: Bool {
        switch self.kind {
        case .string, .integer, .number, .boolean, .literal, .format: return true
        case .any, .null, .model, .dictionary, .array: return false
        }
    }
}
