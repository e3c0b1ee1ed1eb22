/// What part of the request path a route matches.
public enum PathPattern: Sendable, Equatable, Hashable {
    /// The whole path, e.g. `/items/{item_id}`; `{name}` segments match any one
    /// non-empty segment and capture it as a parameter.
    case exact(String)
    /// Any path that starts with this string, e.g. `/static/`. No parameters.
    case prefix(String)

    /// The text as written in the file.
    public var template: String {
        switch self {
        case .exact(let template), .prefix(let template): template
        }
    }

    /// The template split at `/`; see ``PathTemplateSegment/segments(of:)``.
    /// A prefix is all literals.
    public var segments: [PathTemplateSegment] {
        switch self {
        case .exact(let template):
            PathTemplateSegment.segments(of: template)
        case .prefix(let template):
            PathTemplateSegment.rawSegments(of: template).map { .literal(String($0)) }
        }
    }

    /// Parameter names in path order, e.g. `["item_id"]`; empty for a prefix.
    public var parameterNames: [String] {
        segments.compactMap {
            if case .parameter(let name) = $0 { name } else { nil }
        }
    }
}

/// One `/`-separated segment of a path template.
public enum PathTemplateSegment: Sendable, Equatable, Hashable {
    case literal(String)
    /// `{name}`: matches one non-empty segment, captured under `name`.
    case parameter(String)

    /// Splits a template that starts with `/` into the segments after it, losslessly:
    /// `"/"` → `[.literal("")]`, `"/items/"` → `[.literal("items"), .literal("")]`,
    /// `"/items/{item_id}"` → `[.literal("items"), .parameter("item_id")]`.
    /// The template is `"/" + segments.joined(separator: "/")`, so a trailing slash
    /// shows as a trailing empty literal.
    public static func segments(of template: String) -> [PathTemplateSegment] {
        rawSegments(of: template).map { segment in
            if segment.count >= 2, segment.hasPrefix("{"), segment.hasSuffix("}") {
                .parameter(String(segment.dropFirst().dropLast()))
            } else {
                .literal(String(segment))
            }
        }
    }

    static func rawSegments(of template: String) -> [Substring] {
        let afterSlash = template.hasPrefix("/") ? template.dropFirst() : Substring(template)
        return afterSlash.split(separator: "/", omittingEmptySubsequences: false)
    }
}

// MARK: Validation

extension PathPattern {
    /// Checks the rules of `match.path`; the first problem found, or `nil`.
    static func validateExact(_ template: String) -> InvalidValue? {
        if let problem = validateCommon(template) {
            return problem
        }
        let segments = PathTemplateSegment.rawSegments(of: template)
        if segments.dropLast().contains(where: \.isEmpty) {
            return InvalidValue("must not contain empty segments (\"//\"), got \"\(template)\"")
        }
        var seen: Set<Substring> = []
        for segment in segments where segment.contains("{") || segment.contains("}") {
            guard segment.count >= 2, segment.hasPrefix("{"), segment.hasSuffix("}") else {
                return InvalidValue(
                    "a parameter must be a whole path segment like \"/items/{item_id}\", got \"\(segment)\""
                )
            }
            let name = segment.dropFirst().dropLast()
            guard isParameterName(name) else {
                return InvalidValue("invalid parameter name \"\(name)\" (must match [A-Za-z_][A-Za-z0-9_]*)")
            }
            guard seen.insert(name).inserted else {
                return InvalidValue("duplicate parameter \"\(name)\"")
            }
        }
        return nil
    }

    /// Checks the rules of `match.prefix`; the first problem found, or `nil`.
    static func validatePrefix(_ template: String) -> InvalidValue? {
        if let problem = validateCommon(template) {
            return problem
        }
        if template.contains("{") || template.contains("}") {
            return InvalidValue("a prefix cannot contain parameters (use \"path\" for \"{name}\" segments)")
        }
        return nil
    }

    private static func validateCommon(_ template: String) -> InvalidValue? {
        guard template.hasPrefix("/") else {
            return InvalidValue("must start with \"/\", got \"\(template)\"")
        }
        if template.contains("?") || template.contains("#") {
            return InvalidValue("must not contain a query or fragment (\"?\" or \"#\"), got \"\(template)\"")
        }
        if template.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }
        ) {
            return InvalidValue("must not contain spaces or control characters, got \"\(template)\"")
        }
        return nil
    }

    private static func isParameterName(_ name: Substring) -> Bool {
        guard let first = name.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }

    /// The route-matching shape of the pattern: parameter names do not matter,
    /// so `/items/{id}` and `/items/{item_id}` have the same shape.
    public var matchingShape: String {
        switch self {
        case .prefix(let template):
            return "prefix " + template
        case .exact:
            let shape = segments.map { segment in
                switch segment {
                case .literal(let text): text
                case .parameter: "{}"
                }
            }
            return "path /" + shape.joined(separator: "/")
        }
    }
}
