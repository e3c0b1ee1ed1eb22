import Foundation
import Testing

private let orderSchema = #"""
    {"type": "object",
     "properties": {"sku": {"type": "string", "minLength": 1}, "qty": {"type": "integer", "minimum": 1}},
     "required": ["sku", "qty"]}
    """#

@Suite("Validation end to end", .serialized)
struct ValidationEndToEndTests {
    /// `orders` (body schema from a file) and `gz-orders` (inflated, then validated) send
    /// what passes to the upstream's `/echo-body`; `order` checks path, query and header
    /// parameters and streams; `create_item` is the built-in handler behind a required header.
    private static func start(_ upstream: ProxyTestUpstream) async throws -> TestGateway {
        try await TestGateway.start(
            routes: [
                ["name": "orders", "match": ["path": "/orders/", "methods": ["POST"]], "upstream": "backend",
                 "rewrite": "/echo-body", "validation": ["body": ["file": "schemas/order.json"]]],
                ["name": "gz-orders", "match": ["path": "/gz-orders/", "methods": ["POST"]], "upstream": "backend",
                 "rewrite": "/echo-body", "request_decompression": true,
                 "validation": ["body": ["file": "schemas/order.json"]]],
                ["name": "order", "match": ["path": "/orders/{order_id}", "methods": ["GET", "POST"]],
                 "upstream": "backend",
                 "validation": [
                    "path": ["order_id": ["type": "integer", "minimum": 1]],
                    "query": ["limit": ["type": "integer", "maximum": 100],
                              "tag": ["type": "array", "items": ["enum": ["a", "b"]]]],
                    "headers": ["X-Tenant": ["type": "string", "minLength": 1]],
                    "required": ["headers": ["X-Tenant"]],
                 ]],
                ["name": "create_item", "match": ["path": "/items/", "methods": ["POST"]], "handler": "items",
                 "validation": ["headers": ["X-Tenant": ["type": "string"]], "required": ["headers": ["X-Tenant"]]]],
                ["name": "items", "match": ["path": "/items/{item_id}", "methods": ["GET", "PUT"]], "handler": "items",
                 "validation": ["body": ["type": "object", "properties": ["price": ["type": "number", "exclusiveMinimum": 0]]]]],
            ],
            plainListener: true,
            extra: ["upstreams": ["backend": ["targets": [["address": upstream.address]]]]],
            prepare: { directory in
                try FileManager.default.createDirectory(
                    at: directory.appendingPathComponent("schemas"), withIntermediateDirectories: true)
                try Data(orderSchema.utf8).write(to: directory.appendingPathComponent("schemas/order.json"))
            })
    }

    private static func post(
        _ gateway: TestGateway, _ path: String, _ body: String, _ headers: [String] = ["Content-Type: application/json"]
    ) async throws -> UploadResponse {
        let file = try writeFile(gateway, UUID().uuidString + ".json", Data(body.utf8))
        return try await upload(gateway, path, file: file, headers: headers)
    }

    @Test func validBodyIsForwardedAsSent() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        // Spacing, key order, an unknown member and a float that reserializes differently: all kept.
        let body = #"{ "qty" : 2,"sku":"A-1",  "note": 1.50e1 }"#
        let sent = try await Self.post(gateway, "/orders/", body)
        #expect(sent.code == 200)
        #expect(sent.text == body, "the upstream got the original bytes")
        #expect(sent.header("x-request-content-length") == String(body.utf8.count))
        // Chunked from the client: the upstream gets the same bytes with a Content-Length.
        let chunked = try await Self.post(
            gateway, "/orders/", body, ["Content-Type: application/json", "Transfer-Encoding: chunked"])
        #expect(chunked.code == 200)
        #expect(chunked.text == body)
        #expect(chunked.header("x-request-transfer-encoding") == "-")
        #expect(upstream.requests == 2)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func invalidBodiesAre422BeforeTheUpstream() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let cases: [(String, [String], String)] = [
            (
                #"{"sku": "", "qty": 0}"#, ["Content-Type: application/json"],
                #"{"detail":[{"type":"string_too_short","loc":["body","sku"],"msg":"String should have at least 1 character","input":"","ctx":{"min_length":1}},{"type":"greater_than_equal","loc":["body","qty"],"msg":"Input should be greater than or equal to 1","input":0,"ctx":{"ge":1}}]}"#
            ),
            (
                #"{"sku": "A-1"}"#, ["Content-Type: application/json"],
                #"{"detail":[{"type":"missing","loc":["body","qty"],"msg":"Field required","input":{"sku":"A-1"}}]}"#
            ),
            (
                #"{"sku": "A-1", "qty": "#, ["Content-Type: application/json"],
                #"{"detail":[{"type":"json_invalid","loc":["body",22],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]}"#
            ),
            (
                "sku=A-1&qty=2", ["Content-Type: application/x-www-form-urlencoded"],
                #"{"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":"sku=A-1&qty=2"}]}"#
            ),
        ]
        for (body, headers, expected) in cases {
            let refused = try await Self.post(gateway, "/orders/", body, headers)
            #expect(refused.code == 422, "\(body)")
            #expect(refused.header("content-type") == "application/json")
            #expect(refused.text == expected, "\(body)")
        }
        let empty = try await Self.post(gateway, "/orders/", "")
        #expect(empty.code == 422)
        #expect(empty.text == #"{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}"#)
        #expect(upstream.requests == 0, "no refused request reached the upstream")
        await gateway.stop()
        await upstream.stop()
    }

    @Test func parametersInFastAPIsOrderAndShape() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let refused = try curl(gateway, "/orders/0?limit=500&tag=a&tag=c")
        #expect(refused.code == 422)
        #expect(
            refused.body
                == #"{"detail":[{"type":"greater_than_equal","loc":["path","order_id"],"msg":"Input should be greater than or equal to 1","input":"0","ctx":{"ge":1}},{"type":"less_than_equal","loc":["query","limit"],"msg":"Input should be less than or equal to 100","input":"500","ctx":{"le":100}},{"type":"literal_error","loc":["query","tag",1],"msg":"Input should be 'a' or 'b'","input":"c","ctx":{"expected":"'a' or 'b'"}},{"type":"missing","loc":["header","x-tenant"],"msg":"Field required","input":null}]}"#
        )
        // The header's name is matched without case; an empty value is validated, not missing.
        let empty = try curl(gateway, "/orders/7", ["-H", "x-TENANT;"])
        #expect(empty.code == 422)
        #expect(empty.body.contains(#""type":"string_too_short","loc":["header","x-tenant"]"#))
        let accepted = try curl(gateway, "/orders/7?limit=10&tag=b", ["-H", "X-Tenant: acme"])
        #expect(accepted.code == 200)
        #expect(accepted.body.contains("7?limit=10&tag=b"))
        // A percent-encoded path parameter is validated decoded, as FastAPI sees it.
        #expect(try curl(gateway, "/orders/%31%32", ["-H", "X-Tenant: acme"]).code == 200)
        // Without a body schema the body still streams: a refused head never reads it.
        let streamed = try curl(
            gateway, "/orders/7", ["-X", "POST", "-H", "X-Tenant: acme", "--data-binary", String(repeating: "x", count: 100_000)])
        #expect(streamed.code == 200)
        #expect(streamed.body.contains(#""body_bytes":100000"#))
        #expect(upstream.requests == 3)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func gzipBodyIsInflatedThenValidated() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let valid = #"{"sku":"A-1","qty":3}"#
        let sent = try await upload(
            gateway, "/gz-orders/", file: try gzipFile(try writeFile(gateway, "valid.json", Data(valid.utf8))),
            headers: ["Content-Type: application/json", "Content-Encoding: gzip"])
        #expect(sent.code == 200)
        #expect(sent.text == valid)
        #expect(sent.header("x-request-content-encoding") == "-")
        let refused = try await upload(
            gateway, "/gz-orders/",
            file: try gzipFile(try writeFile(gateway, "invalid.json", Data(#"{"sku":"A-1","qty":0}"#.utf8))),
            headers: ["Content-Type: application/json", "Content-Encoding: gzip"])
        #expect(refused.code == 422)
        #expect(refused.text.contains(#""loc":["body","qty"]"#))
        // A route that validates bodies but does not decompress cannot read a gzip body.
        let unreadable = try await upload(
            gateway, "/orders/", file: try gzipFile(try writeFile(gateway, "plain.json", Data(valid.utf8))),
            headers: ["Content-Type: application/json", "Content-Encoding: gzip"])
        #expect(unreadable.code == 415)
        #expect(unreadable.header("accept-encoding") == "identity")
        #expect(upstream.requests == 1)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func builtInRoutesAreValidatedToo() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let item = #"{"name":"Foo","price":35.4}"#
        let missing = try await Self.post(gateway, "/items/", item)
        #expect(missing.code == 422)
        #expect(missing.text == #"{"detail":[{"type":"missing","loc":["header","x-tenant"],"msg":"Field required","input":null}]}"#)
        let created = try await Self.post(gateway, "/items/", item, ["Content-Type: application/json", "X-Tenant: acme"])
        #expect(created.code == 200)
        #expect(created.text == #"{"name":"Foo","description":null,"price":35.4,"tax":null}"#)
        // The route's schema runs before the handler's own model.
        let free = try curl(
            gateway, "/items/3", ["-X", "PUT", "-H", "content-type: application/json", "--data", #"{"name":"Foo","price":0}"#])
        #expect(free.code == 422)
        #expect(free.body.contains(#""type":"greater_than","loc":["body","price"]"#))
        let updated = try curl(
            gateway, "/items/3", ["-X", "PUT", "-H", "content-type: application/json", "--data", item])
        #expect(updated.code == 200)
        #expect(updated.body == #"{"item_id":3,"name":"Foo","description":null,"price":35.4,"tax":null}"#)
        await gateway.stop()
        await upstream.stop()
    }

    /// Requests pipelined behind a collected, validated and proxied one are answered in order.
    @Test func pipelinedBehindAValidatedBody() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let port = try #require(gateway.httpPort)
        let valid = #"{"sku":"A-1","qty":1}"#
        let invalid = #"{"sku":"A-1","qty":0}"#
        let text = try await offThePool {
            let connection = try RawConnection(port: port)
            connection.send(
                "POST /orders/ HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(valid.utf8.count)\r\n\r\n\(valid)"
                    + "POST /orders/ HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(invalid.utf8.count)\r\n\r\n\(invalid)"
                    + "GET /orders/6 HTTP/1.1\r\nHost: a\r\nX-Tenant: third\r\nConnection: close\r\n\r\n")
            return connection.readToEnd()
        }
        let first = try #require(text.range(of: valid))
        let second = try #require(text.range(of: "HTTP/1.1 422"))
        let third = try #require(text.range(of: #""x-tenant":["third"]"#))
        #expect(first.lowerBound < second.lowerBound)
        #expect(second.lowerBound < third.lowerBound)
        await gateway.stop()
        await upstream.stop()
    }

    /// The schema file is watched like a certificate: editing it reloads; a bad edit
    /// is refused with its path, and the running schema keeps serving.
    @Test func schemaFileReloads() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let schemaURL = gateway.directory.appendingPathComponent("schemas/order.json")
        #expect(try await Self.post(gateway, "/orders/", #"{"sku":"A-1","qty":1}"#).code == 200)

        try Data(orderSchema.replacingOccurrences(of: #""minimum": 1"#, with: #""minimum": 5"#).utf8).write(to: schemaURL)
        let reloaded = try await gateway.adminReload()
        #expect(reloaded.code == 200, "\(reloaded.body)")
        #expect(reloaded.body.contains("routes: updated"))
        #expect(try await Self.post(gateway, "/orders/", #"{"sku":"A-1","qty":1}"#).code == 422)

        try Data(orderSchema.replacingOccurrences(of: #""minimum": 1"#, with: #""minimum": "five""#).utf8).write(to: schemaURL)
        let failed = try await gateway.adminReload()
        #expect(failed.code == 422)
        #expect(failed.body.contains(#""path":"routes[0].validation.body.file""#), "\(failed.body)")
        #expect(failed.body.contains("properties.qty.minimum"), "\(failed.body)")
        // Still the schema of the last good load.
        #expect(try await Self.post(gateway, "/orders/", #"{"sku":"A-1","qty":4}"#).code == 422)
        #expect(try await Self.post(gateway, "/orders/", #"{"sku":"A-1","qty":5}"#).code == 200)
        await gateway.stop()
        await upstream.stop()
    }
}
