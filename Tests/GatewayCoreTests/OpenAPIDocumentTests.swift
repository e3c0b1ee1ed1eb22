import Foundation
import GatewayConfig
import NIOCore
import Testing

@testable import GatewayCore

/// The OpenAPI document against FastAPI's own, recorded from the tutorial app by
/// `Tests/GatewayHandlersTests/Fixtures/generate_fastapi_fixtures.py`.
@Suite("The OpenAPI document and docs page")
struct OpenAPIDocumentTests {
    static let fixtures: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(2)  // GatewayCoreTests/<file>
        return components.joined(separator: "/") + "/GatewayHandlersTests/Fixtures"
    }()

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/" + name)))
    }

    static let itemRoutes = #"""
        {"name": "items", "match": {"path": "/items/{item_id}", "methods": ["GET", "PUT"]}, "handler": "items"},
        {"name": "create_item", "match": {"path": "/items/", "methods": ["POST"]}, "handler": "items"}
        """#

    private func state(openAPI: String, routes: String, extra: String = "") throws -> GatewayState {
        let json = #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "openapi": \#(openAPI), \#(extra)
             "routes": [\#(routes)]}
            """#
        let configuration = try GatewayConfigurationLoader.load(data: Array(json.utf8), baseDirectory: "/", environment: [:])
        return try GatewayState(configuration: configuration)
    }

    private func page(_ state: GatewayState, named name: String) throws -> GatewayPage {
        let index = try #require(state.routeNames.firstIndex(of: name))
        return try #require(state.routes[index].page)
    }

    private func document(_ state: GatewayState, host: String? = nil) throws -> [String: Any] {
        let page = try self.page(state, named: "gateway:openapi").page(forHost: host.map { Substring($0) })
        #expect("\(page.contentType)" == "application/json")
        return try #require(try JSONSerialization.jsonObject(with: Data(page.body.readableBytesView)) as? [String: Any])
    }

    @Test func theItemsRoutesAreDescribedByteForByteAsFastAPIDoes() throws {
        let state = try self.state(openAPI: #"{"title": "FastAPI", "version": "0.1.0"}"#, routes: Self.itemRoutes)
        let page = try self.page(state, named: "gateway:openapi").page(forHost: nil)
        let expected = try Self.fixture("openapi.json")
        #expect(Array(page.body.readableBytesView) == expected, "\(String(decoding: page.body.readableBytesView, as: UTF8.self))")
    }

    @Test func proxiedAndPrefixRoutesAppearWithTheirMethods() throws {
        let state = try self.state(
            openAPI: #"{"description": "Everything behind the gateway."}"#,
            routes: Self.itemRoutes + #"""
                , {"name": "orders", "match": {"path": "/orders/", "methods": ["POST"]}, "upstream": "backend", "rate_limits": ["slow"]},
                {"name": "user", "match": {"path": "/users/{user_id}", "methods": ["GET", "DELETE", "M-SEARCH"]}, "upstream": "backend"},
                {"name": "files", "match": {"prefix": "/files/"}, "upstream": "backend", "strip_prefix": true}
                """#,
            extra: #""upstreams": {"backend": {"targets": [{"address": "127.0.0.1:9000"}]}}, "rate_limits": {"slow": {"limit": "1/s"}},"#)
        let document = try self.document(state)
        let fastAPI = try #require(
            try JSONSerialization.jsonObject(with: Data(Self.fixture("openapi.json"))) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        #expect(
            document["info"] as? NSDictionary
                == ["title": "swift-api-gateway", "version": "0.1.0", "description": "Everything behind the gateway."])
        let paths = try #require(document["paths"] as? [String: Any])
        let fastAPIPaths = try #require(fastAPI["paths"] as? [String: Any])
        // The items operations are FastAPI's whatever else the document holds.
        for path in ["/items/{item_id}", "/items/"] {
            #expect(paths[path] as? NSDictionary == fastAPIPaths[path] as? NSDictionary, "\(path)")
        }
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let fastAPISchemas = try #require((fastAPI["components"] as? [String: Any])?["schemas"] as? [String: Any])
        for (name, schema) in fastAPISchemas {
            #expect(schemas[name] as? NSDictionary == schema as? NSDictionary, "\(name)")
        }
        #expect(Set(schemas.keys) == Set(fastAPISchemas.keys).union(["GatewayError"]))
        #expect(paths.keys.sorted() == ["/files/{path}", "/items/", "/items/{item_id}", "/orders/", "/users/{user_id}"])

        let orders = try #require((paths["/orders/"] as? [String: Any])?["post"] as? [String: Any])
        #expect(orders["summary"] as? String == "Orders")
        #expect(orders["operationId"] as? String == "orders_orders__post")
        let responses = try #require(orders["responses"] as? [String: Any])
        #expect(Set(responses.keys) == ["default", "429"])
        #expect(
            ((((responses["429"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])?[
                "schema"] as? NSDictionary) == ["$ref": "#/components/schemas/GatewayError"])

        let user = try #require(paths["/users/{user_id}"] as? [String: Any])
        #expect(Set(user.keys) == ["get", "delete"])  // M-SEARCH has no place in OpenAPI 3.1
        let getUser = try #require(user["get"] as? [String: Any])
        #expect(getUser["operationId"] as? String == "user_users__user_id__get")
        #expect(
            getUser["parameters"] as? NSArray == [
                ["name": "user_id", "in": "path", "required": true, "schema": ["type": "string", "title": "User Id"]]
            ])

        let files = try #require(paths["/files/{path}"] as? [String: Any])
        #expect(Set(files.keys) == ["get", "put", "post", "delete", "options", "head", "patch", "trace"])
        let getFiles = try #require(files["get"] as? [String: Any])
        let parameter = try #require((getFiles["parameters"] as? [[String: Any]])?.first)
        #expect(parameter["name"] as? String == "path")
        #expect(parameter["in"] as? String == "path")
        #expect(getFiles["description"] as? String == "Matches every path that starts with `/files/`; `{path}` is the rest of the path.")
        // The document and page themselves are not described, as in FastAPI.
        #expect(paths["/openapi.json"] == nil && paths["/docs"] == nil)
        // The upstream's name stays inside the gateway.
        let text = String(decoding: try self.page(state, named: "gateway:openapi").page(forHost: nil).body.readableBytesView, as: UTF8.self)
        #expect(!text.contains("backend"))
    }

    @Test func routesOfOneShapeShareAPathItemWithItsParameterNames() throws {
        // OpenAPI sees `/items/{item_id}` and the prefix `/items/` (shown as `/items/{path}`) as one path.
        let state = try self.state(
            openAPI: "{}",
            routes: #"""
                {"name": "items", "match": {"path": "/items/{item_id}", "methods": ["GET"]}, "handler": "items"},
                {"name": "rest", "match": {"prefix": "/items/", "methods": ["POST", "GET"]}, "upstream": "backend"}
                """#,
            extra: #""upstreams": {"backend": {"targets": [{"address": "127.0.0.1:9000"}]}},"#)
        let paths = try #require(try self.document(state)["paths"] as? [String: [String: [String: Any]]])
        #expect(Array(paths.keys) == ["/items/{item_id}"])
        let item = try #require(paths["/items/{item_id}"])
        #expect(Set(item.keys) == ["get", "post"])  // GET is the items route's: it is matched first
        #expect(item["get"]?["operationId"] as? String == "read_item_items__item_id__get")
        let parameters = try #require(item["post"]?["parameters"] as? [[String: Any]])
        #expect(parameters.map { $0["name"] as? String } == ["item_id"])
    }

    @Test func validationAndAuthAreDescribedAsFastAPIWould() throws {
        let state = try self.state(
            openAPI: "{}",
            routes: #"""
                {"name": "order", "match": {"path": "/orders/{order_id}/lines/{line}", "methods": ["PUT"]}, "upstream": "backend",
                 "auth": {"api_key": {"header": "X-Key", "query": "key", "allow": ["a"]}},
                 "validation": {"path": {"order_id": {"type": "integer", "minimum": 1}},
                                "query": {"dry_run": {"type": "boolean"}}, "headers": {"X-Tenant": {"type": "string", "title": "Tenant"}},
                                "required": {"headers": ["X-Tenant"]},
                                "body": {"type": "object", "properties": {"qty": {"type": "integer"}}, "required": ["qty"]}}},
                {"name": "items", "match": {"path": "/items/{item_id}", "methods": ["GET"]}, "handler": "items",
                 "validation": {"path": {"item_id": {"type": "integer"}}, "headers": {"X-Tenant": {"type": "string"}}}}
                """#,
            extra: #""upstreams": {"backend": {"targets": [{"address": "127.0.0.1:9000"}]}}, "api_keys": {"a": "0123456789abcdef-a"},"#)
        let document = try self.document(state)
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        let order = try #require(paths["/orders/{order_id}/lines/{line}"]?["put"])
        #expect(
            order["parameters"] as? NSArray == [
                ["name": "line", "in": "path", "required": true, "schema": ["type": "string", "title": "Line"]],
                ["name": "order_id", "in": "path", "required": true,
                 "schema": ["type": "integer", "minimum": 1, "title": "Order Id"]],
                ["name": "dry_run", "in": "query", "required": false, "schema": ["type": "boolean", "title": "Dry Run"]],
                ["name": "X-Tenant", "in": "header", "required": true, "schema": ["type": "string", "title": "Tenant"]],
            ])
        #expect(
            order["requestBody"] as? NSDictionary == [
                "content": ["application/json": ["schema": [
                    "type": "object", "properties": ["qty": ["type": "integer"]], "required": ["qty"],
                ]]],
                "required": true,
            ])
        #expect(order["security"] as? NSArray == [["APIKeyHeader_X-Key": []], ["APIKeyQuery_key": []]])
        let responses = try #require(order["responses"] as? [String: Any])
        #expect(responses.keys.sorted() == ["401", "403", "422", "default"])
        #expect(
            responses["422"] as? NSDictionary == [
                "description": "Validation Error",
                "content": ["application/json": ["schema": ["$ref": "#/components/schemas/HTTPValidationError"]]],
            ])
        let components = try #require(document["components"] as? [String: Any])
        #expect(
            components["securitySchemes"] as? NSDictionary == [
                "APIKeyHeader_X-Key": ["type": "apiKey", "in": "header", "name": "X-Key"],
                "APIKeyQuery_key": ["type": "apiKey", "in": "query", "name": "key"],
            ])
        #expect(
            Set((components["schemas"] as? [String: Any])?.keys.map { $0 } ?? [])
                == ["GatewayError", "HTTPValidationError", "ValidationError", "Item"])
        // The items operation keeps FastAPI's `item_id` and `q`; the route's header is added after them.
        let items = try #require(paths["/items/{item_id}"]?["get"])
        let names = (items["parameters"] as? [[String: Any]])?.map { "\($0["in"]!):\($0["name"]!)" }
        #expect(names == ["path:item_id", "query:q", "header:X-Tenant"])
    }

    @Test func theExamplePoliciesDocumentIsComplete() throws {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        let path = components.joined(separator: "/") + "/examples/policies.json"
        let configuration = try GatewayConfigurationLoader.load(
            contentsOf: path, environment: ["API_KEY": "example-key-0123456789"])
        let document = try self.document(try GatewayState(configuration: configuration))
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        #expect(
            Set(paths.keys) == [
                "/orders/", "/orders/{order_id}", "/uploads/{path}", "/secure/{path}", "/reports/{path}", "/public/{path}",
                "/catalog/{path}",
            ])
        let orders = try #require(paths["/orders/"]?["post"])
        let schema = ((orders["requestBody"] as? [String: Any])?["content"] as? [String: [String: [String: Any]]])?[
            "application/json"]?["schema"]
        #expect(schema?["title"] as? String == "Order")
        #expect(paths["/reports/{path}"]?["get"]?["security"] as? NSArray == [["HTTPBearer": []]])
        #expect(paths["/secure/{path}"]?["get"]?["security"] as? NSArray == [["APIKeyHeader_X-API-Key": []]])
        let schemes = (document["components"] as? [String: Any])?["securitySchemes"] as? [String: Any]
        #expect(
            schemes?["HTTPBearer"] as? NSDictionary == ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"])
        // The API key itself never appears.
        let page = try self.page(try GatewayState(configuration: configuration), named: "gateway:openapi")
        let text = String(decoding: page.page(forHost: nil).body.readableBytesView, as: UTF8.self)
        #expect(!text.contains("example-key-0123456789"))
    }

    @Test func eachHostSeesTheRoutesItCanReach() throws {
        let state = try self.state(
            openAPI: "{}",
            routes: #"""
                {"name": "any", "match": {"path": "/a", "methods": ["GET"]}, "upstream": "backend"},
                {"name": "api", "match": {"path": "/a", "methods": ["GET", "POST"], "host": "api.example.com"}, "upstream": "backend"},
                {"name": "wild", "match": {"path": "/w", "methods": ["GET"], "host": "*.example.com"}, "upstream": "backend"},
                {"name": "deep", "match": {"path": "/d", "methods": ["GET"], "host": "*.eu.example.com"}, "upstream": "backend"}
                """#,
            extra: #""upstreams": {"backend": {"targets": [{"address": "127.0.0.1:9000"}]}},"#)
        func operations(_ host: String?) throws -> [String] {
            let paths = try #require(try self.document(state, host: host)["paths"] as? [String: [String: [String: Any]]])
            return paths.flatMap { path, item in item.map { "\($1["operationId"] as! String)" } }.sorted()
        }
        #expect(try operations(nil) == ["any_a_get"])
        #expect(try operations("unknown.test") == ["any_a_get"])
        // The host's own route wins GET /a; POST comes with it; the *.example.com route matches too.
        #expect(try operations("API.example.com:8443") == ["api_a_get", "api_a_post", "wild_w_get"])
        #expect(try operations("www.example.com") == ["any_a_get", "wild_w_get"])
        #expect(try operations("x.eu.example.com") == ["any_a_get", "deep_d_get", "wild_w_get"])
    }

    @Test func theDocsPageIsFastAPIsPage() throws {
        let state = try self.state(openAPI: #"{"title": "FastAPI"}"#, routes: Self.itemRoutes)
        let page = try self.page(state, named: "gateway:docs").page(forHost: nil)
        #expect("\(page.contentType)" == "text/html; charset=utf-8")
        #expect(Array(page.body.readableBytesView) == (try Self.fixture("swagger_ui.html")))
        // Another path and title land in the same places; the title is escaped for HTML.
        let other = try self.state(openAPI: #"{"path": "/api/spec.json", "title": "A & <B>"}"#, routes: "")
        let html = String(decoding: try self.page(other, named: "gateway:docs").page(forHost: nil).body.readableBytesView, as: UTF8.self)
        #expect(html.contains("<title>A &amp; &lt;B&gt; - Swagger UI</title>"))
        #expect(html.contains("url: '/api/spec.json',"))
        // Without a docs path there is no page.
        let none = try self.state(openAPI: #"{"docs_path": null}"#, routes: "")
        #expect(!none.routeNames.contains("gateway:docs"))
    }

    @Test func validatorsMatchTheCurrentVersion() throws {
        let state = try self.state(openAPI: "{}", routes: Self.itemRoutes)
        let page = try self.page(state, named: "gateway:openapi").page(forHost: nil)
        #expect(page.etag.count == 18 && page.etag.hasPrefix("\"") && page.etag.hasSuffix("\""))
        #expect(page.isCurrent(ifNoneMatch: [Substring(page.etag)]))
        #expect(page.isCurrent(ifNoneMatch: [#""other", W/"# + Substring(page.etag)]))
        #expect(page.isCurrent(ifNoneMatch: ["*"]))
        #expect(!page.isCurrent(ifNoneMatch: [#""0000000000000000""#]))
        #expect(!page.isCurrent(ifNoneMatch: []))
        // Another document, another tag.
        let other = try self.state(openAPI: #"{"title": "Other"}"#, routes: Self.itemRoutes)
        #expect(try self.page(other, named: "gateway:openapi").page(forHost: nil).etag != page.etag)
    }
}
