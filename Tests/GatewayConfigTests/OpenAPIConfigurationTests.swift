import GatewayConfig
import Testing

@Suite("The openapi section")
struct OpenAPIConfigurationTests {
    private func document(_ openAPI: String, routes: String = "") -> String {
        #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "openapi": \#(openAPI), "routes": [\#(routes)]}"#
    }

    @Test func offUnlessPresentAndDefaults() throws {
        let absent = try load(minimalDocument)
        #expect(absent.openAPI == nil)
        #expect(try load(document(#"{"enabled": false, "title": "x"}"#)).openAPI == nil)
        #expect(try load(document(#"{"enabled": false}"#)).fingerprint == absent.fingerprint)
        let defaults = try load(document("{}"))
        #expect(
            defaults.openAPI
                == OpenAPIConfiguration(
                    path: "/openapi.json", docsPath: "/docs", title: "swift-api-gateway", version: "0.1.0",
                    description: nil))
        #expect(defaults.fingerprint != absent.fingerprint)
        let spelled = try load(
            document(#"{"enabled": true, "path": "/openapi.json", "docs_path": "/docs", "title": "swift-api-gateway", "version": "0.1.0"}"#))
        #expect(spelled.fingerprint == defaults.fingerprint)
    }

    @Test func everyKeyDecodesAndLoadsBack() throws {
        let configuration = try load(
            document(#"{"path": "/api/openapi.json", "docs_path": null, "title": "Shop", "version": "2.1", "description": "The shop's API."}"#))
        let openAPI = try #require(configuration.openAPI)
        #expect(
            openAPI
                == OpenAPIConfiguration(
                    path: "/api/openapi.json", docsPath: nil, title: "Shop", version: "2.1", description: "The shop's API."))
        let canonical = try load(configuration.canonicalJSON)
        #expect(canonical.openAPI == openAPI)
        #expect(canonical.fingerprint == configuration.fingerprint)
    }

    @Test func problemsHaveTheirPaths() {
        #expect(
            problems(
                of: document(#"{"enabled": 1, "path": "openapi.json", "docs_path": "/d'x", "title": "", "version": 2, "swagger": true}"#))
                == [
                    #"openapi.swagger: unknown key (known keys: enabled, path, docs_path, title, version, description)"#,
                    "openapi.enabled: expected a boolean (true or false)",
                    #"openapi.path: must start with "/", got "openapi.json""#,
                    #"openapi.docs_path: must be a plain path without parameters, quotes, "<", ">", "\" or "%""#,
                    "openapi.title: must not be empty",
                    "openapi.version: expected a string",
                ])
        #expect(problems(of: document(#"{"path": "/docs"}"#)) == [#"openapi.path: must differ from "docs_path" (/docs)"#])
        #expect(
            problems(of: document(#"{"path": "/x", "docs_path": "/x"}"#)) == [#"openapi.docs_path: must differ from "path" (/x)"#])
        #expect(problems(of: document(#"{"path": "/items/{id}"}"#)).count == 1)
    }

    @Test func aRouteOnTheSamePathConflicts() {
        let items = #"{"name": "spec", "match": {"path": "/openapi.json"}, "handler": "items"}"#
        #expect(
            problems(of: document("{}", routes: items)) == [
                #"openapi.path: conflicts with routes[0] ("spec"): both match GET, HEAD on path "/openapi.json"; move the page or the route (or give the route a "host")"#
            ])
        let post = #"{"name": "docs", "match": {"path": "/docs", "methods": ["POST", "GET"]}, "handler": "items"}"#
        #expect(
            problems(of: document("{}", routes: post)) == [
                #"openapi.docs_path: conflicts with routes[0] ("docs"): both match GET on path "/docs"; move the page or the route (or give the route a "host")"#
            ])
        // Other methods, another host, a prefix (which the page's exact path beats), or no docs page: no conflict.
        let fine = [
            #"{"name": "a", "match": {"path": "/docs", "methods": ["POST"]}, "handler": "items"}"#,
            #"{"name": "b", "match": {"path": "/openapi.json", "host": "api.example.com"}, "handler": "items"}"#,
            #"{"name": "c", "match": {"prefix": "/"}, "handler": "items"}"#,
        ].joined(separator: ", ")
        #expect(problems(of: document("{}", routes: fine)) == [])
        #expect(problems(of: document(#"{"docs_path": null}"#, routes: post)) == [])
    }
}
