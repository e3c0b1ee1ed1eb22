import Foundation
import GatewayValidation
import NIOCore
import Testing

/// Every input recorded from FastAPI by Fixtures/generate_schema_fixtures.py (the schema's pydantic
/// equivalent as a body, a query parameter and a path parameter) must get the same status and
/// the same 422 bytes from `JSONSchema`.
@Suite struct JSONSchemaFixtureTests {
    struct Exchange: Sendable, CustomTestStringConvertible {
        enum Input: Sendable {
            case body(String)
            case query([String])
            case path(String)
        }

        var schemaName: String
        var schema: JSONValue
        var input: Input
        var status: Int
        var response: String

        var testDescription: String {
            switch self.input {
            case .body(let body): return "\(self.schemaName) body \(body.prefix(100))"
            case .query(let values): return "\(self.schemaName) query \(values)"
            case .path(let value): return "\(self.schemaName) path \(value)"
            }
        }
    }

    static let exchanges: [Exchange] = {
        let url = Bundle.module.url(forResource: "schema_fixtures", withExtension: "json", subdirectory: "Fixtures")!
        let document = try! JSONParser().parse(String(contentsOf: url, encoding: .utf8)).get().value
        guard case .object(let root) = document, case .array(let schemas) = root["schemas"]! else { fatalError() }
        var exchanges: [Exchange] = []
        for case .object(let entry) in schemas {
            guard case .string(let name) = entry["name"]!, let schema = entry["schema"] else { fatalError() }
            func recorded(_ key: String, _ input: (JSONObject) -> Exchange.Input) {
                guard case .array(let list) = entry[key]! else { fatalError() }
                for case .object(let item) in list {
                    guard case .number(let status) = item["status"]!, case .string(let response) = item["response"]!
                    else { fatalError() }
                    exchanges.append(
                        Exchange(schemaName: name, schema: schema, input: input(item), status: Int(status.lexeme)!,
                                 response: response))
                }
            }
            recorded("bodies") { item in
                guard case .string(let body) = item["body"]! else { fatalError() }
                return .body(body)
            }
            recorded("query") { item in
                guard case .array(let values) = item["values"]! else { fatalError() }
                return .query(values.map { if case .string(let s) = $0 { return s } else { fatalError() } })
            }
            recorded("path") { item in
                guard case .string(let value) = item["value"]! else { fatalError() }
                return .path(value)
            }
        }
        return exchanges
    }()

    @Test func fixturesArePresent() {
        #expect(Self.exchanges.count > 300)
    }

    @Test(arguments: Self.exchanges)
    func matchesFastAPI(_ exchange: Exchange) throws {
        let schema = try JSONSchema.compile(exchange.schema).get()
        var issues: [ValidationIssue] = []
        var writer = JSONWriter()
        switch exchange.input {
        case .body(let body):
            let document = try JSONParser().parse(body).get()
            writer.rejectsReplacementCharacter = document.containsLoneSurrogates
            schema.validate(document.value, at: ["body"], issues: &issues)
        case .query(let values):
            let value = schema.validate(parameterTexts: values.map { $0[...] }, at: ["query", "v"], issues: &issues)
            #expect((value == nil) == !issues.isEmpty)
        case .path(let text):
            let value = schema.validate(parameterText: text[...], at: ["path", "v"], issues: &issues)
            #expect((value == nil) == !issues.isEmpty)
        }
        guard !issues.isEmpty else {
            #expect(exchange.status == 200, "accepted, but FastAPI answered \(exchange.response)")
            return
        }
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        do {
            try ValidationErrorBody.write(issues, into: &buffer, writer: writer)
        } catch {
            #expect(exchange.status == 500, "\(error) writing \(issues)")
            return
        }
        #expect(exchange.status == 422)
        #expect(String(buffer: buffer) == exchange.response)
    }
}
