import GatewayConfig
import Testing

@Suite("Route CORS")
struct CORSConfigurationTests {
    private func route(_ cors: String, methods: String = #"["GET", "PUT"]"#) -> String {
        document(
            routes: #"{"name": "a", "match": {"path": "/a", "methods": \#(methods)}, "handler": "items", "cors": \#(cors)}"#
        )
    }

    @Test func defaults() throws {
        let plain = try load(document(routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "items"}"#))
        #expect(plain.routes[0].cors == nil)
        let configuration = try load(route(#"{"allow_origins": ["https://App.Example.com"]}"#))
        let cors = try #require(configuration.routes[0].cors)
        #expect(cors.allowOrigins == [.exact("https://app.example.com")])
        #expect(cors.allowMethods == nil)  // the route's methods
        #expect(cors.allowHeaders == [])
        #expect(cors.exposeHeaders == [])
        #expect(cors.allowCredentials == false)
        #expect(cors.maxAge == .seconds(600))
        #expect(configuration.fingerprint != plain.fingerprint)
        // Spelling out the defaults is the same configuration.
        let spelled = try load(
            route(
                #"{"allow_origins": ["https://app.example.com"], "allow_headers": [], "expose_headers": [], "allow_credentials": false, "max_age": "10m"}"#
            ))
        #expect(spelled.fingerprint == configuration.fingerprint)
    }

    @Test func everyKeyDecodesAndLoadsBack() throws {
        let configuration = try load(
            route(
                #"""
                {"allow_origins": ["https://app.example.com", "http://localhost:3000", "https://*.example.org",
                                   "https://*.example.net:8443", "http://[::1]:8080", "https://app.example.com"],
                 "allow_methods": ["GET", "PUT", "M-SEARCH"], "allow_headers": ["Authorization", "X-Trace", "x-trace"],
                 "expose_headers": ["X-Request-Id"], "allow_credentials": true, "max_age": "1h"}
                """#))
        let cors = try #require(configuration.routes[0].cors)
        #expect(
            cors
                == CORSConfiguration(
                    allowOrigins: [
                        .exact("https://app.example.com"), .exact("http://localhost:3000"),
                        .subdomains(scheme: "https", suffix: ".example.org"),
                        .subdomains(scheme: "https", suffix: ".example.net:8443"), .exact("http://[::1]:8080"),
                    ],
                    allowMethods: ["GET", "PUT", "M-SEARCH"], allowHeaders: ["Authorization", "X-Trace"],
                    exposeHeaders: ["X-Request-Id"], allowCredentials: true, maxAge: .seconds(3600)))
        let canonical = try load(configuration.canonicalJSON)
        #expect(canonical.routes[0].cors == cors)
        #expect(canonical.fingerprint == configuration.fingerprint)
        let wildcard = try load(route(#"{"allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"], "expose_headers": ["*"]}"#))
        #expect(wildcard.routes[0].cors?.allowOrigins == [.any])
        #expect(try load(wildcard.canonicalJSON).routes[0].cors == wildcard.routes[0].cors)
    }

    @Test func problemsHaveTheirPaths() {
        #expect(problems(of: route("true")) == ["routes[0].cors: expected an object"])
        #expect(problems(of: route("{}")) == ["routes[0].cors.allow_origins: required"])
        #expect(
            problems(
                of: route(
                    #"""
                    {"allow_origins": ["https://app.example.com/", "app.example.com", "https://a.com:443", "https://*", 3,
                                       "https://a.com:0", "null"],
                     "allow_methods": ["get", "GET POST"], "allow_headers": ["X Y"], "allow_credentials": "yes",
                     "max_age": "500ms", "allow_origin": []}
                    """#)) == [
                        #"routes[0].cors.allow_origin: unknown key (did you mean "allow_origins"?)"#,
                        #"routes[0].cors.allow_origins[0]: an origin has no path: use "https://app.example.com" (got "https://app.example.com/")"#,
                        #"routes[0].cors.allow_origins[1]: expected an origin such as "https://app.example.com", "https://*.example.com" or "*", got "app.example.com""#,
                        #"routes[0].cors.allow_origins[2]: browsers leave the default port out of an origin: use "https://a.com" (got "https://a.com:443")"#,
                        #"routes[0].cors.allow_origins[3]: expected an origin such as "https://app.example.com", "https://*.example.com" or "*", got "https://*""#,
                        "routes[0].cors.allow_origins[4]: expected a string",
                        #"routes[0].cors.allow_origins[5]: invalid port in origin "https://a.com:0""#,
                        #"routes[0].cors.allow_origins[6]: expected an origin such as "https://app.example.com", "https://*.example.com" or "*", got "null""#,
                        #"routes[0].cors.allow_methods[0]: method "get" must be uppercase (did you mean "GET"?)"#,
                        #"routes[0].cors.allow_methods[1]: invalid method "GET POST" (expected a token such as "PUT" or "*")"#,
                        #"routes[0].cors.allow_headers[0]: invalid header "X Y" (expected a token such as "X-Request-Id" or "*")"#,
                        "routes[0].cors.allow_credentials: expected a boolean (true or false)",
                        "routes[0].cors.max_age: must be at least 1s (browsers count it in whole seconds)",
                    ])
    }

    @Test func wildcardsThatBrowsersWouldRefuseAreRefused() {
        #expect(
            problems(of: route(#"{"allow_origins": ["*"], "allow_credentials": true}"#)) == [
                #"routes[0].cors.allow_credentials: cannot be true with "allow_origins": ["*"] (browsers refuse credentials with a wildcard origin); list the origins"#
            ])
        #expect(
            problems(
                of: route(#"{"allow_origins": ["https://a.com"], "expose_headers": ["*"], "allow_credentials": true}"#))
                == [
                    #"routes[0].cors.expose_headers: "*" exposes nothing to credentialed requests (browsers read it as a header named "*"); list the headers"#
                ])
        #expect(
            problems(of: route(#"{"allow_origins": ["*", "https://a.com"], "allow_methods": ["*", "GET"]}"#)) == [
                #"routes[0].cors.allow_origins: "*" already allows every origin; use it alone"#,
                #"routes[0].cors.allow_methods: "*" already allows every method; use it alone"#,
            ])
        #expect(
            problems(of: route(#"{"allow_origins": [], "allow_methods": []}"#)) == [
                #"routes[0].cors.allow_origins: must contain at least one origin (or "*")"#,
                #"routes[0].cors.allow_methods: must not be empty (leave "allow_methods" out for the route's methods)"#,
            ])
        // "*" with credentials is fine for methods and headers: the gateway echoes what was asked.
        #expect(
            problems(
                of: route(
                    #"{"allow_origins": ["https://a.com"], "allow_methods": ["*"], "allow_headers": ["*"], "allow_credentials": true}"#
                )) == [])
    }
}
