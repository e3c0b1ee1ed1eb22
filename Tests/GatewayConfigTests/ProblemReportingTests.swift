import GatewayConfig
import Testing

@Suite("Problems are reported with their JSON path")
struct ProblemReportingTests {
    @Test func unknownKeySuggestsTheClosestKnownKey() {
        #expect(
            problems(of: document(routes: #"{"name": "a", "matc": {"path": "/a"}, "handler": "items"}"#)) == [
                #"routes[0].matc: unknown key (did you mean "match"?)"#,
                "routes[0].match: required",
            ]
        )
        #expect(
            problems(
                of:
                    #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "http": {"maxBodyBytes": 1}}"#
            )
                == [#"http.maxBodyBytes: unknown key (did you mean "max_body_bytes"?)"#]
        )
        #expect(
            problems(
                of:
                    #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "access_log": {"zzz": 1}}"#
            )
                == ["access_log.zzz: unknown key (known keys: enabled)"]
        )
    }

    @Test func wrongTypes() {
        #expect(
            problems(of: document(routes: #"{"name": "a", "match": {"path": 5}, "handler": "items"}"#))
                == ["routes[0].match.path: expected a string"]
        )
        #expect(problems(of: #"{"listeners": {}, "routes": []}"#) == ["listeners: expected an array"])
        #expect(problems(of: #"[1, 2]"#) == ["(root): expected an object"])
        #expect(
            problems(
                of:
                    #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "http": {"idle_timeout": 60}}"#
            )
                == [#"http.idle_timeout: expected a duration string such as "10s""#]
        )
        #expect(
            problems(
                of:
                    #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "http": {"max_body_bytes": 1.5}}"#
            )
                == ["http.max_body_bytes: expected an integer"]
        )
    }

    @Test func reloadSectionProblems() {
        let base = #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": []"#
        #expect(
            problems(of: base + #", "reload": {"watch": "yes", "debounce": 5, "wach": true}}"#) == [
                #"reload.wach: unknown key (did you mean "watch"?)"#,
                "reload.watch: expected a boolean (true or false)",
                #"reload.debounce: expected a duration string such as "10s""#,
            ]
        )
        #expect(problems(of: base + #", "reload": true}"#) == ["reload: expected an object"])
    }

    @Test func booleansAndNumbersAreNotInterchangeable() {
        let base = #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": []"#
        #expect(problems(of: base + #", "event_loops": true}"#) == ["event_loops: expected an integer"])
        #expect(problems(of: base + #", "event_loops": false}"#) == ["event_loops: expected an integer"])
        #expect(
            problems(of: base + #", "access_log": {"enabled": 1}}"#) == [
                "access_log.enabled: expected a boolean (true or false)"
            ]
        )
        #expect(
            problems(
                of: document(
                    tls: #"{"certificates": [{"name": "c", "certificate": "c", "key": "k"}], "session_tickets": 1}"#
                )
            )
                == ["listeners[0].tls.session_tickets: expected a boolean (true or false)"]
        )
        #expect(
            problems(
                of: document(
                    tls:
                        #"{"certificates": [{"name": "c", "certificate": "c", "key": "k", "generate_if_missing": "true"}]}"#
                )
            )
                == ["listeners[0].tls.certificates[0].generate_if_missing: expected a boolean (true or false)"]
        )
        #expect((try? load(base + #", "event_loops": 4, "access_log": {"enabled": false}}"#))?.eventLoops == 4)
        #expect((try? load(base + #", "access_log": {"enabled": false}}"#))?.accessLog.enabled == false)
    }

    @Test func integerRanges() {
        let base = #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": []"#
        #expect(problems(of: base + #", "event_loops": -1}"#) == ["event_loops: must not be negative"])
        #expect(
            problems(of: base + #", "http": {"max_header_bytes": 0}}"#) == ["http.max_header_bytes: must be at least 1"]
        )
        #expect(
            problems(of: base + #", "http": {"max_body_bytes": 99999999999999999999}}"#) == [
                "http.max_body_bytes: integer out of range"
            ]
        )
        #expect(
            problems(of: base + #", "http": {"max_header_bytes": 1e3}}"#) == [
                "http.max_header_bytes: expected an integer"
            ]
        )
    }

    @Test func missingFields() {
        #expect(problems(of: "{}") == ["listeners: required", "routes: required"])
        #expect(
            problems(of: #"{"listeners": [{"name": "web"}], "routes": [{"match": {"path": "/"}}]}"#) == [
                "listeners[0].address: required",
                "routes[0].name: required",
                #"routes[0]: one of "handler" or "upstream" is required"#,
            ]
        )
        #expect(problems(of: #"{"listeners": [], "routes": []}"#) == ["listeners: must contain at least one listener"])
    }

    @Test func duplicateRouteName() {
        let routes = #"""
            {"name": "items", "match": {"path": "/a"}, "handler": "items"},
            {"name": "other", "match": {"path": "/b"}, "handler": "items"},
            {"name": "items", "match": {"path": "/c"}, "handler": "items"}
            """#
        #expect(
            problems(of: document(routes: routes)) == [
                #"routes[2].name: duplicate route name "items" (also routes[0])"#
            ]
        )
    }

    @Test func routeNameCharacters() {
        #expect(
            problems(of: document(routes: #"{"name": "get items", "match": {"path": "/a"}, "handler": "items"}"#))
                == [#"routes[0].name: invalid name "get items" (use only letters, digits, "_", "." and "-")"#]
        )
        #expect(
            problems(of: document(routes: #"{"name": "", "match": {"path": "/a"}, "handler": "items"}"#))
                == ["routes[0].name: must not be empty"]
        )
    }

    @Test func unknownHandlerListsTheKnownOnes() {
        #expect(
            problems(of: document(routes: #"{"name": "a", "match": {"path": "/a"}, "handler": "itemz"}"#))
                == [#"routes[0].handler: unknown handler "itemz" (known: items)"#]
        )
    }

    @Test func matchNeedsExactlyOneOfPathAndPrefix() {
        #expect(
            problems(of: document(routes: #"{"name": "a", "match": {}, "handler": "items"}"#))
                == [#"routes[0].match: one of "path" or "prefix" is required"#]
        )
        #expect(
            problems(
                of: document(routes: #"{"name": "a", "match": {"path": "/a", "prefix": "/a"}, "handler": "items"}"#)
            )
                == [#"routes[0].match: "path" and "prefix" are exclusive; use one of them"#]
        )
    }

    @Test func pathAndPrefixRules() {
        func pathProblems(_ match: String) -> [String] {
            problems(of: document(routes: #"{"name": "a", "match": \#(match), "handler": "items"}"#))
        }
        #expect(pathProblems(#"{"path": "items"}"#) == [#"routes[0].match.path: must start with "/", got "items""#])
        #expect(
            pathProblems(#"{"path": "/items/id{x}"}"#)
                == [
                    #"routes[0].match.path: a parameter must be a whole path segment like "/items/{item_id}", got "id{x}""#
                ]
        )
        #expect(
            pathProblems(#"{"path": "/items/{1x}"}"#)
                == [#"routes[0].match.path: invalid parameter name "1x" (must match [A-Za-z_][A-Za-z0-9_]*)"#]
        )
        #expect(pathProblems(#"{"path": "/a/{id}/b/{id}"}"#) == [#"routes[0].match.path: duplicate parameter "id""#])
        #expect(
            pathProblems(#"{"path": "/a//b"}"#) == [
                #"routes[0].match.path: must not contain empty segments ("//"), got "/a//b""#
            ]
        )
        #expect(
            pathProblems(#"{"path": "/a?b=1"}"#)
                == [##"routes[0].match.path: must not contain a query or fragment ("?" or "#"), got "/a?b=1""##]
        )
        #expect(
            pathProblems(#"{"prefix": "/a/{id}"}"#)
                == [#"routes[0].match.prefix: a prefix cannot contain parameters (use "path" for "{name}" segments)"#]
        )
        #expect(
            pathProblems(#"{"prefix": "static"}"#) == [#"routes[0].match.prefix: must start with "/", got "static""#]
        )
    }

    @Test func methodsAndHost() {
        func matchProblems(_ match: String) -> [String] {
            problems(of: document(routes: #"{"name": "a", "match": \#(match), "handler": "items"}"#))
        }
        #expect(
            matchProblems(#"{"path": "/", "methods": []}"#)
                == [#"routes[0].match.methods: must not be empty (leave "methods" out to match every method)"#]
        )
        #expect(
            matchProblems(#"{"path": "/", "methods": ["get"]}"#)
                == [#"routes[0].match.methods[0]: method "get" must be uppercase (did you mean "GET"?)"#]
        )
        #expect(
            matchProblems(#"{"path": "/", "methods": ["GET", "BAD METHOD", 1]}"#) == [
                #"routes[0].match.methods[1]: invalid method "BAD METHOD" (expected an HTTP method token such as "GET")"#,
                "routes[0].match.methods[2]: expected a string",
            ]
        )
        #expect(matchProblems(#"{"path": "/", "methods": ["PURGE"]}"#) == [])
        #expect(
            matchProblems(#"{"path": "/", "host": "api.example.com:8443"}"#)
                == [#"routes[0].match.host: must be a host name without a port, got "api.example.com:8443""#]
        )
        #expect(
            matchProblems(#"{"path": "/", "host": "*"}"#)
                == [#"routes[0].match.host: invalid host "*" (expected a host name, optionally starting with "*.")"#]
        )
    }

    @Test func conflictingRoutes() {
        let routes = #"""
            {"name": "items", "match": {"path": "/items/{item_id}", "methods": ["GET", "PUT"]}, "handler": "items"},
            {"name": "delete_item", "match": {"path": "/items/{id}", "methods": ["DELETE"]}, "handler": "items"},
            {"name": "get_item", "match": {"path": "/items/{id}", "methods": ["HEAD", "GET"]}, "handler": "items"},
            {"name": "any_item", "match": {"path": "/items/{x}"}, "handler": "items"},
            {"name": "other_host", "match": {"path": "/items/{x}", "host": "a.example"}, "handler": "items"},
            {"name": "static", "match": {"prefix": "/items/{x}"}, "handler": "items"}
            """#
        #expect(
            problems(of: document(routes: routes)) == [
                #"routes[2].match: conflicts with routes[0] ("items"): both match GET on path "/items/{id}""#,
                #"routes[3].match: conflicts with routes[0] ("items"): both match GET, PUT on path "/items/{x}""#,
                #"routes[5].match.prefix: a prefix cannot contain parameters (use "path" for "{name}" segments)"#,
            ]
        )
        let prefixes = #"""
            {"name": "a", "match": {"prefix": "/static/", "host": "A.example"}, "handler": "items"},
            {"name": "b", "match": {"prefix": "/static/", "host": "a.example"}, "handler": "items"}
            """#
        #expect(
            problems(of: document(routes: prefixes)) == [
                #"routes[1].match: conflicts with routes[0] ("a"): both match every method on prefix "/static/" for host "a.example""#
            ]
        )
    }

    @Test func listenerUniqueness() {
        let json = #"""
            {"listeners": [
              {"name": "a", "address": "127.0.0.1:8080"},
              {"name": "a", "address": "127.0.0.1:8080"},
              {"name": "b", "address": "127.0.0.1:0"},
              {"name": "c", "address": "127.0.0.1:0"}
            ], "routes": [], "admin": {"address": "127.0.0.1:8080"}}
            """#
        #expect(
            problems(of: json) == [
                #"listeners[1].name: duplicate listener name "a" (also listeners[0])"#,
                #"listeners[1].address: duplicate listener address "127.0.0.1:8080" (also listeners[0])"#,
                #"admin.address: "127.0.0.1:8080" is also the address of listeners[0]"#,
            ]
        )
    }

    @Test func tlsProblems() {
        #expect(
            problems(of: document(tls: #"{"certificates": []}"#))
                == ["listeners[0].tls.certificates: must contain at least one certificate"]
        )
        #expect(problems(of: document(tls: "{}")) == ["listeners[0].tls.certificates: required"])
        let tls = #"""
            {"certificates": [
               {"name": "a", "certificate": "a.pem", "key": "", "server_names": ["a.example"]},
               {"name": "a", "certificate": "b.pem", "key": "b.pem", "server_names": ["A.example", "bad name"]}
             ],
             "min_version": "TLSv1.1", "ciphers": "", "handshake_timeout": "0s"}
            """#
        #expect(
            problems(of: document(tls: tls)) == [
                "listeners[0].tls.certificates[0].key: must not be empty",
                #"listeners[0].tls.certificates[1].name: duplicate certificate name "a" (also listeners[0].tls.certificates[0])"#,
                #"listeners[0].tls.certificates[1].server_names[0]: server name "a.example" is also served by certificate "a" (listeners[0].tls.certificates[0])"#,
                #"listeners[0].tls.certificates[1].server_names[1]: invalid server name "bad name" (expected a host name, optionally starting with "*.")"#,
                #"listeners[0].tls.min_version: unknown TLS version "TLSv1.1" (expected "TLSv1.2" or "TLSv1.3")"#,
                "listeners[0].tls.ciphers: must not be empty",
                #"listeners[0].tls.handshake_timeout: duration must be greater than 0, got "0s""#,
            ]
        )
        let sharedName = #"""
            {"certificates": [
               {"name": "a", "certificate": "a.pem", "key": "a.pem", "server_names": ["a.example"]},
               {"name": "a", "certificate": "b.pem", "key": "b.pem", "server_names": ["A.example"]}
             ]}
            """#
        #expect(
            problems(of: document(tls: sharedName)) == [
                #"listeners[0].tls.certificates[1].name: duplicate certificate name "a" (also listeners[0].tls.certificates[0])"#,
                #"listeners[0].tls.certificates[1].server_names[0]: server name "a.example" is also served by certificate "a" (listeners[0].tls.certificates[0])"#,
            ]
        )
        let sharedServerName = #"""
            {"certificates": [
               {"name": "a", "certificate": "a.pem", "key": "a.pem", "server_names": ["a.example"]},
               {"name": "b", "certificate": "b.pem", "key": "b.pem", "server_names": ["A.example"]}
             ], "min_version": "TLSv1.3"}
            """#
        #expect(
            problems(of: document(tls: sharedServerName)) == [
                #"listeners[0].tls.certificates[1].server_names[0]: server name "a.example" is also served by certificate "a" (listeners[0].tls.certificates[0])"#
            ]
        )
    }

    @Test func duplicateKeysInOneObject() {
        #expect(
            problems(of: #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "routes": []}"#)
                == ["routes: duplicate key"]
        )
    }

    @Test func oddKeysAreBracketedInPaths() {
        #expect(
            problems(of: #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "a.b": 1}"#).first?
                .hasPrefix(#"["a.b"]: unknown key"#) == true
        )
    }

    @Test func manyProblemsAreReportedTogether() {
        let json = #"""
            {
              "listeners": [
                {"name": "https", "address": "*:8443"},
                {"name": "plain"}
              ],
              "http": {"idle_timeout": "soon"},
              "event_loops": true,
              "routes": [
                {"name": "items", "match": {"path": "/items/{item_id}"}, "handler": "itemz"},
                {"name": "items", "matc": {"path": "/items/"}, "handler": "items"}
              ]
            }
            """#
        let error = #expect(throws: ConfigurationError.self) { try load(json) }
        #expect(error?.file == nil)
        #expect(
            error?.problems.map(\.description) == [
                #"listeners[0].address: expected host:port (e.g. "0.0.0.0:8443" or "[::1]:8443"), got "*:8443" (use "0.0.0.0" or "[::]" for all interfaces)"#,
                "listeners[1].address: required",
                #"http.idle_timeout: invalid duration "soon" (expected a number and a unit ms, s, m or h, e.g. "250ms", "1.5s", "2m")"#,
                "event_loops: expected an integer",
                #"routes[0].handler: unknown handler "itemz" (known: items)"#,
                #"routes[1].matc: unknown key (did you mean "match"?)"#,
                #"routes[1].name: duplicate route name "items" (also routes[0])"#,
                "routes[1].match: required",
            ]
        )
        // The description is one `path: message` line per problem.
        #expect(error?.description.split(separator: "\n").count == 8)
        #expect(error?.description.hasPrefix("listeners[0].address: expected host:port") == true)
    }

    @Test func sixDifferentProblemsMakeSixProblems() {
        let json = #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:99999", "tls": {"certificates": [{"name": "c", "certificate": 1, "key": "k"}]}}],
             "shutdown": {"drain_timeout": "-1s"},
             "access_log": {"enabled": "yes"},
             "routes": [{"name": "a", "match": {"path": "/a", "methods": ["get"]}, "handler": "items", "extra": true}]}
            """#
        #expect(
            problems(of: json) == [
                #"listeners[0].address: invalid port "99999" in "127.0.0.1:99999" (expected 0-65535)"#,
                "listeners[0].tls.certificates[0].certificate: expected a string",
                "access_log.enabled: expected a boolean (true or false)",
                #"shutdown.drain_timeout: invalid duration "-1s" (expected a number and a unit ms, s, m or h, e.g. "250ms", "1.5s", "2m")"#,
                "routes[0].extra: unknown key (known keys: name, match, handler, upstream, strip_prefix, rewrite, request_timeout, headers, rate_limits, rate_limit_headers, compression, max_body_bytes, request_decompression, validation, auth, cors)",
                #"routes[0].match.methods[0]: method "get" must be uppercase (did you mean "GET"?)"#,
            ]
        )
    }
}
