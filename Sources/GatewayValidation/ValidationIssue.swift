public import NIOCore

/// One entry of FastAPI's 422 `detail` list (a pydantic v2 error without `url`).
public struct ValidationIssue: Error, Sendable, Equatable {
    public enum LocationElement: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case key(String)
        case index(Int)

        public init(stringLiteral value: String) { self = .key(value) }
        public init(integerLiteral value: Int) { self = .index(value) }
    }

    public var type: String
    public var loc: [LocationElement]
    public var msg: String
    /// `nil` leaves `input` out; `.null` writes `"input":null` (a missing body, for example).
    public var input: JSONValue?
    public var ctx: JSONObject?

    public init(type: String, loc: [LocationElement], msg: String, input: JSONValue?, ctx: JSONObject? = nil) {
        self.type = type
        self.loc = loc
        self.msg = msg
        self.input = input
        self.ctx = ctx
    }
}

// MARK: - The pydantic errors the engine produces

extension ValidationIssue {
    public static func missing(at loc: [LocationElement], input: JSONValue = .null) -> Self {
        Self(type: "missing", loc: loc, msg: "Field required", input: input)
    }

    /// FastAPI's own error for a body `json.loads` rejects.
    public static func jsonInvalid(_ error: JSONSyntaxError) -> Self {
        Self(
            type: "json_invalid",
            loc: ["body", .index(error.position)],
            msg: "JSON decode error",
            input: .object(JSONObject()),
            ctx: JSONObject(["error": .string(error.message)])
        )
    }

    static func make(_ kind: CoercionFailure, at loc: [LocationElement], input: JSONValue) -> Self {
        Self(type: kind.type, loc: loc, msg: kind.message, input: input)
    }
}

/// pydantic-core error kinds with their fixed messages.
public struct CoercionFailure: Sendable, Equatable, Error {
    public let type: String
    public let message: String

    public static let intParsing = Self(
        type: "int_parsing", message: "Input should be a valid integer, unable to parse string as an integer")
    public static let intParsingSize = Self(
        type: "int_parsing_size", message: "Unable to parse input string as an integer, exceeded maximum size")
    public static let intType = Self(type: "int_type", message: "Input should be a valid integer")
    public static let intFromFloat = Self(
        type: "int_from_float", message: "Input should be a valid integer, got a number with a fractional part")
    public static let finiteNumber = Self(type: "finite_number", message: "Input should be a finite number")
    public static let floatParsing = Self(
        type: "float_parsing", message: "Input should be a valid number, unable to parse string as a number")
    public static let floatType = Self(type: "float_type", message: "Input should be a valid number")
    public static let stringType = Self(type: "string_type", message: "Input should be a valid string")
    public static let boolParsing = Self(
        type: "bool_parsing", message: "Input should be a valid boolean, unable to interpret input")
    public static let boolType = Self(type: "bool_type", message: "Input should be a valid boolean")
    public static let listType = Self(type: "list_type", message: "Input should be a valid list")
    public static let dictType = Self(type: "dict_type", message: "Input should be a valid dictionary")
    public static let modelAttributesType = Self(
        type: "model_attributes_type", message: "Input should be a valid dictionary or object to extract fields from")
}

// MARK: - The 422 body

/// Writes `{"detail":[...]}` as FastAPI's `request_validation_exception_handler` does.
public struct ValidationErrorBody {
    public static func write(
        _ issues: [ValidationIssue],
        into buffer: inout ByteBuffer,
        writer: JSONWriter = JSONWriter()
    ) throws(JSONWriteError) {
        buffer.writeStaticString("{\"detail\":[")
        for (i, issue) in issues.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeStaticString("{\"type\":")
            try writer.write(string: issue.type, into: &buffer)
            buffer.writeStaticString(",\"loc\":[")
            for (k, element) in issue.loc.enumerated() {
                if k > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                switch element {
                case .key(let key): try writer.write(string: key, into: &buffer)
                case .index(let index): buffer.writeDecimal(index)
                }
            }
            buffer.writeStaticString("],\"msg\":")
            try writer.write(string: issue.msg, into: &buffer)
            if let input = issue.input {
                buffer.writeStaticString(",\"input\":")
                try writer.write(input, into: &buffer)
            }
            if let ctx = issue.ctx {
                buffer.writeStaticString(",\"ctx\":")
                try writer.write(ctx, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
        buffer.writeStaticString("]}")
    }
}
