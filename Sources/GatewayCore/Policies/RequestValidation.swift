import GatewayConfig
import GatewayValidation
import NIOCore
import NIOHTTP1

/// A route's `validation`, compiled: its parameters with their places in the
/// request, and the body schema. Checks a request as FastAPI checks an
/// endpoint's parameters, with the same 422 list in the same order: path,
/// query, header, then body. Immutable; shared by every event loop.
struct RouteValidation: Sendable {
    struct Parameter: Sendable {
        /// How the parameter is looked up: the query name, or the lowercased header name.
        let name: String
        /// `["path", name]`, `["query", name]` or `["header", lowercased name]`, as FastAPI reports them.
        let location: [ValidationIssue.LocationElement]
        let required: Bool
        let schema: JSONSchema
        /// For path parameters: the position of the `{param}` in the route's template.
        let index: Int
    }

    let path: [Parameter]
    let query: [Parameter]
    let headers: [Parameter]
    let body: JSONSchema?
    private let parser = JSONParser()

    /// `parameterNames`: the `{param}`s of the route's template in order (the
    /// decoder checked that every validated path parameter is one of them).
    init(_ configuration: ValidationConfiguration, parameterNames: [String]) {
        self.path = configuration.path.compactMap { parameter in
            guard let index = parameterNames.firstIndex(of: parameter.name) else { return nil }
            return Parameter(
                name: parameter.name, location: ["path", .key(parameter.name)], required: true,
                schema: parameter.schema.compiled, index: index)
        }
        self.query = configuration.query.map {
            Parameter(name: $0.name, location: ["query", .key($0.name)], required: $0.required, schema: $0.schema.compiled, index: -1)
        }
        // FastAPI reports a header under its alias: the lowercased field name.
        self.headers = configuration.headers.map {
            let name = $0.name.lowercased()
            return Parameter(name: name, location: ["header", .key(name)], required: $0.required, schema: $0.schema.compiled, index: -1)
        }
        self.body = configuration.body?.compiled
    }

    /// What validation decided.
    enum Verdict {
        case passed
        /// The answer to send instead of dispatching: FastAPI's 422 (or its 400
        /// for a body `json.loads` cannot decode), with its content type.
        case refused(status: HTTPResponseStatus, contentType: StaticString, body: ByteBuffer)
    }

    /// The path, query and header parameters (routes without a body schema are
    /// checked on the head alone).
    func validateParameters(
        pathParameters: [Substring], query: Substring?, headers: HTTPHeaders, allocator: ByteBufferAllocator
    ) -> Verdict {
        var issues: [ValidationIssue] = []
        self.checkParameters(pathParameters: pathParameters, query: query, headers: headers, issues: &issues)
        return issues.isEmpty ? .passed : Self.unprocessable(issues, rejectsReplacement: false, allocator: allocator)
    }

    /// Everything, with the whole body, as FastAPI does: a body that is not
    /// JSON (`json_invalid`) is reported alone; otherwise parameter issues come
    /// first, then the body's.
    func validate(
        pathParameters: [Substring], query: Substring?, headers: HTTPHeaders, body: ByteBuffer?,
        allocator: ByteBufferAllocator
    ) -> Verdict {
        guard let schema = self.body else {
            return self.validateParameters(
                pathParameters: pathParameters, query: query, headers: headers, allocator: allocator)
        }
        let contentType = headers.first(name: "content-type").map { Substring($0) }
        let read = RequestBody.read(body, contentType: contentType, parser: self.parser)
        switch read {
        case .invalidJSON(let error):
            return Self.unprocessable([.jsonInvalid(error)], rejectsReplacement: false, allocator: allocator)
        case .unreadable:
            var text = allocator.buffer(capacity: 48)
            text.writeStaticString("{\"detail\":\"There was an error parsing the body\"}")
            return .refused(status: .badRequest, contentType: "application/json", body: text)
        default:
            break
        }
        var issues: [ValidationIssue] = []
        self.checkParameters(pathParameters: pathParameters, query: query, headers: headers, issues: &issues)
        var rejectsReplacement = false
        switch read {
        case .absent:
            issues.append(.missing(at: ["body"]))
        case .raw(let text):
            // Not JSON: FastAPI validates the body as text (no object schema accepts it).
            let value = text ?? body.map { String(decoding: $0.readableBytesView, as: UTF8.self) } ?? ""
            schema.validate(.string(value), at: ["body"], issues: &issues)
        case .json(let document):
            rejectsReplacement = document.containsLoneSurrogates
            schema.validate(document.value, at: ["body"], issues: &issues)
        case .invalidJSON, .unreadable:
            break  // answered above
        }
        return issues.isEmpty
            ? .passed : Self.unprocessable(issues, rejectsReplacement: rejectsReplacement, allocator: allocator)
    }

    private func checkParameters(
        pathParameters: [Substring], query: Substring?, headers: HTTPHeaders, issues: inout [ValidationIssue]
    ) {
        for parameter in self.path where parameter.index < pathParameters.count {
            // Parameters are matched still percent-encoded; FastAPI sees them decoded.
            let text = PercentDecoding.decode(pathParameters[parameter.index])
            _ = parameter.schema.validate(parameterText: text[...], at: parameter.location, issues: &issues)
        }
        if !self.query.isEmpty {
            let parameters = QueryParameters(query)
            for parameter in self.query {
                if parameter.schema.isArray {
                    let values = parameters.pairs.filter { $0.name == parameter.name }.map { Substring($0.value) }
                    if values.isEmpty {
                        if parameter.required { issues.append(.missing(at: parameter.location)) }
                        continue
                    }
                    _ = parameter.schema.validate(parameterTexts: values, at: parameter.location, issues: &issues)
                } else if let value = parameters.value(named: parameter.name) {
                    _ = parameter.schema.validate(parameterText: value[...], at: parameter.location, issues: &issues)
                } else if parameter.required {
                    issues.append(.missing(at: parameter.location))
                }
            }
        }
        for parameter in self.headers {
            // Starlette's `headers.get`: the first field of that name.
            if let value = headers.first(name: parameter.name) {
                _ = parameter.schema.validate(parameterText: value[...], at: parameter.location, issues: &issues)
            } else if parameter.required {
                issues.append(.missing(at: parameter.location))
            }
        }
    }

    /// `{"detail":[...]}`, or Starlette's plain 500 when an input cannot be
    /// written back as JSON (lone surrogates), as FastAPI fails then.
    private static func unprocessable(
        _ issues: [ValidationIssue], rejectsReplacement: Bool, allocator: ByteBufferAllocator
    ) -> Verdict {
        var body = allocator.buffer(capacity: 160 * issues.count)
        do throws(JSONWriteError) {
            try ValidationErrorBody.write(
                issues, into: &body, writer: JSONWriter(rejectsReplacementCharacter: rejectsReplacement))
        } catch {
            var text = allocator.buffer(capacity: 21)
            text.writeStaticString("Internal Server Error")
            return .refused(status: .internalServerError, contentType: "text/plain; charset=utf-8", body: text)
        }
        return .refused(status: .unprocessableEntity, contentType: "application/json", body: body)
    }
}
