import Foundation
import GatewayValidation
import Testing

/// Fixtures/json_loads.json: Python's `json.loads(bytes)` verdict on every request body of the
/// FastAPI fixtures (written by Tests/GatewayHandlersTests/Fixtures/generate_fastapi_fixtures.py).
@Suite struct JSONLoadsFixtureTests {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var input: String?
        var inputBase64: String?
        var outcome: String
        var message: String?
        var position: Int?

        var bytes: [UInt8] {
            if let inputBase64 { return Array(Data(base64Encoded: inputBase64)!) }
            return Array((self.input ?? "").utf8)
        }

        var testDescription: String { "\(self.outcome): \(String(decoding: self.bytes, as: UTF8.self).prefix(60))" }
    }

    struct File: Decodable {
        var cases: [Case]
    }

    static let cases: [Case] = {
        let url = Bundle.module.url(forResource: "json_loads", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }()

    @Test(arguments: Self.cases)
    func agreesWithPython(_ fixture: Case) {
        let result = fixture.bytes.withUnsafeBytes { JSONParser().parse($0) }
        switch fixture.outcome {
        case "valid":
            #expect((try? result.get()) != nil)
        case "syntax":
            #expect(result == .failure(.syntax(JSONSyntaxError(message: fixture.message!, position: fixture.position!))))
        default:
            #expect(result == .failure(.undecodable))
        }
    }
}
