/// Turns a schema document into `SchemaNode`s, collecting every problem with its path instead of
/// stopping at the first, so an operator fixes a schema in one pass.
struct SchemaCompiler {
    private(set) var problems: [JSONSchemaErrors.Problem] = []

    private mutating func report(_ path: SchemaPath, _ message: String) {
        self.problems.append(JSONSchemaErrors.Problem(path: path.description, message: message))
    }

    /// Keywords that only describe; pydantic has nothing to check for them.
    private static let annotations: Set<String> = [
        "title", "description", "examples", "default", "$schema", "$id", "$comment",
    ]
    private static let stringKeywords = ["minLength", "maxLength", "pattern", "format"]
    private static let numberKeywords = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]
    private static let objectKeywords = ["properties", "required", "additionalProperties"]
    private static let arrayKeywords = ["items", "minItems", "maxItems"]
    private static let literalKeywords = ["enum", "const"]
    private static let supported: Set<String> = Set(
        ["type"] + Self.stringKeywords + Self.numberKeywords + Self.objectKeywords + Self.arrayKeywords
            + Self.literalKeywords
    ).union(Self.annotations)

    enum BaseType: String, CaseIterable {
        case string, number, integer, boolean, object, array, null

        var keywords: [String] {
            switch self {
            case .string: return SchemaCompiler.stringKeywords
            case .number, .integer: return SchemaCompiler.numberKeywords
            case .object: return SchemaCompiler.objectKeywords
            case .array: return SchemaCompiler.arrayKeywords
            case .boolean, .null: return []
            }
        }
    }

    mutating func compile(_ document: JSONValue, at path: SchemaPath) -> SchemaNode {
        guard case .object(let schema) = document else {
            self.report(path, "must be a schema object, got \(Self.describe(document))")
            return SchemaNode(kind: .any)
        }
        for key in schema.keys where !Self.supported.contains(key) {
            if key == "nullable" {
                self.report(path.appending(key: key), "unsupported keyword (write \"type\": [\"…\", \"null\"] instead)")
            } else {
                self.report(path.appending(key: key), "unsupported keyword")
            }
        }
        for key in ["title", "description", "$schema", "$id", "$comment"] {
            guard let value = schema[key] else { continue }
            if case .string = value { continue }
            self.report(path.appending(key: key), "must be a string, got \(Self.describe(value))")
        }
        if let examples = schema["examples"] {
            if case .array = examples {} else {
                self.report(path.appending(key: "examples"), "must be an array, got \(Self.describe(examples))")
            }
        }

        let (type, nullable) = self.type(of: schema, at: path)
        let defaultValue = schema["default"]
        if schema["enum"] != nil || schema["const"] != nil {
            return SchemaNode(kind: .literal(self.literal(schema, type: type, nullable: nullable, at: path)),
                              defaultValue: defaultValue)
        }
        // Keywords for another type than the declared one would be ignored: refuse them.
        for keyword in schema.keys {
            guard let owner = BaseType.allCases.first(where: { $0.keywords.contains(keyword) }) else { continue }
            if type == nil {
                self.report(path.appending(key: keyword), "needs \"type\": \"\(owner.rawValue)\"")
            } else if let type, !type.keywords.contains(keyword) {
                self.report(path.appending(key: keyword), "does not apply to \"type\": \"\(type.rawValue)\"")
            }
        }
        let kind: SchemaNode.Kind
        switch type {
        case nil: kind = .any
        case .null: kind = .null
        case .boolean: kind = .boolean
        case .string: kind = self.string(schema, at: path)
        case .integer: kind = .integer(self.integerConstraints(schema, at: path))
        case .number: kind = .number(self.floatConstraints(schema, at: path))
        case .object: kind = self.object(schema, at: path)
        case .array: kind = .array(self.array(schema, at: path))
        }
        return SchemaNode(kind: kind, nullable: nullable, defaultValue: defaultValue)
    }

    // MARK: type

    /// The one non-null type (nil when absent or only "null" with nothing else) and whether null is allowed.
    private mutating func type(of schema: JSONObject, at path: SchemaPath) -> (BaseType?, Bool) {
        guard let value = schema["type"] else { return (nil, false) }
        let typePath = path.appending(key: "type")
        let known = BaseType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        switch value {
        case .string(let name):
            guard let type = BaseType(rawValue: name) else {
                self.report(typePath, "unknown type \"\(name)\" (known: \(known))")
                return (nil, false)
            }
            return (type, false)
        case .array(let names):
            var types: [BaseType] = []
            for (i, element) in names.enumerated() {
                guard case .string(let name) = element, let type = BaseType(rawValue: name) else {
                    self.report(typePath.appending(index: i), "must be one of \(known)")
                    continue
                }
                if types.contains(type) {
                    self.report(typePath.appending(index: i), "repeats \"\(name)\"")
                    continue
                }
                types.append(type)
            }
            let nonNull = types.filter { $0 != .null }
            if names.isEmpty {
                self.report(typePath, "must not be empty")
            } else if nonNull.count > 1 {
                self.report(typePath, "may list one type and \"null\" (a union of \(nonNull.map { "\"\($0.rawValue)\"" }.joined(separator: " and ")) is not supported)")
            }
            if nonNull.isEmpty { return (types.isEmpty ? nil : .null, false) }
            return (nonNull[0], types.contains(.null))
        default:
            self.report(typePath, "must be a type name or an array of them, got \(Self.describe(value))")
            return (nil, false)
        }
    }

    // MARK: enum / const

    private mutating func literal(_ schema: JSONObject, type: BaseType?, nullable: Bool, at path: SchemaPath)
        -> LiteralChoices
    {
        for keyword in schema.keys where BaseType.allCases.contains(where: { $0.keywords.contains(keyword) }) {
            self.report(path.appending(key: keyword), "can't be combined with enum or const")
        }
        var values: [(JSONValue, SchemaPath)] = []
        if let constant = schema["const"] {
            if schema["enum"] != nil {
                self.report(path.appending(key: "const"), "can't be combined with enum")
            }
            values = [(constant, path.appending(key: "const"))]
        } else if let list = schema["enum"] {
            let enumPath = path.appending(key: "enum")
            if case .array(let elements) = list {
                if elements.isEmpty { self.report(enumPath, "must not be empty") }
                values = elements.enumerated().map { ($1, enumPath.appending(index: $0)) }
            } else {
                self.report(enumPath, "must be an array, got \(Self.describe(list))")
            }
        }
        var choices: [LiteralChoices.Choice] = []
        for (value, valuePath) in values {
            let choice: LiteralChoices.Choice
            switch value {
            case .string(let s): choice = .string(s)
            case .bool(let b): choice = .bool(b)
            case .null: choice = .null
            case .number(let n) where n.isInteger:
                guard let i = Int(PythonInt.canonical(jsonLexeme: n.lexeme)) else {
                    self.report(valuePath, "must fit in 64 bits")
                    continue
                }
                choice = .integer(i)
            default:
                self.report(valuePath, "must be a string, an integer, a boolean or null, got \(Self.describe(value))")
                continue
            }
            if let type, !Self.choice(choice, fits: type, nullable: nullable) {
                self.report(valuePath, "is not of type \"\(type.rawValue)\"\(nullable ? " or \"null\"" : "")")
            }
            choices.append(choice)
        }
        if choices.isEmpty { choices = [.null] }  // only reached with problems reported
        return LiteralChoices(choices)
    }

    private static func choice(_ choice: LiteralChoices.Choice, fits type: BaseType, nullable: Bool) -> Bool {
        switch (choice, type) {
        case (.null, .null): return true
        case (.null, _): return nullable
        case (.string, .string), (.bool, .boolean), (.integer, .integer), (.integer, .number): return true
        default: return false
        }
    }

    // MARK: strings

    private mutating func string(_ schema: JSONObject, at path: SchemaPath) -> SchemaNode.Kind {
        var constraints = StringConstraints()
        constraints.minLength = self.count(schema, "minLength", at: path)
        constraints.maxLength = self.count(schema, "maxLength", at: path)
        if let value = schema["pattern"] {
            let patternPath = path.appending(key: "pattern")
            if case .string(let source) = value {
                do {
                    constraints.pattern = try StringPattern(source)
                } catch {
                    switch error {
                    case .unsupported(let why): self.report(patternPath, "is not supported: \(why)")
                    case .invalid(let why): self.report(patternPath, "is not a valid regular expression: \(why)")
                    }
                }
            } else {
                self.report(patternPath, "must be a string, got \(Self.describe(value))")
            }
        }
        guard let value = schema["format"] else { return .string(constraints) }
        let formatPath = path.appending(key: "format")
        guard case .string(let name) = value else {
            self.report(formatPath, "must be a string, got \(Self.describe(value))")
            return .string(constraints)
        }
        guard let format = StringFormat(rawValue: name) else {
            let known = StringFormat.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            self.report(formatPath, "unknown format \"\(name)\" (supported: \(known))")
            return .string(constraints)
        }
        for keyword in ["minLength", "maxLength", "pattern"] where schema[keyword] != nil {
            self.report(path.appending(key: keyword), "can't be combined with format")
        }
        return .format(format)
    }

    /// A non-negative integer keyword (lengths, item counts).
    private mutating func count(_ schema: JSONObject, _ keyword: String, at path: SchemaPath) -> Int? {
        guard let value = schema[keyword] else { return nil }
        if case .number(let n) = value, n.isInteger, let count = Int(PythonInt.canonical(jsonLexeme: n.lexeme)),
            count >= 0
        {
            return count
        }
        self.report(path.appending(key: keyword), "must be a non-negative integer, got \(Self.describe(value))")
        return nil
    }

    // MARK: numbers

    private static let boundKeywords: [(String, BoundKind)] = [
        ("multipleOf", .multipleOf), ("maximum", .le), ("exclusiveMaximum", .lt), ("minimum", .ge),
        ("exclusiveMinimum", .gt),
    ]

    private mutating func integerConstraints(_ schema: JSONObject, at path: SchemaPath) -> IntegerConstraints {
        var constraints = IntegerConstraints()
        for (keyword, kind) in Self.boundKeywords {
            guard let number = self.number(schema, keyword, at: path) else { continue }
            guard let bound = PythonInteger(exactly: number) else {
                self.report(path.appending(key: keyword), "must be an integer for an integer schema, got \(number)")
                continue
            }
            switch kind {
            case .multipleOf:
                guard case .small(let divisor) = bound, divisor > 0, divisor <= 1_000_000_000_000_000_000 else {
                    self.report(path.appending(key: keyword), "must be a positive integer up to 10^18, got \(number)")
                    continue
                }
                constraints.multipleOf = divisor
            case .le: constraints.le = bound
            case .lt: constraints.lt = bound
            case .ge: constraints.ge = bound
            case .gt: constraints.gt = bound
            }
        }
        return constraints
    }

    private mutating func floatConstraints(_ schema: JSONObject, at path: SchemaPath) -> FloatConstraints {
        var constraints = FloatConstraints()
        for (keyword, kind) in Self.boundKeywords {
            guard let number = self.number(schema, keyword, at: path) else { continue }
            // pydantic makes every bound of a float field a float.
            let bound =
                number.isInteger ? Double(PythonInt.canonical(jsonLexeme: number.lexeme)) ?? .infinity : number.doubleValue
            guard bound.isFinite else {
                self.report(path.appending(key: keyword), "must be a finite number, got \(number)")
                continue
            }
            switch kind {
            case .multipleOf:
                guard bound > 0 else {
                    self.report(path.appending(key: keyword), "must be greater than 0, got \(number)")
                    continue
                }
                constraints.multipleOf = bound
            case .le: constraints.le = bound
            case .lt: constraints.lt = bound
            case .ge: constraints.ge = bound
            case .gt: constraints.gt = bound
            }
        }
        return constraints
    }

    private mutating func number(_ schema: JSONObject, _ keyword: String, at path: SchemaPath) -> JSONNumber? {
        guard let value = schema[keyword] else { return nil }
        guard case .number(let n) = value else {
            self.report(path.appending(key: keyword), "must be a number, got \(Self.describe(value))")
            return nil
        }
        return n
    }

    // MARK: objects

    private mutating func object(_ schema: JSONObject, at path: SchemaPath) -> SchemaNode.Kind {
        var properties: [SchemaNode.Property] = []
        var declared = false
        if let value = schema["properties"] {
            let propertiesPath = path.appending(key: "properties")
            if case .object(let members) = value {
                declared = true
                for (name, member) in members.pairs {
                    let node = self.compile(member, at: propertiesPath.appending(key: name))
                    properties.append(SchemaNode.Property(name: name, schema: node, isRequired: false))
                }
            } else {
                self.report(propertiesPath, "must be an object of schemas, got \(Self.describe(value))")
            }
        }
        if let value = schema["required"] {
            let requiredPath = path.appending(key: "required")
            if case .array(let names) = value {
                for (i, element) in names.enumerated() {
                    guard case .string(let name) = element else {
                        self.report(requiredPath.appending(index: i), "must be a string, got \(Self.describe(element))")
                        continue
                    }
                    guard let k = properties.firstIndex(where: { $0.name == name }) else {
                        self.report(requiredPath.appending(index: i), "names \"\(name)\", which is not in properties")
                        continue
                    }
                    properties[k].isRequired = true
                }
            } else {
                self.report(requiredPath, "must be an array of property names, got \(Self.describe(value))")
            }
        }
        var extra = SchemaNode.ExtraMembers.ignore
        var forbids = false
        if let value = schema["additionalProperties"] {
            switch value {
            case .bool(let allowed): forbids = !allowed
            case .object:
                extra = .validate(self.compile(value, at: path.appending(key: "additionalProperties")))
            default:
                self.report(path.appending(key: "additionalProperties"),
                            "must be a boolean or a schema, got \(Self.describe(value))")
            }
        }
        if forbids { extra = .forbid }
        if declared || forbids {
            return .model(SchemaNode.ModelRules(
                properties: properties, propertyNames: Set(properties.map(\.name)), extra: extra))
        }
        if case .validate(let values) = extra { return .dictionary(values: values) }
        return .dictionary(values: nil)
    }

    // MARK: arrays

    private mutating func array(_ schema: JSONObject, at path: SchemaPath) -> SchemaNode.ArrayRules {
        var rules = SchemaNode.ArrayRules()
        if let value = schema["items"] {
            if case .object = value {
                rules.items = self.compile(value, at: path.appending(key: "items"))
            } else {
                self.report(path.appending(key: "items"),
                            "must be a schema object (tuple items are not supported), got \(Self.describe(value))")
            }
        }
        rules.minItems = self.count(schema, "minItems", at: path)
        rules.maxItems = self.count(schema, "maxItems", at: path)
        return rules
    }

    // MARK: helpers

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.lexeme
        case .string(let s): return "\"\(s)\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
