import Foundation
import Testing

/// One answer with every value of each header field (names lowercased).
struct FieldsAnswer: Sendable {
    var code: Int
    var headers: [String: [String]]
    var body: String

    func header(_ name: String) -> String? { self.headers[name]?.joined(separator: ", ") }
    /// Access-Control-* fields only.
    var corsFields: [String: String] {
        var fields: [String: String] = [:]
        for (name, values) in self.headers where name.hasPrefix("access-control-") {
            fields[name] = values.joined(separator: ", ")
        }
        return fields
    }
}

/// `curl -i` against the gateway, waited for off Swift concurrency's threads.
func exchange(_ gateway: TestGateway, _ path: String, _ extra: [String] = []) async throws -> FieldsAnswer {
    let arguments = ["-sS", "-i", "--cacert", gateway.caPath, "--max-time", "10"] + extra + [gateway.url(path)]
    let result = try await offThePool { try run("/usr/bin/curl", arguments) }
    guard let split = result.stdout.range(of: "\r\n\r\n") else {
        return FieldsAnswer(code: 0, headers: [:], body: result.stderr)
    }
    let lines = result.stdout[..<split.lowerBound].components(separatedBy: "\r\n")
    let code = lines.first.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
    var headers: [String: [String]] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased(), default: []].append(
            line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
    return FieldsAnswer(code: code, headers: headers, body: String(result.stdout[split.upperBound...]))
}

/// A preflight's request fields.
private func preflight(origin: String, method: String, headers: String? = nil) -> [String] {
    var arguments = ["-X", "OPTIONS", "-H", "Origin: \(origin)", "-H", "Access-Control-Request-Method: \(method)"]
    if let headers { arguments += ["-H", "Access-Control-Request-Headers: \(headers)"] }
    return arguments
}

private let app = "https://app.example.com"
private let preflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

@Suite("CORS end to end", .serialized)
struct CORSEndToEndTests {
    /// The items routes (GET, PUT and POST only: no OPTIONS), with `cors` on both.
    static func itemRoutes(_ cors: [String: Any], rateLimits: [String]? = nil) -> [[String: Any]] {
        var routes = TestGateway.itemRoutes
        for index in routes.indices { routes[index]["cors"] = cors }
        if let rateLimits { routes[0]["rate_limits"] = rateLimits }
        return routes
    }

    static var appCORS: [String: Any] { [
        "allow_origins": [app, "http://localhost:3000"], "allow_headers": ["Authorization"],
        "expose_headers": ["X-Request-Id", "RateLimit"], "max_age": "1h",
    ] }

    @Test func preflightsAreAnsweredByTheGatewayAllowedOrNot() async throws {
        let gateway = try await TestGateway.start(routes: Self.itemRoutes(Self.appCORS))
        // The route serves GET and PUT only, yet its preflight is answered, not refused with 405.
        let allowed = try await exchange(
            gateway, "/items/1", preflight(origin: app, method: "PUT", headers: "content-type, authorization"))
        #expect(allowed.code == 204)
        #expect(
            allowed.corsFields == [
                "access-control-allow-origin": app,
                "access-control-allow-methods": "GET, PUT",
                "access-control-allow-headers": "Authorization, Accept, Accept-Language, Content-Language, Content-Type",
                "access-control-max-age": "3600",
            ])
        #expect(allowed.header("vary") == preflightVary)
        #expect(allowed.header("content-length") == nil && allowed.header("content-type") == nil)
        #expect(allowed.body.isEmpty)
        // POST /items/ is the other route: its own methods.
        let create = try await exchange(gateway, "/items/", preflight(origin: app, method: "POST"))
        #expect(create.code == 204)
        #expect(create.header("access-control-allow-methods") == "POST")

