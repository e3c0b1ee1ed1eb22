/// Validating JSON values (bodies) and parameter text against a compiled schema. `path` is the
/// loc of the value being validated; it grows and shrinks in place so that only reported issues
/// copy it.
extension SchemaNode {
    typealias Location = [ValidationIssue.LocationElement]

    /// Appends pydantic's issues for `value`; true when there were none.
    @discardableResult
    func validate(_ value: JSONValue, path: inout Location, issues: inout [ValidationIssue]) -> Bool {
        if self.nullable, case .null = value { return true }
        let failure: ConstraintFailure?
        switch self.kind {
        case .any:
            return true
        case .null:
            if case .null = value { return true }
            failure = Self.noneRequired
        case .string(let constraints):
            guard case .string(let text) = value else {
                return Self.fail(.stringType, path, value, &issues)
            }
            failure = constraints.isEmpty ? nil : constraints.check(text[...])
        case .integer(let constraints):
            switch LaxCoercion.integer(from: value) {
            case .failure(let coercion): return Self.fail(coercion, path, value, &issues)
            case .success(let integer): failure = constraints.check(integer)
            }
        case .number(let constraints):
            switch LaxCoercion.float(from: value) {
            case .failure(let coercion): return Self.fail(coercion, path, value, &issues)
            case .success(let double): failure = constraints.check(double)
            }
        case .boolean:
            if case .failure(let coercion) = LaxCoercion.bool(from: value) {
                return Self.fail(coercion, path, value, &issues)
            }
            failure = nil
        case .literal(let choices):
            if case .failure(let miss) = choices.match(value) { failure = miss } else { failure = nil }
        case .format(let format):
            if case .failure(let miss) = format.validate(value) { failure = miss } else { failure = nil }
        case .model(let rules):
            return self.validateModel(value, rules, path: &path, issues: &issues)
        case .dictionary(let values):
            guard case .object(let object) = value else {
                return Self.fail(.dictType, path, value, &issues)
            }
            guard let values else { return true }
            var valid = true
            for (key, member) in object.pairs {
                path.append(.key(key))
                valid = values.validate(member, path: &path, issues: &issues) && valid
                path.removeLast()
            }
            return valid
        case .array(let rules):
            guard case .array(let elements) = value else {
                return Self.fail(.listType, path, value, &issues)
            }
            return self.validateList(
                count: elements.count, input: value, rules, path: &path, issues: &issues
            ) { index, items, path, issues in
                items.validate(elements[index], path: &path, issues: &issues)
            }
        }
        if let failure {
            issues.append(failure.issue(at: path, input: value))
            return false
        }
        return true
    }

    /// A pydantic model: fields in declaration order, then the members it does not declare.
    private func validateModel(
        _ value: JSONValue, _ rules: ModelRules, path: inout Location, issues: inout [ValidationIssue]
    ) -> Bool {
        guard case .object(let object) = value else {
            return Self.fail(.modelAttributesType, path, value, &issues)
        }
        var valid = true
        for property in rules.properties {
            path.append(.key(property.name))
            if let member = object[property.name] {
                valid = property.schema.validate(member, path: &path, issues: &issues) && valid
            } else if property.isRequired {
                issues.append(.missing(at: path, input: value))
                valid = false
            }
            path.removeLast()
        }
        switch rules.extra {
        case .ignore:
            break
        case .forbid:
            for (key, member) in object.pairs where !rules.propertyNames.contains(key) {
                path.append(.key(key))
                issues.append(
                    ValidationIssue(type: "extra_forbidden", loc: path, msg: "Extra inputs are not permitted", input: member))
                path.removeLast()
                valid = false
            }
        case .validate(let schema):
            for (key, member) in object.pairs where !rules.propertyNames.contains(key) {
                path.append(.key(key))
                valid = schema.validate(member, path: &path, issues: &issues) && valid
                path.removeLast()
            }
        }
        return valid
    }

    /// `list[T]` with `min_length`/`max_length`: too many items is reported alone (pydantic-core
    /// stops counting there), then item issues, then too few items.
    private func validateList(
        count: Int,
        input: @autoclosure () -> JSONValue,
        _ rules: ArrayRules,
        path: inout Location,
        issues: inout [ValidationIssue],
        item: (Int, SchemaNode, inout Location, inout [ValidationIssue]) -> Bool
    ) -> Bool {
        if let maxItems = rules.maxItems, count > maxItems {
            issues.append(Self.listLength(tooLong: true, limit: maxItems, actual: count, at: path, input: input()))
            return false
        }
        if let items = rules.items {
            var valid = true
            for index in 0..<count {
                path.append(.index(index))
                valid = item(index, items, &path, &issues) && valid
                path.removeLast()
            }
            if !valid { return false }
        }
        if let minItems = rules.minItems, count < minItems {
            issues.append(Self.listLength(tooLong: false, limit: minItems, actual: count, at: path, input: input()))
            return false
        }
        return true
    }

