public import GatewayValidation

/// A route's `validation`: typed path, query and header parameters and a JSON
/// body, checked as FastAPI checks an endpoint's parameters; a request that
/// fails gets FastAPI's 422 before any handler or upstream sees it.
///
/// The schemas are compiled when the file is loaded, so a bad schema is a
/// configuration problem with its JSON path, and a request never pays for it.
public struct ValidationConfiguration: Sendable, Equatable {
    /// `{param}`s of the route's path template; always required.
    public var path: [ValidatedParameter]
    /// Query parameters, by their (case-sensitive) names.
    public var query: [ValidatedParameter]
    /// Header fields; names are compared case-insensitively.
    public var headers: [ValidatedParameter]
    /// The JSON body; nil when the body is not validated.
    public var body: ValidationSchema?

    public init(
        path: [ValidatedParameter] = [], query: [ValidatedParameter] = [], headers: [ValidatedParameter] = [],
        body: ValidationSchema? = nil
    ) {
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// One parameter and its schema.
public struct ValidatedParameter: Sendable, Equatable {
    /// As written in the file (a header name keeps its spelling; it is matched without case).
    public var name: String
    /// Whether its absence is an error (`missing`); path parameters always are.
    public var required: Bool
    public var schema: ValidationSchema

    public init(name: String, required: Bool, schema: ValidationSchema) {
        self.name = name
        self.required = required
        self.schema = schema
    }
}

/// A JSON Schema document and its compiled form. Two are equal when their
/// documents (and the files they came from) are, so a reload that changed a
/// schema file is seen as a changed route.
public struct ValidationSchema: Sendable, Equatable {
    /// The document as written (inline, or the file's content).
    public let document: GatewayValidation.JSONValue
    public let compiled: JSONSchema
    /// The absolute path of the file it was read from; nil when inline.
    public let file: String?

    public init(document: GatewayValidation.JSONValue, compiled: JSONSchema, file: String? = nil) {
        self.document = document
        self.compiled = compiled
        self.file = file
    }

    public static func == (lhs: ValidationSchema, rhs: ValidationSchema) -> Bool {
        lhs.document == rhs.document && lhs.file == rhs.file
    }
}
