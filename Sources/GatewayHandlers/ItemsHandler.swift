public import NIOCore
public import GatewayValidation

/// FastAPI's tutorial items API, answered byte for byte as FastAPI 0.12x + pydantic v2 would:
///
///     GET  /items/{item_id}   read_item(item_id: int, q: str | None = None)
///     PUT  /items/{item_id}   update_item(item_id: int, item: Item)
///     POST /items/            create_item(item: Item)
///
/// Validation errors come out in FastAPI's order: path parameter, then body. A body that isn't
/// JSON at all (`json_invalid`) is reported alone, before parameters are looked at.
public struct ItemsHandler: BuiltInHandler {
    /// `class Item(BaseModel)`.
    public static let itemSchema = ObjectSchema(properties: [
        .required("name", .string),
        .optional("description", .string),
        .required("price", .number),
        .optional("tax", .number),
    ])

    /// `item_id: int` (path).
    public static let itemIDParameter = ParameterSchema(name: "item_id", location: .path, type: .integer)

    let hasItemID: Bool
    private let parser = JSONParser()

    /// `pathParameterNames` is `["item_id"]` for `/items/{item_id}` (GET, PUT) or `[]` for
    /// `/items/` (POST).
    public init(pathParameterNames: [String]) throws(BuiltInHandlerError) {
        switch pathParameterNames {
        case []: self.hasItemID = false
        case ["item_id"]: self.hasItemID = true
        default:
            throw .unsupportedPathParameters(handler: "items", names: pathParameterNames, expected: "[] or [item_id]")
        }
    }

    public func respond(to request: BuiltInRequest, allocator: ByteBufferAllocator) -> BuiltInResponse {
        switch request.method {
        case "GET" where self.hasItemID:
            return self.readItem(request, allocator: allocator)
        case "PUT" where self.hasItemID:
            return self.writeItem(request, allocator: allocator)
        case "POST" where !self.hasItemID:
            return self.writeItem(request, allocator: allocator)
        default:
            return .methodNotAllowed(allow: self.hasItemID ? "GET, PUT" : "POST", allocator: allocator)
        }
    }

    // MARK: GET /items/{item_id}

    private func readItem(_ request: BuiltInRequest, allocator: ByteBufferAllocator) -> BuiltInResponse {
        let itemID: PythonInteger
        switch Self.itemID(request) {
        case .success(let value): itemID = value
        case .failure(let issue): return Self.unprocessable([issue], rejectsReplacement: false, allocator: allocator)
        }
        let q = QueryParameters.lastValue(named: "q", in: request.query)

        var body = allocator.buffer(capacity: 32 + (q?.utf8.count ?? 0))
        body.writeStaticString("{\"item_id\":")
        Self.write(itemID, into: &body)
        body.writeStaticString(",\"q\":")
        if let q {
            // Decoded query text is valid Unicode: writing can't fail.
            try? JSONWriter().write(string: q, into: &body)
        } else {
            body.writeStaticString("null")
        }
        body.writeInteger(UInt8(ascii: "}"))
        return BuiltInResponse(status: 200, body: body)
    }

    // MARK: PUT /items/{item_id}, POST /items/

    private func writeItem(_ request: BuiltInRequest, allocator: ByteBufferAllocator) -> BuiltInResponse {
        let body = RequestBody.read(request.body, contentType: request.contentType, parser: self.parser)
        var issues: [ValidationIssue] = []
        var rejectsReplacement = false
        var itemID: PythonInteger? = nil

        switch body {
        case .invalidJSON(let error):
            return Self.unprocessable([.jsonInvalid(error)], rejectsReplacement: false, allocator: allocator)
        case .unreadable:
            return .bodyParsingError(allocator: allocator)
        default:
            break
        }
        if self.hasItemID {
            switch Self.itemID(request) {
            case .success(let value): itemID = value
            case .failure(let issue): issues.append(issue)
            }
        }
        var item: JSONObject? = nil
        switch body {
        case .absent:
            issues.append(.missing(at: ["body"]))
        case .raw(let text):
            // No model accepts bytes; FastAPI echoes them decoded as UTF-8 (and fails if it can't).
            guard let text else { return .internalServerError(allocator: allocator) }
            issues.append(
                ValidationIssue(
                    type: CoercionFailure.modelAttributesType.type,
                    loc: ["body"],
                    msg: CoercionFailure.modelAttributesType.message,
                    input: .string(text)
                )
            )
        case .json(let document):
            rejectsReplacement = document.containsLoneSurrogates
            item = Self.itemSchema.validate(document.value, at: ["body"], issues: &issues)
        case .invalidJSON, .unreadable:
            preconditionFailure("answered above")
        }
        guard issues.isEmpty, let item else {
            return Self.unprocessable(issues, rejectsReplacement: rejectsReplacement, allocator: allocator)
        }

        let writer = JSONWriter(rejectsReplacementCharacter: rejectsReplacement)
        var out = allocator.buffer(capacity: 96)
        do throws(JSONWriteError) {
            out.writeInteger(UInt8(ascii: "{"))
            if let itemID {
                out.writeStaticString("\"item_id\":")
                Self.write(itemID, into: &out)
                out.writeInteger(UInt8(ascii: ","))
            }
            var first = true
            for (key, value) in item.pairs {
                if !first { out.writeInteger(UInt8(ascii: ",")) }
                first = false
                try writer.write(string: key, into: &out)
                out.writeInteger(UInt8(ascii: ":"))
                try writer.write(value, into: &out)
            }
            out.writeInteger(UInt8(ascii: "}"))
        } catch {
            return .internalServerError(allocator: allocator)
        }
        return BuiltInResponse(status: 200, body: out)
    }

    // MARK: Helpers

    private static func itemID(_ request: BuiltInRequest) -> Result<PythonInteger, ValidationIssue> {
        let raw = request.pathParameters.first ?? ""
        // Fast path: plain digits need neither percent-decoding nor a String.
        if raw.utf8.count <= 18, !raw.isEmpty, raw.utf8.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) {
            var value = 0
            for d in raw.utf8 { value = value * 10 + Int(d &- UInt8(ascii: "0")) }
            return .success(.small(value))
        }
        let decoded = PercentDecoding.decode(raw)
        switch LaxCoercion.integer(fromString: decoded[...]) {
        case .success(let value):
            return .success(value)
        case .failure(let failure):
            return .failure(
                ValidationIssue(type: failure.type, loc: ["path", "item_id"], msg: failure.message, input: .string(decoded))
            )
        }
    }

    private static func write(_ value: PythonInteger, into buffer: inout ByteBuffer) {
        switch value {
        case .small(let int): buffer.writeDecimal(int)
        case .large(let digits): buffer.writeString(digits)
        }
    }

    private static func unprocessable(
        _ issues: [ValidationIssue],
        rejectsReplacement: Bool,
        allocator: ByteBufferAllocator
    ) -> BuiltInResponse {
        var body = allocator.buffer(capacity: 160 * issues.count)
        do throws(JSONWriteError) {
            try ValidationErrorBody.write(
                issues,
                into: &body,
                writer: JSONWriter(rejectsReplacementCharacter: rejectsReplacement)
            )
        } catch {
            return .internalServerError(allocator: allocator)
        }
        return BuiltInResponse(status: 422, body: body)
    }
}
