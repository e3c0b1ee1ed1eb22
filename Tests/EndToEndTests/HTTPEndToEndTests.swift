import Foundation
import Testing

@Suite("HTTP end to end", .serialized)
struct HTTPEndToEndTests {
    @Test func itemAPIAnswersAsFastAPI() async throws {
        let gateway = try await TestGateway.start()
        #expect(try curl(gateway, "/items/42?q=hello").body == #"{"item_id":42,"q":"hello"}"#)
        let bad = try curl(gateway, "/items/abc")
        #expect(bad.code == 422)
        #expect(
            bad.body
                == #"{"detail":[{"type":"int_parsing","loc":["path","item_id"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}]}"#
        )
        let created = try curl(
            gateway, "/items/", ["-X", "POST", "-H", "content-type: application/json", "--data", #"{"name":"Foo","price":35.4}"#])
        #expect(created.code == 200)
        #expect(created.body == #"{"name":"Foo","description":null,"price":35.4,"tax":null}"#)
        let updated = try curl(
            gateway, "/items/5", ["-X", "PUT", "-H", "content-type: application/json", "--data", #"{"name":"Bar","price":3}"#])
        #expect(updated.body == #"{"item_id":5,"name":"Bar","description":null,"price":3.0,"tax":null}"#)
        let missing = try curl(
            gateway, "/items/", ["-X", "POST", "-H", "content-type: application/json", "--data", #"{"price":"x"}"#])
        #expect(missing.code == 422)
        #expect(missing.body.contains(#""type":"missing","loc":["body","name"]"#))
        #expect(missing.body.contains(#""type":"float_parsing","loc":["body","price"]"#))
        await gateway.stop()
    }

    @Test func severalRequestsOnOneKeepAliveConnection() async throws {
        let gateway = try await TestGateway.start()
        let result = try run(
            "/usr/bin/curl",
            ["-sS", "--cacert", gateway.caPath, "-w", "%{num_connects}\n", "-o", "/dev/null",
             gateway.url("/items/1"), "-o", "/dev/null", gateway.url("/items/2"), "-o", "/dev/null", gateway.url("/nope")])
        #expect(result.stdout == "1\n0\n0\n")
        await gateway.stop()
    }

    @Test func notFoundAndMethodNotAllowedAreJSON() async throws {
        let gateway = try await TestGateway.start()
        let notFound = try curl(gateway, "/nothing/here", ["-H", "x-request-id: test-id-1"])
        #expect(notFound.code == 404)
        #expect(
            notFound.body
                == #"{"error":{"status":404,"code":"not_found","message":"No route matches this request.","request_id":"test-id-1"}}"#
        )
        let echoed = try curl(gateway, "/items/1", ["-H", "x-request-id: client-chosen-7", "-i"])
        #expect(echoed.body.lowercased().contains("x-request-id: client-chosen-7"))
        // FastAPI answers 405 for GET /items/ (only POST is routed there); so do we.
        let listing = try curl(gateway, "/items/", ["-i"])
        #expect(listing.code == 405)
        #expect(listing.body.lowercased().contains("allow: post"))
        let wrongMethod = try curl(gateway, "/items/1", ["-X", "DELETE", "-i"])
        #expect(wrongMethod.code == 405)
        #expect(wrongMethod.body.lowercased().contains("allow: get, put"))
        #expect(wrongMethod.body.contains(#""code":"method_not_allowed""#))
        await gateway.stop()
    }

    @Test func bodyOverTheLimitIs413() async throws {
        let gateway = try await TestGateway.start(extra: ["http": ["max_body_bytes": 1024]])
        let big = String(repeating: "x", count: 4096)
        let result = try curl(
            gateway, "/items/", ["-X", "POST", "-H", "content-type: application/json", "--data", #"{"name":"\#(big)"}"#])
        #expect(result.code == 413)
        #expect(result.body.contains(#""code":"payload_too_large""#))
        // Chunked bodies are counted as they arrive.
        let chunked = try curl(
            gateway, "/items/",
            ["-X", "POST", "-H", "content-type: application/json", "-H", "transfer-encoding: chunked", "--data", big])
        #expect(chunked.code == 413)
        await gateway.stop()
    }

    /// A route's own `max_body_bytes` overrides `http.max_body_bytes`, both ways.
    @Test func routeBodyLimitOverridesTheGlobalOne() async throws {
        let routes: [[String: Any]] = [
            ["name": "items", "match": ["path": "/items/{item_id}", "methods": ["GET", "PUT"]], "handler": "items",
             "max_body_bytes": 100],
            ["name": "create_item", "match": ["path": "/items/", "methods": ["POST"]], "handler": "items",
             "max_body_bytes": 8192],
        ]
        let gateway = try await TestGateway.start(routes: routes, extra: ["http": ["max_body_bytes": 1024]])
        let name = String(repeating: "n", count: 4000)
        let created = try curl(
            gateway, "/items/", ["-X", "POST", "-H", "content-type: application/json", "--data", #"{"name":"\#(name)","price":1}"#])
        #expect(created.code == 200, "4 KB under the route's 8 KB limit, over the global 1 KB")
        let updated = try curl(
            gateway, "/items/1", ["-X", "PUT", "-H", "content-type: application/json", "--data", #"{"name":"\#(String(name.prefix(200)))","price":1}"#])
        #expect(updated.code == 413)
        #expect(updated.body.contains("limit of 100 bytes"))
        await gateway.stop()
    }

    @Test func headersOverTheLimitAre431() async throws {
        let gateway = try await TestGateway.start(extra: ["http": ["max_header_bytes": 2048]])
        let result = try curl(gateway, "/items/1", ["-H", "x-big: \(String(repeating: "a", count: 4096))"])
        #expect(result.code == 431)
        #expect(result.body.contains(#""code":"request_header_fields_too_large""#))
        #expect(try curl(gateway, "/items/1").code == 200)
        await gateway.stop()
    }

    @Test func malformedRequestGets400AndTheConnectionCloses() async throws {
        let gateway = try await TestGateway.start(plainListener: true)
        let connection = try RawConnection(port: gateway.httpPort!)
        connection.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\nBROKEN\u{1} nonsense\r\n\r\n")
        let answer = connection.readToEnd()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"))
        #expect(answer.contains("HTTP/1.1 400 Bad Request"))
        #expect(answer.contains(#""code":"bad_request""#))
        // The gateway is still serving.
        #expect(try curl(gateway, "/items/1").code == 200)
        await gateway.stop()
    }

    /// A chunked body with extensions and trailers ends where RFC 9112 says, so the request
    /// pipelined behind it is answered; a request framed two ways is refused (smuggling).
    @Test func chunkedBodiesEndExactlyAndAmbiguousFramingIs400() async throws {
        let gateway = try await TestGateway.start(plainListener: true)
        let connection = try RawConnection(port: gateway.httpPort!)
        connection.send(
            "POST /items/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "1b;ext=1\r\n{\"name\":\"Foo\",\"price\":35.4}\r\n0\r\nX-Trailer: t\r\n\r\n"
                + "GET /items/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let answer = connection.readToEnd()
        let created = try #require(answer.range(of: #"{"name":"Foo","description":null,"price":35.4,"tax":null}"#))
        let second = try #require(answer.range(of: #"{"item_id":2,"q":null}"#))
        #expect(created.lowerBound < second.lowerBound)

        let smuggling = try RawConnection(port: gateway.httpPort!)
        smuggling.send(
            "POST /items/ HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                + "GET /items/3 HTTP/1.1\r\nHost: x\r\n\r\n")
        let refused = smuggling.readToEnd()
        #expect(refused.hasPrefix("HTTP/1.1 400 Bad Request"))
        #expect(!refused.contains("item_id"), "nothing after the refused request is served")
        await gateway.stop()
    }

    @Test func pipelinedRequestsAnsweredInOrder() async throws {
        let gateway = try await TestGateway.start(plainListener: true)
        let connection = try RawConnection(port: gateway.httpPort!)
        connection.send(
            "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /items/2?q=b HTTP/1.1\r\nHost: x\r\n\r\nGET /items/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let answer = connection.readToEnd()
        let one = try #require(answer.range(of: #"{"item_id":1,"q":null}"#))
        let two = try #require(answer.range(of: #"{"item_id":2,"q":"b"}"#))
        let three = try #require(answer.range(of: #"{"item_id":3,"q":null}"#))
        #expect(one.lowerBound < two.lowerBound && two.lowerBound < three.lowerBound)
        await gateway.stop()
    }

    @Test func slowRequestHeadGets408() async throws {
        let gateway = try await TestGateway.start(
            plainListener: true, extra: ["http": ["request_head_timeout": "300ms", "idle_timeout": "5s"]])
        let connection = try RawConnection(port: gateway.httpPort!)
        connection.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n")
        let answer = connection.readToEnd()
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout"))
        #expect(answer.contains(#""code":"request_timeout""#))
        await gateway.stop()
    }

    @Test func stalledBodyGets408() async throws {
        let gateway = try await TestGateway.start(
            plainListener: true, extra: ["http": ["body_timeout": "300ms", "idle_timeout": "5s"]])
        let connection = try RawConnection(port: gateway.httpPort!)
        connection.send("POST /items/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"name\"")
        let start = Date()
        let answer = connection.readToEnd()
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout"))
        #expect(answer.contains("The request body stopped arriving."))
        #expect(Date().timeIntervalSince(start) < 3)
        await gateway.stop()
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        let gateway = try await TestGateway.start(
            plainListener: true, extra: ["http": ["request_head_timeout": "5s", "idle_timeout": "300ms"]])
        let connection = try RawConnection(port: gateway.httpPort!)
        connection.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        let start = Date()
        let answer = connection.readToEnd()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"))
        #expect(Date().timeIntervalSince(start) < 4)
        await gateway.stop()
    }
}
