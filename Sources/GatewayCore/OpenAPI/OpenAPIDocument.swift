import GatewayConfig
import GatewayValidation
import NIOCore

/// Builds the OpenAPI 3.1 document of some routes, laid out as FastAPI lays out
/// its `/openapi.json`: `openapi`, `info`, `paths` in route order (a path's
/// operations in the order routes add them), then `components.schemas` sorted by
/// name. Written with `JSONWriter`, so the bytes are those FastAPI would send
/// for the same document.
enum OpenAPIDocument {
    /// `routes` in host precedence order, then file order: an operation (path
    /// shape and method) already shown by an earlier route is not shown again.
    static func render(
        _ configuration: OpenAPIConfiguration, routes: [OpenAPIRouteDescription], allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var paths = JSONObject()
        var keyByShape: [String: String] = [:]
        var schemas: [String: JSONValue] = [:]
        var securitySchemes: [String: JSONValue] = [:]
        for route in routes {
            let key = keyByShape[route.shape] ?? route.pathKey
            keyByShape[route.shape] = key
            var item: JSONObject
            if case .object(let existing) = paths[key] { item = existing } else { item = JSONObject() }
            // OpenAPI has one Path Item per shape: another route's names are renamed to the key's.
            let renamed = key == route.pathKey ? [:] : Self.renaming(from: route.pathKey, to: key)
            var added = false
            for (method, operation) in route.operations where item[method] == nil {
                item[method] = .object(renamed.isEmpty ? operation : Self.renamingPathParameters(operation, renamed))
                added = true
            }
            guard added else { continue }
            paths[key] = .object(item)
            for (name, schema) in route.schemas where schemas[name] == nil {
                schemas[name] = schema
            }
            for (name, scheme) in route.securitySchemes where securitySchemes[name] == nil {
                securitySchemes[name] = scheme
            }
        }
        var info = JSONObject(["title": .string(configuration.title), "version": .string(configuration.version)])
        if let description = configuration.description { info["description"] = .string(description) }
        var document = JSONObject([
            "openapi": .string("3.1.0"), "info": .object(info), "paths": .object(paths),
        ])
        var components = JSONObject()
        for (key, entries) in [("schemas", schemas), ("securitySchemes", securitySchemes)] where !entries.isEmpty {
            var sorted = JSONObject()
            for name in entries.keys.sorted() { sorted[name] = entries[name] }
            components[key] = .object(sorted)
        }
        if !components.isEmpty { document["components"] = .object(components) }
        var buffer = allocator.buffer(capacity: 4096)
        // Everything in it is valid Unicode with finite numbers: writing cannot fail.
        try? JSONWriter().write(.object(document), into: &buffer)
        return buffer
    }

    /// `{name}` segments of a Paths Object key, in order.
    static func templateNames(_ key: String) -> [Substring] {
        key.split(separator: "/").compactMap { segment in
            guard let open = segment.firstIndex(of: "{"), segment.last == "}" else { return nil }
            return segment[segment.index(after: open)..<segment.index(before: segment.endIndex)]
        }
    }

    static func renaming(from template: String, to key: String) -> [String: String] {
        var names: [String: String] = [:]
        for (old, new) in zip(Self.templateNames(template), Self.templateNames(key)) where old != new {
            names[String(old)] = String(new)
        }
        return names
    }

    static func renamingPathParameters(_ operation: JSONObject, _ names: [String: String]) -> JSONObject {
        guard case .array(let parameters) = operation["parameters"] else { return operation }
        var operation = operation
        operation["parameters"] = .array(
            parameters.map { parameter in
                guard case .object(var object) = parameter, object["in"] == .string("path"),
                    case .string(let name) = object["name"], let new = names[name]
                else { return parameter }
                object["name"] = .string(new)
                return .object(object)
            })
        return operation
    }
}