    private static func listLength(tooLong: Bool, limit: Int, actual: Int, at loc: Location, input: JSONValue)
        -> ValidationIssue
    {
        let items = limit == 1 ? "1 item" : "\(limit) items"
        var ctx = JSONObject()
        ctx.appendUnique(key: "field_type", value: .string("List"))
        ctx.appendUnique(key: tooLong ? "max_length" : "min_length", value: .number(JSONNumber(limit)))
        ctx.appendUnique(key: "actual_length", value: .number(JSONNumber(actual)))
        return ValidationIssue(
            type: tooLong ? "too_long" : "too_short",
            loc: loc,
            msg: "List should have \(tooLong ? "at most" : "at least") \(items) after validation, not \(actual)",
            input: input,
            ctx: ctx
        )
    }

    private static let noneRequired = ConstraintFailure(type: "none_required", message: "Input should be None")

    private static func fail(
        _ coercion: CoercionFailure, _ path: Location, _ value: JSONValue, _ issues: inout [ValidationIssue]
    ) -> Bool {
        issues.append(.make(coercion, at: path, input: value))
        return false
    }

    // MARK: Parameters

    /// Validates a parameter's text; returns the coerced value or nil after appending issues.
    func validate(parameterText text: Substring, path: inout Location, issues: inout [ValidationIssue]) -> JSONValue? {
        let result: Result<JSONValue, ConstraintFailure>
        switch self.kind {
        case .any:
            return .string(String(text))
        case .string(let constraints):
            if !constraints.isEmpty, let failure = constraints.check(text) {
                result = .failure(failure)
            } else {
                result = .success(.string(String(text)))
            }
        case .integer(let constraints):
            switch LaxCoercion.integer(fromString: text) {
            case .failure(let coercion): result = .failure(ConstraintFailure(coercion))
            case .success(let integer):
                result = constraints.check(integer).map { .failure($0) } ?? .success(integer.jsonValue)
            }
        case .number(let constraints):
            switch LaxCoercion.float(fromString: text) {
            case .failure(let coercion): result = .failure(ConstraintFailure(coercion))
            case .success(let double):
                result = constraints.check(double).map { .failure($0) } ?? .success(.number(JSONNumber(double)))
            }
        case .boolean:
            result = LaxCoercion.bool(fromString: text).map(JSONValue.bool).mapError(ConstraintFailure.init)
        case .literal(let choices):
            result = choices.match(text: text)
        case .format(let format):
            result = format.validate(text: text)
        case .null:
            result = .failure(Self.noneRequired)
        case .model:
            result = .failure(ConstraintFailure(.modelAttributesType))
        case .dictionary:
            result = .failure(ConstraintFailure(.dictType))
        case .array:
            return self.validate(parameterTexts: [text], path: &path, issues: &issues)
        }
        switch result {
        case .success(let value): return value
        case .failure(let failure):
            issues.append(failure.issue(at: path, input: .string(String(text))))
            return nil
        }
    }

    /// A repeated query parameter: a list validates every value (loc gets the index), a scalar
    /// the last one.
    func validate(parameterTexts texts: [Substring], path: inout Location, issues: inout [ValidationIssue])
        -> JSONValue?
    {
        guard case .array(let rules) = self.kind else {
            guard let last = texts.last else { return nil }
            return self.validate(parameterText: last, path: &path, issues: &issues)
        }
        var values: [JSONValue] = []
        values.reserveCapacity(texts.count)
        let valid = self.validateList(
            count: texts.count, input: .array(texts.map { .string(String($0)) }), rules, path: &path, issues: &issues
        ) { index, items, path, issues in
            guard let value = items.validate(parameterText: texts[index], path: &path, issues: &issues) else {
                return false
            }
            values.append(value)
            return true
        }
        if rules.items == nil { values = texts.map { .string(String($0)) } }
        return valid ? .array(values) : nil
    }
}

extension ConstraintFailure {
    init(_ coercion: CoercionFailure) {
        self.init(type: coercion.type, message: coercion.message, ctx: nil)
    }
}
