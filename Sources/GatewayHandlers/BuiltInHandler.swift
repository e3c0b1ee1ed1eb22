public import NIOCore

/// A handler the gateway answers from itself instead of proxying.
public protocol BuiltInHandler: Sendable {
    /// Called on the connection's event loop for each request routed here; must not block.
    func respond(to request: BuiltInRequest, allocator: ByteBufferAllocator) -> BuiltInResponse

    /// How the gateway's OpenAPI document describes this handler's operations
    /// (`BuiltInHandler+OpenAPI.swift`); read when a configuration is compiled.
    var openAPI: BuiltInOpenAPI { get }
}

/// What a built-in handler sees of a request. Lives on one event loop.
public struct BuiltInRequest {
    /// The request method, e.g. `"GET"`.
    public var method: String
    /// Values in the order of the route template's parameter names, still percent-encoded.
    public var pathParameters: [Substring]
    /// The raw query string without `?`, nil when the target has no `?`.
    public var query: Substring?
    public var contentType: Substring?
    /// The whole body (the server already limited its size), nil when there is none.
    public var body: ByteBuffer?

    public init(
        method: String,
        pathParameters: [Substring] = [],
        query: Substring? = nil,
        contentType: Substring? = nil,
        body: ByteBuffer? = nil
    ) {
        self.method = method
        self.pathParameters = pathParameters
        self.query = query
        self.contentType = contentType
        self.body = body
    }
}

public struct BuiltInResponse {
    public var status: Int
    public var contentType: StaticString
    public var body: ByteBuffer
    /// Headers besides Content-Type and Content-Length (e.g. `Allow` on a 405).
    public var extraHeaders: [(name: String, value: String)]

    public init(
        status: Int,
        contentType: StaticString = "application/json",
        body: ByteBuffer,
        extraHeaders: [(name: String, value: String)] = []
    ) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.extraHeaders = extraHeaders
    }
}

/// A built-in handler can't be made for a route; reported when the configuration is compiled.
public struct BuiltInHandlerError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case unknownHandler
        case unsupportedPathParameters
    }

    private let code: Code
    public let description: String

    public static func unknownHandler(_ name: String) -> Self {
        Self(code: .unknownHandler, description: "no built-in handler named \"\(name)\" (known: items)")
    }

    public static func unsupportedPathParameters(handler: String, names: [String], expected: String) -> Self {
        Self(
            code: .unsupportedPathParameters,
            description: "built-in handler \"\(handler)\" can't serve path parameters \(names); expected \(expected)"
        )
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}

public enum BuiltInHandlers {
    /// The handler for a route whose template has these parameter names, in order. Called when
    /// the configuration is compiled, off the event loops.
    public static func make(name: String, pathParameterNames: [String]) throws(BuiltInHandlerError) -> any BuiltInHandler {
        switch name {
        case "items":
            return try ItemsHandler(pathParameterNames: pathParameterNames)
        default:
            throw .unknownHandler(name)
        }
    }
}

// MARK: - Fixed responses

extension BuiltInResponse {
    /// Starlette's ServerErrorMiddleware answer.
    static func internalServerError(allocator: ByteBufferAllocator) -> Self {
        var body = allocator.buffer(capacity: 21)
        body.writeStaticString("Internal Server Error")
        return Self(status: 500, contentType: "text/plain; charset=utf-8", body: body)
    }

    /// FastAPI's answer when `json.loads` fails with anything but a JSONDecodeError.
    static func bodyParsingError(allocator: ByteBufferAllocator) -> Self {
        var body = allocator.buffer(capacity: 48)
        body.writeStaticString("{\"detail\":\"There was an error parsing the body\"}")
        return Self(status: 400, body: body)
    }

    static func methodNotAllowed(allow: String, allocator: ByteBufferAllocator) -> Self {
        var body = allocator.buffer(capacity: 31)
        body.writeStaticString("{\"detail\":\"Method Not Allowed\"}")
        return Self(status: 405, body: body, extraHeaders: [(name: "Allow", value: allow)])
    }
}
