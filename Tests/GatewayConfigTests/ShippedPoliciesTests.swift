import GatewayConfig
import GatewayValidation
import Testing

@Suite("The shipped examples/policies.json")
struct ShippedPoliciesTests {
    static let path = ShippedConfigurationTests.packageDirectory + "/examples/policies.json"

    @Test func ordersAreValidatedAgainstTheSchemaFile() throws {
        let configuration = try GatewayConfigurationLoader.load(
            contentsOf: Self.path, environment: ["API_KEY": "example-key-0123456789"])
        #expect(configuration.listeners.map(\.address.description) == ["0.0.0.0:8443"])
        #expect(configuration.listeners.first?.tls != nil)
        #expect(configuration.admin.address.description == "127.0.0.1:9901")
        #expect(configuration.upstreams.first { $0.name == "backend" }?.targets.map(\.address.description) == ["127.0.0.1:9000"])

        let orders = try #require(configuration.routes.first { $0.name == "orders" })
        #expect(orders.match.path == .exact("/orders/"))
        #expect(orders.match.methods == ["POST"])
        #expect(orders.proxy?.upstream == "backend")
        let body = try #require(orders.validation?.body)
        #expect(body.file == ShippedConfigurationTests.packageDirectory + "/examples/schemas/order.json")
        func issues(_ text: String) throws -> [String] {
            let document = try JSONParser().parse(text).get()
            var found: [ValidationIssue] = []
            body.compiled.validate(document.value, at: ["body"], issues: &found)
            return found.map(\.type)
        }
        #expect(try issues(#"{"sku": "A-1", "qty": 1}"#) == [])
        #expect(try issues(#"{"sku": 7, "qty": 0}"#) == ["string_type", "greater_than_equal"])
        #expect(try issues(#"{"qty": 1.5}"#) == ["missing", "int_from_float"])

        let uploads = try #require(configuration.routes.first { $0.name == "uploads" })
        #expect(uploads.requestDecompression == RequestDecompressionConfiguration(maxBytes: 52_428_800, maxRatio: 50))

        // Responses gzip-compressed on the catalog route.
        let catalog = try #require(configuration.routes.first { $0.name == "catalog" })
        #expect(catalog.compression?.level == 6)
        #expect(catalog.compression?.minSize == 1024)
    }
}
