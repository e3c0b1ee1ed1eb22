import Foundation
import GatewayConfig
import Testing

/// `gateway.schema.json` against the decoder: the same keys in every object, and
/// the same verdict on shipped and sample documents (through Python's `jsonschema`).
@Suite("gateway.schema.json matches the decoder")
struct SchemaTests {
    static let schemaPath = ShippedConfigurationTests.packageDirectory + "/gateway.schema.json"

    static func schema() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: schemaPath))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func everyObjectListsExactlyTheDecodersKeys() throws {
        let schema = try Self.schema()
        #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        var found: [String: Set<String>] = [:]
        try Self.collectObjects(schema, at: "", root: schema, into: &found)
        let known = ConfigurationKeys.byLocation.mapValues(Set.init)
        #expect(Set(found.keys) == Set(known.keys), "objects in the schema vs. objects the decoder reads")
        for (location, keys) in known {
            #expect(found[location] == keys, "keys of \(location.isEmpty ? "(root)" : location)")
        }
    }

    /// Records the property names of every object schema by its location
    /// (`listeners[].tls`, `upstreams{}.targets[]`), checking that each refuses
    /// unknown keys as the decoder does.
    static func collectObjects(
        _ node: [String: Any], at location: String, root: [String: Any], into found: inout [String: Set<String>]
    ) throws {
        let node = try resolve(node, root: root)
        // An object keyed by name (`upstreams`): every value has the same schema.
        if node["properties"] == nil, let values = node["additionalProperties"] as? [String: Any] {
            try collectObjects(values, at: location + "{}", root: root, into: &found)
            return
        }
        // A value that is a string or an object (a rate limit's `key`): the object alternative counts.
        if node["properties"] == nil, let alternatives = node["oneOf"] as? [[String: Any]] {
            for alternative in alternatives {
                try collectObjects(alternative, at: location, root: root, into: &found)
            }
            return
        }
        guard let properties = node["properties"] as? [String: Any] else { return }
        #expect(node["additionalProperties"] as? Bool == false, "\(location) must refuse unknown keys")
        found[location] = Set(properties.keys)
        for (key, value) in properties {
            let child = try resolve(try #require(value as? [String: Any]), root: root)
            let path = location.isEmpty ? key : location + "." + key
            if child["type"] as? String == "array", let items = child["items"] as? [String: Any] {
                try collectObjects(items, at: path + "[]", root: root, into: &found)
            } else {
                try collectObjects(child, at: path, root: root, into: &found)
            }
        }
    }

    static func resolve(_ node: [String: Any], root: [String: Any]) throws -> [String: Any] {
        guard let reference = node["$ref"] as? String else { return node }
        let name = try #require(reference.split(separator: "/").last.map(String.init))
        let definitions = try #require(root["$defs"] as? [String: Any])
        return try #require(definitions[name] as? [String: Any], "\(reference) is defined")
    }

    // MARK: Same verdicts

    static let shipped = [
        "gateway.json", "bench/gateway.json", "examples/proxy.json", "examples/ratelimit.json",
        "examples/ratelimit-redis.json", "examples/policies.json",
    ]

    /// Documents both must accept, or both refuse, each with what it shows.
    static let samples: [(document: String, why: String)] = [
        (#"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": []}"#, "minimal"),
        (
            #"""
            {"$schema": "./gateway.schema.json",
             "listeners": [{"name": "web", "address": "[::1]:8443", "tls": {"certificates": [
               {"name": "c", "certificate": "c.pem", "key": "k.pem", "server_names": ["*.example.com", "a.example.com"],
                "generate_if_missing": true}], "min_version": "TLSv1.3", "ciphers": "HIGH", "ciphersuites": "TLS_AES_128_GCM_SHA256",
                "session_tickets": false, "handshake_timeout": "1.5s"}}],
             "admin": {"address": "localhost:9901"},
             "http": {"max_header_bytes": 1, "max_body_bytes": 0, "idle_timeout": "1h", "request_head_timeout": "250ms", "body_timeout": "2m"},
             "access_log": {"enabled": false}, "shutdown": {"drain_timeout": "30s"}, "reload": {"watch": false, "debounce": "0.1s"},
             "event_loops": 2,
             "routes": [{"name": "a", "match": {"path": "/items/{item_id}", "methods": ["GET", "M-SEARCH"], "host": "api.example.com"}, "handler": "items"},
                        {"name": "b", "match": {"prefix": "/static/"}, "handler": "items"}]}
            """#, "every key set"
        ),
        (
            #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [],
             "upstreams": {"b": {"targets": [{"address": "127.0.0.1:9000"}],
               "health_check": {"path": "/healthz", "interval": "1s", "timeout": "500ms", "healthy_threshold": 2,
                                "unhealthy_threshold": 3, "expected_status": "200-299, 304"},
               "outlier_detection": {"consecutive_failures": 5, "ejection_time": "30s", "max_ejection_time": "5m"},
               "retries": {"attempts": 2, "on": ["connect-failure", "reset", "503"], "budget_percent": 20,
                           "min_retries_per_second": 3}}}}
            """#, "upstream health, ejection and retries"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "upstreams": {"b": {"targets": [{"address": "127.0.0.1:9000"}], "retries": {"on": ["200"]}}}}"#,
            "a 2xx retry condition"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "upstreams": {"b": {"targets": [{"address": "127.0.0.1:9000"}], "health_check": {"path": "/a b"}}}}"#,
            "a health path with a space"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "upstreams": {"b": {"targets": [{"address": "127.0.0.1:9000"}], "health_check": {"expected_status": "2xx"}}}}"#,
            "a status pattern"
        ),
        (#"{"listeners": [], "routes": []}"#, "no listener"),
        (#"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}]}"#, "routes missing"),
        (#"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "extra": 1}"#, "unknown key"),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "reload": {"watch": "yes"}}"#,
            "wrong type"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "reload": {"debounce": "0ms"}}"#,
            "zero duration"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "http": {"idle_timeout": "1m30s"}}"#,
            "mixed units"
        ),
        (#"{"listeners": [{"name": "web", "address": "127.0.0.1:65536"}], "routes": []}"#, "port out of range"),
        (#"{"listeners": [{"name": "web", "address": "*:80"}], "routes": []}"#, "wildcard host"),
        (#"{"listeners": [{"name": "w b", "address": "127.0.0.1:0"}], "routes": []}"#, "name with a space"),
        (#"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "event_loops": -1, "routes": []}"#, "negative"),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0", "tls": {"certificates": []}}], "routes": []}"#,
            "no certificate"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0", "tls": {"certificates": [{"name": "c", "certificate": "c.pem", "key": "k.pem"}], "min_version": "TLSv1.1"}}], "routes": []}"#,
            "TLS 1.1"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a", "prefix": "/a"}, "handler": "items"}]}"#,
            "path and prefix"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {}, "handler": "items"}]}"#,
            "neither path nor prefix"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "a"}, "handler": "items"}]}"#,
            "relative path"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a//b"}, "handler": "items"}]}"#,
            "empty segment"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a/x{id}"}, "handler": "items"}]}"#,
            "partial parameter"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"prefix": "/a/{id}"}, "handler": "items"}]}"#,
            "parameter in a prefix"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a", "methods": ["get"]}, "handler": "items"}]}"#,
            "lowercase method"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a", "methods": []}, "handler": "items"}]}"#,
            "no method"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a", "host": "a.com:80"}, "handler": "items"}]}"#,
            "host with port"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "proxy"}]}"#,
            "unknown handler"
        ),
        (
            #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:${GATEWAY_SCHEMA_TEST_PORT:-0}"}],
             "trusted_proxies": ["10.0.0.0/8", "::1"],
             "rate_limit_store": {"memory": {"max_keys": 1000}, "redis": {"url": "redis://127.0.0.1:6379", "timeout": "20ms", "failure_mode": "closed"}},
             "rate_limits": {"per-ip": {"limit": "10/s", "burst": 10, "key": "client_ip", "store": "memory"},
                             "per-key": {"limit": "1000/min", "key": {"header": "X-API-Key"}, "store": "redis"},
                             "per-route": {"limit": "5000/d", "key": "route"}},
             "default_rate_limits": ["per-ip"],
             "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "rate_limits": ["per-ip", "per-key"], "rate_limit_headers": false},
                        {"name": "b", "match": {"path": "/b"}, "handler": "items"}]}
            """#, "every rate-limit key set"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "rate_limits": {"p": {"limit": "10 per second"}}}"#,
            "limit without a slash"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "rate_limits": {"p": {"limit": "10/s", "burst": 0}}}"#,
            "burst 0"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "rate_limits": {"p": {"limit": "10/s", "key": "ip"}}}"#,
            "unknown key kind"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "rate_limit_store": {"redis": {"url": "redis://r", "failure_mode": "maybe"}}}"#,
            "unknown failure mode"
        ),
        (
            #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:0"}],
             "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items",
                         "compression": {"gzip": true, "min_size": 0, "level": 9, "types": ["application/json", "text/*"]}},
                        {"name": "b", "match": {"path": "/b"}, "handler": "items", "compression": true},
                        {"name": "c", "match": {"path": "/c"}, "handler": "items", "compression": {}}]}
            """#, "every compression key set, and the shorthand"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "compression": {"level": 10}}]}"#,
            "compression level 10"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "compression": {"types": ["*/*"]}}]}"#,
            "compression of every type"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "compression": "gzip"}]}"#,
            "compression as a string"
        ),
        (
            #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:0"}],
             "routes": [{"name": "a", "match": {"path": "/orders/{order_id}"}, "handler": "items",
                         "request_decompression": {"max_bytes": 1000000, "max_ratio": 20},
                         "validation": {"path": {"order_id": {"type": "integer", "minimum": 1}},
                                        "query": {"tag": {"type": "array", "items": {"type": "string"}}},
                                        "headers": {"X-Tenant": {"type": "string"}},
                                        "required": {"query": ["tag"], "headers": ["X-Tenant"]},
                                        "body": {"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]}}},
                        {"name": "b", "match": {"path": "/b"}, "handler": "items", "request_decompression": true}]}
            """#, "every request-decompression and validation key set"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "request_decompression": {"max_ratio": 0}}]}"#,
            "decompression ratio 0"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "request_decompression": "gzip"}]}"#,
            "decompression as a string"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "validation": {"body": "order.json"}}]}"#,
            "validation body as a string"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "validation": {"body": {"file": "order.json", "type": "object"}}}]}"#,
            "validation body file with schema keywords"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "validation": {"required": {"cookies": []}}}]}"#,
            "validation required for cookies"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "validation": {"query": {"q": "string"}}}]}"#,
            "validation parameter schema as a string"
        ),
    ]

    /// The CORS and OpenAPI samples.
    static let corsAndOpenAPISamples: [(document: String, why: String)] = [
        (
            #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:0"}],
             "openapi": {"enabled": true, "path": "/api/openapi.json", "docs_path": null, "title": "Shop", "version": "2", "description": "d"},
             "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items",
                         "cors": {"allow_origins": ["https://app.example.com", "https://*.example.org:8443"],
                                  "allow_methods": ["GET", "PUT"], "allow_headers": ["Authorization"], "expose_headers": ["X-Request-Id"],
                                  "allow_credentials": true, "max_age": "1h"}},
                        {"name": "b", "match": {"path": "/b"}, "handler": "items", "cors": {"allow_origins": ["*"], "allow_headers": ["*"]}}]}
            """#, "every cors and openapi key set"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "openapi": {}, "routes": []}"#,
            "openapi with its defaults"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "cors": {"allow_origins": ["https://app.example.com/"]}}]}"#,
            "an origin with a path"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "cors": {"allow_methods": ["GET"]}}]}"#,
            "cors without origins"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "cors": {"allow_origins": ["https://a.com"], "allow_methods": ["get"]}}]}"#,
            "a lowercase cors method"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "openapi": {"docs_path": "/it's"}, "routes": []}"#,
            "a docs path with a quote"
        ),
    ]

    /// The authentication samples, apart so the list above stays readable.
    static let authSamples: [(document: String, why: String)] = [
        (
            #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:0"}],
             "api_keys": {"partner-a": "0123456789abcdef-a", "partner-b": {"file": "keys/b.key"}},
             "jwks": {"main": {"file": "keys/jwks.json"}},
             "rate_limits": {"per-user": {"limit": "10/s", "key": "identity"}},
             "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "rate_limits": ["per-user"],
                         "auth": {"api_key": {"header": "X-Key", "query": "api_key", "allow": ["partner-a"]}, "realm": "r", "hide_credentials": true}},
                        {"name": "b", "match": {"path": "/b"}, "handler": "items",
                         "auth": {"jwt": {"jwks": "main", "algorithms": ["RS256", "ES256"], "issuer": "https://i", "audience": ["x", "y"],
                                          "clock_skew": "30s", "require": {"scope": "orders:write", "roles": ["admin"]}, "max_token_bytes": 4096}}}]}
            """#, "every auth key set"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "api_keys": {"k": "with a space 0123456789"}}"#,
            "an API key with spaces"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [], "api_keys": {"k": {"path": "x"}}}"#,
            "an API key object without file"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "jwks": {"j": {"file": "j.json"}}, "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "auth": {"jwt": {"jwks": "j", "algorithms": ["none"]}}}]}"#,
            "alg none"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "jwks": {"j": {"file": "j.json"}}, "api_keys": {"k": "0123456789abcdef"}, "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "auth": {"jwt": {"jwks": "j"}, "api_key": {}}}]}"#,
            "api_key and jwt together"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "auth": {}}]}"#,
            "auth without a method"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "jwks": {"j": {"file": "j.json"}}, "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "auth": {"jwt": {"jwks": "j", "require": {"scope": "a b"}}}}]}"#,
            "a required value with a space"
        ),
        (
            #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "api_keys": {"k": "0123456789abcdef"}, "routes": [{"name": "a", "match": {"path": "/a"}, "handler": "items", "auth": {"api_key": {"query": "a&b"}}}]}"#,
            "a query parameter name with &"
        ),
    ]

    @Test(
        .enabled(if: PythonJSONSchema.isAvailable, "needs python3 with the jsonschema package (pip install jsonschema)")
    )
    func shippedConfigurationsValidateAndBothAgreeOnSamples() throws {
        let root = ShippedConfigurationTests.packageDirectory
        var documents: [String] = []
        for file in Self.shipped {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            let document = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            let reference = try #require(document?["$schema"] as? String, "\(file) names the schema")
            let directory = (root + "/" + file as NSString).deletingLastPathComponent
            let resolved = (directory + "/" + reference as NSString).standardizingPath
            #expect(resolved == (Self.schemaPath as NSString).standardizingPath, "\(file): $schema is \(reference)")
            documents.append(text)
        }
        let samples = Self.samples + Self.authSamples + Self.corsAndOpenAPISamples
        documents += samples.map(\.document)
        let verdicts = try PythonJSONSchema.validate(documents, schema: Self.schemaPath)
        try #require(verdicts.count == documents.count)
        for (index, file) in Self.shipped.enumerated() {
            #expect(verdicts[index] == nil, "\(file): \(verdicts[index] ?? "")")
        }
        for (offset, sample) in samples.enumerated() {
            let schemaError = verdicts[Self.shipped.count + offset]
            let decoderProblems = problems(of: sample.document)
            #expect(
                (schemaError == nil) == decoderProblems.isEmpty,
                "\(sample.why): schema says \(schemaError ?? "valid"), decoder says \(decoderProblems)")
        }
    }
}

/// Python's `jsonschema` (Draft 2020-12), run as a process: the first `python3`
/// on `PATH` that has it (a pyenv or venv one before the system's).
enum PythonJSONSchema {
    static let python: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        let candidates = path.split(separator: ":").map { $0 + "/python3" } + ["/usr/bin/python3"]
        return candidates.first { candidate in
            FileManager.default.isExecutableFile(atPath: candidate)
                && (try? run(candidate, ["-c", "import jsonschema"], input: Data()).status) == 0
        }
    }()

    static var isAvailable: Bool { python != nil }

    /// For each document, nil when valid, else the first error's message.
    static func validate(_ documents: [String], schema: String) throws -> [String?] {
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            validator = jsonschema.Draft202012Validator(schema)
            out = []
            for text in json.load(sys.stdin):
                error = jsonschema.exceptions.best_match(validator.iter_errors(json.loads(text)))
                out.append(None if error is None else "/".join(map(str, error.absolute_path)) + ": " + error.message)
            print(json.dumps(out))
            """
        let input = try JSONSerialization.data(withJSONObject: documents)
        let python = try #require(Self.python)
        let result = try run(python, ["-c", script, schema], input: input)
        guard result.status == 0 else { throw PythonError(message: result.stderr) }
        let output = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [Any] ?? []
        return output.map { $0 as? String }
    }

    struct PythonError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    private static func run(_ python: String, _ arguments: [String], input: Data) throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
