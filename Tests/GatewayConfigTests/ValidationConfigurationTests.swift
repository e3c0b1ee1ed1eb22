import Foundation
import GatewayConfig
import GatewayValidation
import Testing

@Suite("Route validation")
struct ValidationConfigurationTests {
    private func route(_ validation: String, path: String = "/orders/{order_id}") -> String {
        document(
            routes: #"{"name": "a", "match": {"path": "\#(path)"}, "handler": "items", "validation": \#(validation)}"#)
    }

    @Test func everyPartDecodes() throws {
        let configuration = try load(
            route(
                #"""
                {"path": {"order_id": {"type": "integer", "minimum": 1}},
                 "query": {"limit": {"type": "integer", "maximum": 100}, "q": {"type": "string"},
                           "tag": {"type": "array", "items": {"type": "string"}}},
                 "headers": {"X-Tenant": {"type": "string", "minLength": 1}, "X-Trace": {"type": "string"}},
                 "required": {"query": ["q"], "headers": ["x-tenant"]},
                 "body": {"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]}}
                """#))
        let validation = try #require(configuration.routes[0].validation)
        #expect(validation.path.map(\.name) == ["order_id"])
        #expect(validation.path.allSatisfy { $0.required })
        #expect(validation.query.map { "\($0.name):\($0.required)" } == ["limit:false", "q:true", "tag:false"])
        // Header names keep their spelling; `required` matches them without case.
        #expect(validation.headers.map { "\($0.name):\($0.required)" } == ["X-Tenant:true", "X-Trace:false"])
        let body = try #require(validation.body)
        #expect(body.file == nil)
        #expect(validation.query[2].schema.compiled.isArray)

        // The canonical rendering loads back to the same route, and a changed schema changes it.
        let canonical = try load(configuration.canonicalJSON)
        #expect(canonical.routes[0].validation == validation)
        #expect(canonical.fingerprint == configuration.fingerprint)
        let changed = try load(configuration.canonicalJSON.replacingOccurrences(of: #""maximum":100"#, with: #""maximum":99"#))
        #expect(changed.routes[0].validation != validation)
        #expect(changed.fingerprint != configuration.fingerprint)
    }

    @Test func bodySchemaFileIsRelativeToTheConfiguration() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("validation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("schemas"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let schemaPath = directory.appendingPathComponent("schemas/order.json").path
        try Data(#"{"type": "object", "properties": {"qty": {"type": "integer", "minimum": 1}}}"#.utf8)
            .write(to: URL(fileURLWithPath: schemaPath))
        let text = route(#"{"body": {"file": "schemas/order.json"}}"#)
        let configuration = try load(text, baseDirectory: directory.path)
        let body = try #require(configuration.routes[0].validation?.body)
        #expect(body.file == schemaPath)
        #expect(try load(configuration.canonicalJSON, baseDirectory: "/elsewhere").routes[0].validation == configuration.routes[0].validation)

        // The file's content is part of the route: a reload after editing it sees a change.
        try Data(#"{"type": "object", "properties": {"qty": {"type": "integer", "minimum": 2}}}"#.utf8)
            .write(to: URL(fileURLWithPath: schemaPath))
        let edited = try load(text, baseDirectory: directory.path)
        #expect(edited.routes != configuration.routes)

        // Problems inside the file are reported at `file`, with where in the file they are.
        try Data(#"{"type": "object", "properties": {"qty": {"type": "integer", "minimum": "one"}}}"#.utf8)
            .write(to: URL(fileURLWithPath: schemaPath))
        #expect(
            problems(of: text, baseDirectory: directory.path) == [
                #"routes[0].validation.body.file: schema file "schemas/order.json" at properties.qty.minimum: must be a number, got "one""#
            ])
        try Data(#"{"type": "object",}"#.utf8).write(to: URL(fileURLWithPath: schemaPath))
        let syntax = problems(of: text, baseDirectory: directory.path)
        #expect(syntax.count == 1)
        #expect(syntax.first?.hasPrefix(#"routes[0].validation.body.file: schema file "schemas/order.json": "#) == true)
        try FileManager.default.removeItem(atPath: schemaPath)
        #expect(
            problems(of: text, baseDirectory: directory.path) == [
                #"routes[0].validation.body.file: cannot read schema file "\#(schemaPath)""#
            ])
    }

    @Test func problemsHaveTheirPaths() {
        #expect(
            problems(of: route(#"{"path": {"id": {"type": "integer"}}}"#)) == [
                #"routes[0].validation.path.id: "id" is not a parameter of the route's path "/orders/{order_id}" (its parameters: order_id)"#
            ])
        #expect(
            problems(of: route(#"{"path": {"id": {"type": "integer"}}}"#, path: "/orders/")) == [
                #"routes[0].validation.path.id: "id" is not a parameter of the route's path "/orders/" (it has none)"#
            ])
        #expect(
            problems(of: route(#"{"required": {"headers": ["X-Tenant"], "query": ["q"]}, "query": {}}"#)) == [
                #"routes[0].validation.required.query[0]: "q" is not declared in "query""#,
                #"routes[0].validation.required.headers[0]: "X-Tenant" is not declared in "headers""#,
            ])
        #expect(
            problems(of: route(#"{"body": {"type": "object", "properties": {"qty": {"type": "integer", "minimum": "1"}}}}"#))
                == [#"routes[0].validation.body.properties.qty.minimum: must be a number, got "1""#])
        #expect(
            problems(of: route(#"{"headers": {"X-Tenant": {"type": "object"}, "x-tenant": {"type": "string"}, "a b": {}}}"#))
                == [
                    "routes[0].validation.headers.X-Tenant: a header's schema must be a single value (string, integer, number, boolean)",
                    #"routes[0].validation.headers.x-tenant: duplicate header "X-Tenant" (names ignore case)"#,
                    #"routes[0].validation.headers["a b"]: invalid header name "a b""#,
                ])
        #expect(
            problems(of: route(#"{"path": {"order_id": {"type": "array", "items": {"type": "integer"}}}}"#)) == [
                "routes[0].validation.path.order_id: a path parameter's schema must be a single value (string, integer, number, boolean)"
            ])
        #expect(
            problems(of: route(#"{"query": {"q": {"type": "string", "type": "integer"}}}"#)) == [
                "routes[0].validation.query.q.type: duplicate key"
            ])
        #expect(
            problems(of: route(#"{"body": "order.json", "cookies": {}}"#)) == [
                "routes[0].validation.cookies: unknown key (known keys: path, query, headers, required, body)",
                #"routes[0].validation.body: expected a JSON Schema object or {"file": path}"#,
            ])
        #expect(
            problems(of: route(#"{"body": {"file": "a.json", "type": "object"}}"#)) == [
                "routes[0].validation.body.type: unknown key (known keys: file)",
                #"routes[0].validation.body.file: cannot read schema file "/etc/gateway/a.json""#,
            ])
        #expect(problems(of: route(#"{"query": []}"#)) == ["routes[0].validation.query: expected an object of parameter names to schemas"])
        #expect(problems(of: route(#"{"query": {"q": "string"}}"#)) == ["routes[0].validation.query.q: expected a JSON Schema object"])
    }
}
