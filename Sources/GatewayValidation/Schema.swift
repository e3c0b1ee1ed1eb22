/// The value types of the supported JSON Schema subset.
public enum ValueType: String, Sendable, Equatable {
    case string, number, integer, boolean, object, array
}

/// Whether a field must be present, and what it is when it isn't.
public enum Requirement: Sendable, Equatable {
    case required
    case defaultValue(JSONValue)
}

/// A typed path, query, header or cookie parameter (FastAPI's `item_id: int`, `q: str | None = None`).
public struct ParameterSchema: Sendable, Equatable {
    public enum Location: String, Sendable, Equatable {
        case path, query, header, cookie
    }

    public var name: String
    public var location: Location
    public var type: ValueType
    public var requirement: Requirement

    public init(name: String, location: Location, type: ValueType, requirement: Requirement = .required) {
        precondition(type != .object && type != .array, "parameters are scalars")
        self.name = name
        self.location = location
        self.type = type
        self.requirement = requirement
    }

    /// Validates the (already decoded) text of the parameter, or its absence. Returns the
    /// coerced value, or appends the issue pydantic reports and returns nil.
    public func validate(_ text: String?, issues: inout [ValidationIssue]) -> JSONValue? {
        let loc: [ValidationIssue.LocationElement] = [.key(self.location.rawValue), .key(self.name)]
        guard let text else {
            switch self.requirement {
            case .required:
                issues.append(.missing(at: loc))
                return nil
            case .defaultValue(let value):
                return value
            }
        }
        let result: Result<JSONValue, CoercionFailure>
        switch self.type {
        case .string: result = .success(.string(text))
        case .integer: result = LaxCoercion.integer(fromString: text[...]).map(\.jsonValue)
        case .number: result = LaxCoercion.float(fromString: text[...]).map { .number(JSONNumber($0)) }
        case .boolean: result = LaxCoercion.bool(fromString: text[...]).map(JSONValue.bool)
        case .object, .array: preconditionFailure()
        }
        switch result {
        case .success(let value): return value
        case .failure(let failure):
            issues.append(.make(failure, at: loc, input: .string(text)))
            return nil
        }
    }
}

/// One property of an object schema (a pydantic model field).
public struct PropertySchema: Sendable, Equatable {
    public var name: String
    public var type: ValueType
    /// `Union[T, None]`: JSON null is accepted as is.
    public var nullable: Bool
    public var requirement: Requirement
    /// For `.object` properties with a known shape; nil accepts any object.
    public var objectSchema: ObjectSchema?

    public init(
        name: String,
        type: ValueType,
        nullable: Bool = false,
        requirement: Requirement = .required,
        objectSchema: ObjectSchema? = nil
    ) {
        self.name = name
        self.type = type
        self.nullable = nullable
        self.requirement = requirement
        self.objectSchema = objectSchema
    }

    /// `name: T | None = None`.
    public static func optional(_ name: String, _ type: ValueType) -> Self {
        Self(name: name, type: type, nullable: true, requirement: .defaultValue(.null))
    }

    /// `name: T`.
    public static func required(_ name: String, _ type: ValueType) -> Self {
        Self(name: name, type: type)
    }
}

/// An object with ordered properties, validated like a pydantic model in lax mode: properties
/// in declaration order, unknown members ignored, the result holds the declared properties only.
public final class ObjectSchema: Sendable, Equatable {
    public let properties: [PropertySchema]

    public init(properties: [PropertySchema]) {
        self.properties = properties
    }

    public static func == (lhs: ObjectSchema, rhs: ObjectSchema) -> Bool {
        lhs === rhs || lhs.properties == rhs.properties
    }

    /// Returns the validated object (declared properties, coerced, defaults filled in), or nil
    /// after appending every issue found.
    public func validate(
        _ value: JSONValue,
        at loc: [ValidationIssue.LocationElement],
        notAnObject: CoercionFailure = .modelAttributesType,
        issues: inout [ValidationIssue]
    ) -> JSONObject? {
        guard case .object(let object) = value else {
            issues.append(.make(notAnObject, at: loc, input: value))
            return nil
        }
        var result = JSONObject()
        let before = issues.count
        for property in self.properties {
            let fieldLoc = loc + [.key(property.name)]
            guard let member = object[property.name] else {
                switch property.requirement {
                case .required: issues.append(.missing(at: fieldLoc, input: value))
                case .defaultValue(let d): result.appendUnique(key: property.name, value: d)
                }
                continue
            }
            if property.nullable, case .null = member {
                result.appendUnique(key: property.name, value: .null)
                continue
            }
            if let coerced = Self.coerce(member, to: property, at: fieldLoc, issues: &issues) {
                result.appendUnique(key: property.name, value: coerced)
            }
        }
        return issues.count == before ? result : nil
    }

    private static func coerce(
        _ value: JSONValue,
        to property: PropertySchema,
        at loc: [ValidationIssue.LocationElement],
        issues: inout [ValidationIssue]
    ) -> JSONValue? {
        let result: Result<JSONValue, CoercionFailure>
        switch property.type {
        case .string: result = LaxCoercion.string(from: value).map(JSONValue.string)
        case .number: result = LaxCoercion.float(from: value).map { .number(JSONNumber($0)) }
        case .integer: result = LaxCoercion.integer(from: value).map(\.jsonValue)
        case .boolean: result = LaxCoercion.bool(from: value).map(JSONValue.bool)
        case .array:
            if case .array = value { result = .success(value) } else { result = .failure(.listType) }
        case .object:
            if let schema = property.objectSchema {
                return schema.validate(value, at: loc, notAnObject: .modelAttributesType, issues: &issues)
                    .map(JSONValue.object)
            }
            if case .object = value { result = .success(value) } else { result = .failure(.dictType) }
        }
        switch result {
        case .success(let coerced): return coerced
        case .failure(let failure):
            issues.append(.make(failure, at: loc, input: value))
            return nil
        }
    }
}