        // Refused: another origin, a header not allowed, a method no route there serves. No allow fields, still 204.
        for arguments in [
            preflight(origin: "https://evil.example", method: "PUT"),
            preflight(origin: app, method: "PUT", headers: "x-secret"),
            preflight(origin: app, method: "DELETE"),
            preflight(origin: "null", method: "GET"),
        ] {
            let refused = try await exchange(gateway, "/items/1", arguments)
            #expect(refused.code == 204, "\(arguments)")
            #expect(refused.corsFields == [:], "\(arguments)")
            #expect(refused.header("vary") == preflightVary)
        }
        // Not a preflight (no Access-Control-Request-Method): routed as any OPTIONS, so 405.
        let options = try await exchange(gateway, "/items/1", ["-X", "OPTIONS", "-H", "Origin: \(app)"])
        #expect(options.code == 405)
        #expect(options.header("allow") == "GET, PUT")
        // Several preflights on one keep-alive connection, then the actual request.
        let sequence = try await offThePool {
            try run(
                "/usr/bin/curl",
                ["-sS", "--cacert", gateway.caPath, "-o", "/dev/null", "-w", "%{http_code}\n"]
                    + preflight(origin: app, method: "PUT") + [gateway.url("/items/1")]
                    + ["--next", "-sS", "--cacert", gateway.caPath, "-o", "/dev/null", "-w", "%{http_code}\n"]
                    + preflight(origin: app, method: "GET") + [gateway.url("/items/2")]
                    + ["--next", "-sS", "--cacert", gateway.caPath, "-o", "/dev/null", "-w", "%{http_code}\n",
                       "-H", "Origin: \(app)", gateway.url("/items/3")])
        }
        #expect(sequence.stdout == "204\n204\n200\n")
        let metrics = try await offThePool { try gateway.scrape() }
        #expect(metricValue(metrics, "gateway_http_requests_total", ["route": "items", "method": "OPTIONS", "code": "204"]) == 7)
        await gateway.stop()
    }

    @Test func actualRequestsGetTheAllowFieldsOnlyForAllowedOrigins() async throws {
        let gateway = try await TestGateway.start(routes: Self.itemRoutes(Self.appCORS))
        let allowed = try await exchange(gateway, "/items/7?q=x", ["-H", "Origin: http://localhost:3000"])
        #expect(allowed.code == 200)
        #expect(allowed.body == #"{"item_id":7,"q":"x"}"#)
        #expect(
            allowed.corsFields == [
                "access-control-allow-origin": "http://localhost:3000",
                "access-control-expose-headers": "X-Request-Id, RateLimit",
            ])
        #expect(allowed.header("vary") == "Origin")
        // A validation error (422) is readable by the page too.
        let invalid = try await exchange(
            gateway, "/items/",
            ["-H", "Origin: \(app)", "-H", "content-type: application/json", "--data", #"{"price":"x"}"#])
        #expect(invalid.code == 422)
        #expect(invalid.header("access-control-allow-origin") == app)
        // Another origin, or none: the answer, without allow fields, varying on Origin.
        for extra in [["-H", "Origin: https://evil.example"], []] {
            let other = try await exchange(gateway, "/items/7", extra)
            #expect(other.code == 200)
            #expect(other.corsFields == [:])
            #expect(other.header("vary") == "Origin")
        }
        // Routing errors have no route, and so no CORS fields.
        let missing = try await exchange(gateway, "/nothing", ["-H", "Origin: \(app)"])
        #expect(missing.code == 404 && missing.corsFields == [:])
        await gateway.stop()
    }

    @Test func credentialsEchoTheOriginAndAnyOriginIsAStar() async throws {
        let credentialed: [String: Any] = [
            "allow_origins": ["https://*.example.com"], "allow_methods": ["*"], "allow_headers": ["*"],
            "allow_credentials": true,
        ]
        let gateway = try await TestGateway.start(
            routes: Self.itemRoutes(credentialed) + [
                [
                    "name": "open", "match": ["path": "/open/{item_id}", "methods": ["GET"]], "handler": "items",
                    "cors": ["allow_origins": ["*"]],
                ]
            ])
        let origin = "https://shop.eu.example.com"
        let answer = try await exchange(
            gateway, "/items/1", preflight(origin: origin, method: "PUT", headers: "X-Custom, Authorization"))
        #expect(answer.code == 204)
        #expect(
            answer.corsFields == [
                "access-control-allow-origin": origin, "access-control-allow-credentials": "true",
                "access-control-allow-methods": "PUT", "access-control-allow-headers": "X-Custom, Authorization",
                "access-control-max-age": "600",
            ])
        let actual = try await exchange(gateway, "/items/1", ["-H", "Origin: \(origin)", "-H", "Cookie: session=1"])
        #expect(actual.code == 200)
        #expect(
            actual.corsFields == [
                "access-control-allow-origin": origin, "access-control-allow-credentials": "true",
            ])
        let apex = try await exchange(gateway, "/items/1", ["-H", "Origin: https://example.com"])
        #expect(apex.corsFields == [:])

        let open = try await exchange(gateway, "/open/1", ["-H", "Origin: https://anyone.test"])
        #expect(open.code == 200)
        #expect(open.corsFields == ["access-control-allow-origin": "*"])
        await gateway.stop()
    }

    @Test func proxiedResponsesCarryTheGatewaysFieldsInsteadOfTheUpstreams() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await TestGateway.start(
            routes: [
                [
                    "name": "api", "match": ["prefix": "/"], "upstream": "backend",
                    "cors": ["allow_origins": [app], "expose_headers": ["X-Upstream"]],
                ]
            ],
            extra: ["upstreams": ["backend": ["targets": [["address": upstream.address]]]]])
        let allowed = try await exchange(gateway, "/cors", ["-H", "Origin: \(app)"])
        #expect(allowed.code == 200)
        #expect(allowed.body == "ok")
        #expect(
            allowed.corsFields == [
                "access-control-allow-origin": app, "access-control-expose-headers": "X-Upstream",
            ])
        #expect(allowed.headers["vary"] == ["Accept-Language", "Origin"])
        #expect(allowed.header("x-upstream") == "a")
        // For another origin the upstream's fields are dropped too: the gateway's policy is the only one.
        let refused = try await exchange(gateway, "/cors", ["-H", "Origin: https://upstream.example"])
        #expect(refused.code == 200)
        #expect(refused.corsFields == [:])
        // The request reaches the upstream with its Origin, as sent.
        let echo = try await exchange(gateway, "/echo", ["-H", "Origin: \(app)"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(echo.body.utf8)) as? [String: Any])
        #expect((object["headers"] as? [String: [String]])?["origin"] == [app])
        #expect(echo.header("access-control-allow-origin") == app)
        // The upstream never sees a preflight the gateway answered.
        let before = upstream.requests
        let answered = try await exchange(gateway, "/cors", preflight(origin: app, method: "GET"))
        #expect(answered.code == 204)
        #expect(answered.header("access-control-allow-origin") == app)
        #expect(upstream.requests == before)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func authenticationAndValidationRefusalsAreReadable() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await TestGateway.start(
            routes: [
                [
                    "name": "orders", "match": ["path": "/orders/", "methods": ["POST"]], "upstream": "backend",
                    "auth": ["api_key": ["header": "X-API-Key"]],
                    "validation": [
                        "body": ["type": "object", "properties": ["sku": ["type": "string"]], "required": ["sku"]]
                    ],
                    "cors": ["allow_origins": [app], "allow_headers": ["X-API-Key"]],
                ]
            ],
            extra: [
                "upstreams": ["backend": ["targets": [["address": upstream.address]]]],
                "api_keys": ["web": "0123456789abcdef-web"],
            ])
        // The preflight needs no key: it is answered before authentication.
        let answered = try await exchange(
            gateway, "/orders/", preflight(origin: app, method: "POST", headers: "x-api-key, content-type"))
        #expect(answered.code == 204)
        #expect(answered.header("access-control-allow-headers") == "X-API-Key, Accept, Accept-Language, Content-Language, Content-Type")
        let json = ["-H", "Origin: \(app)", "-H", "content-type: application/json"]
        let unauthenticated = try await exchange(gateway, "/orders/", json + ["--data", #"{"sku":"a"}"#])
        #expect(unauthenticated.code == 401)
        #expect(unauthenticated.header("access-control-allow-origin") == app)
        let key = ["-H", "X-API-Key: 0123456789abcdef-web"]
        let invalid = try await exchange(gateway, "/orders/", json + key + ["--data", #"{"qty":1}"#])
        #expect(invalid.code == 422)
        #expect(invalid.header("access-control-allow-origin") == app)
        #expect(invalid.body.hasPrefix(#"{"detail":["#))
        let accepted = try await exchange(gateway, "/orders/", json + key + ["--data", #"{"sku":"a"}"#])
        #expect(accepted.code == 200)
        #expect(accepted.header("access-control-allow-origin") == app)
        #expect(upstream.requests == 1)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func rateLimitRefusalsAreReadableAndPreflightsAreNotCounted() async throws {
        let gateway = try await TestGateway.start(
            routes: Self.itemRoutes(Self.appCORS, rateLimits: ["one"]),
            extra: ["rate_limits": ["one": ["limit": "1/min", "burst": 1]]])
        for _ in 0..<3 {
            #expect(try await exchange(gateway, "/items/1", preflight(origin: app, method: "GET")).code == 204)
        }
        let first = try await exchange(gateway, "/items/1", ["-H", "Origin: \(app)"])
        #expect(first.code == 200)
        let refused = try await exchange(gateway, "/items/1", ["-H", "Origin: \(app)"])
        #expect(refused.code == 429)
        #expect(refused.header("access-control-allow-origin") == app)
        // The page can read the limit fields it was told about.
        #expect(refused.header("access-control-expose-headers") == "X-Request-Id, RateLimit")
        #expect(refused.header("ratelimit") != nil)
        #expect(refused.header("vary") == "Origin")
        #expect(refused.body.contains(#""code":"rate_limited""#))
        await gateway.stop()
    }

    @Test func routesWithoutCORSAreUntouched() async throws {
        let gateway = try await TestGateway.start()  // the items routes, no cors anywhere
        let options = try await exchange(gateway, "/items/1", preflight(origin: app, method: "GET"))
        #expect(options.code == 405)
        let get = try await exchange(gateway, "/items/1", ["-H", "Origin: \(app)"])
        #expect(get.code == 200)
        #expect(get.corsFields == [:] && get.header("vary") == nil)
        await gateway.stop()
    }
}
