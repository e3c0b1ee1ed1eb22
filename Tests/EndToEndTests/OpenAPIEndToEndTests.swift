import Foundation
import Testing

/// `/openapi.json` and `/docs` over TLS with curl, against FastAPI's own
/// document and page (Tests/GatewayHandlersTests/Fixtures).
@Suite("OpenAPI end to end", .serialized)
struct OpenAPIEndToEndTests {
    static func fixture(_ name: String) throws -> String {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(2)  // EndToEndTests/<file>
        let path = components.joined(separator: "/") + "/GatewayHandlersTests/Fixtures/" + name
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test func servesFastAPIsDocumentAndPageForTheItemsRoutes() async throws {
        let gateway = try await TestGateway.start(extra: ["openapi": ["title": "FastAPI"]])
        let document = try await exchange(gateway, "/openapi.json")
        #expect(document.code == 200)
        #expect(document.header("content-type") == "application/json")
        #expect(document.body == (try Self.fixture("openapi.json")))
        let etag = try #require(document.header("etag"))
        #expect(document.header("cache-control") == "no-cache")

        let page = try await exchange(gateway, "/docs")
        #expect(page.code == 200)
        #expect(page.header("content-type") == "text/html; charset=utf-8")
        #expect(page.body == (try Self.fixture("swagger_ui.html")))

        // Revalidation: the same version is 304 without a body; HEAD has the length and no body.
        let again = try await exchange(gateway, "/openapi.json", ["-H", "If-None-Match: \(etag)"])
        #expect(again.code == 304)
        #expect(again.body.isEmpty)
        #expect(again.header("etag") == etag)
        #expect(again.header("content-length") == nil)
        let head = try await exchange(gateway, "/openapi.json", ["-I"])
        #expect(head.code == 200)
        #expect(head.header("content-length") == String(document.body.utf8.count))
        // Only GET and HEAD.
        let post = try await exchange(gateway, "/openapi.json", ["-X", "POST", "--data", "x"])
        #expect(post.code == 405)
        #expect(post.header("allow") == "GET, HEAD")

        let metrics = try await offThePool { try gateway.scrape() }
        let openAPI = ["route": "gateway:openapi", "method": "GET"]
        #expect(metricValue(metrics, "gateway_http_requests_total", openAPI.merging(["code": "200"]) { $1 }) == 1)
        #expect(metricValue(metrics, "gateway_http_requests_total", openAPI.merging(["code": "304"]) { $1 }) == 1)
        #expect(
            metricValue(
                metrics, "gateway_http_requests_total", ["route": "gateway:openapi", "method": "HEAD", "code": "200"])
                == 1)
        #expect(metricValue(metrics, "gateway_http_requests_total", ["route": "gateway:docs", "code": "200"]) == 1)
        await gateway.stop()
    }

    @Test func offByDefaultAndFollowsAReload() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await TestGateway.start(
            extra: ["upstreams": ["backend": ["targets": [["address": upstream.address]]]]])
        #expect(try await exchange(gateway, "/openapi.json").code == 404)
        #expect(try await exchange(gateway, "/docs").code == 404)

        try gateway.rewrite {
            $0["openapi"] = ["path": "/api/openapi.json", "docs_path": NSNull(), "title": "Shop", "version": "2.0"]
            $0["routes"] = TestGateway.itemRoutes + [
                [
                    "name": "orders", "match": ["path": "/orders/", "methods": ["POST"]], "upstream": "backend",
                    "validation": [
                        "body": ["type": "object", "properties": ["sku": ["type": "string"]], "required": ["sku"]]
                    ],
                ]
            ]
        }
        let reload = try await gateway.adminReload()
        #expect(reload.code == 200)
        #expect(reload.body.contains("openapi: updated"))
        #expect(try await exchange(gateway, "/docs").code == 404)
        let answer = try await exchange(gateway, "/api/openapi.json")
        #expect(answer.code == 200)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
        #expect(document["info"] as? NSDictionary == ["title": "Shop", "version": "2.0"])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        #expect(Set(paths.keys) == ["/items/{item_id}", "/items/", "/orders/"])
        let orders = try #require(paths["/orders/"]?["post"] as? [String: Any])
        #expect(orders["operationId"] as? String == "orders_orders__post")
        let body = (orders["requestBody"] as? [String: Any])?["content"] as? [String: [String: Any]]
        #expect(
            body?["application/json"]?["schema"] as? NSDictionary == [
                "type": "object", "properties": ["sku": ["type": "string"]], "required": ["sku"],
            ])
        #expect((orders["responses"] as? [String: Any])?["422"] != nil)
        await gateway.stop()
        await upstream.stop()
    }
}
