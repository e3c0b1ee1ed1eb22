/// The top-level `openapi` object: the gateway serves an OpenAPI 3.1 document of
/// its routes, and a Swagger UI page that renders it, as FastAPI does at
/// `/openapi.json` and `/docs`. Off unless the object is present.
public struct OpenAPIConfiguration: Sendable, Equatable {
    /// Where the document is served, e.g. `/openapi.json`.
    public var path: String
    /// Where the Swagger UI page is served; nil serves none (FastAPI's `docs_url=None`).
    public var docsPath: String?
    /// `info.title`.
    public var title: String
    /// `info.version`: the version of the API described, not of the gateway.
    public var version: String
    /// `info.description`, when set.
    public var description: String?

    public static let defaultPath = "/openapi.json"
    public static let defaultDocsPath = "/docs"
    public static let defaultTitle = "swift-api-gateway"
    /// FastAPI's default `version`.
    public static let defaultVersion = "0.1.0"

    public init(
        path: String = Self.defaultPath, docsPath: String? = Self.defaultDocsPath, title: String = Self.defaultTitle,
        version: String = Self.defaultVersion, description: String? = nil
    ) {
        self.path = path
        self.docsPath = docsPath
        self.title = title
        self.version = version
        self.description = description
    }
}
