import Foundation
import GatewayHandlers
import GatewayValidation
import NIOCore
import Testing

/// Every request recorded from the real FastAPI app by Fixtures/generate_fastapi_fixtures.py
/// must get the same status, content type and body bytes from `ItemsHandler`.
@Suite struct ItemsHandlerFixtureTests {
    struct Fixture: Decodable, CustomTestStringConvertible, Sendable {
        struct Expected: Decodable, Sendable {
            var status: Int
            var contentType: String?
            var body: String?
            var bodyBase64: String?
        }

        var note: String
        var method: String
        var target: String
        var pathParameters: [String]
        var query: String?
        var contentType: String?
        var body: String?
        var bodyBase64: String?
        var expected: Expected

        var testDescription: String { "\(self.method) \(self.target.prefix(80)) — \(self.note.prefix(80))" }

        var requestBody: [UInt8] { Self.bytes(self.body, self.bodyBase64) }
        var expectedBody: [UInt8] { Self.bytes(self.expected.body, self.expected.bodyBase64) }

        static func bytes(_ text: String?, _ base64: String?) -> [UInt8] {
            if let base64 { return Array(Data(base64Encoded: base64)!) }
            return Array((text ?? "").utf8)
        }
    }

    struct FixtureFile: Decodable {
        var cases: [Fixture]
    }

    static let fixtures: [Fixture] = {
        let url = Bundle.module.url(forResource: "fixtures", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(FixtureFile.self, from: Data(contentsOf: url)).cases
    }()

    static let handlers: (item: any BuiltInHandler, collection: any BuiltInHandler) = (
        try! BuiltInHandlers.make(name: "items", pathParameterNames: ["item_id"]),
        try! BuiltInHandlers.make(name: "items", pathParameterNames: [])
    )

    @Test func fixturesArePresent() {
        #expect(Self.fixtures.count > 400)
    }

    @Test(arguments: Self.fixtures)
    func matchesFastAPI(_ fixture: Fixture) {
        let allocator = ByteBufferAllocator()
        let body = fixture.requestBody
        let request = BuiltInRequest(
            method: fixture.method,
            pathParameters: fixture.pathParameters.map { Substring($0) },
            query: fixture.query.map { Substring($0) },
            contentType: fixture.contentType.map { Substring($0) },
            body: body.isEmpty ? nil : allocator.buffer(bytes: body)
        )
        let handler = fixture.pathParameters.isEmpty ? Self.handlers.collection : Self.handlers.item
        let response = handler.respond(to: request, allocator: allocator)
        let got = Array(response.body.readableBytesView)
        #expect(response.status == fixture.expected.status)
        #expect("\(response.contentType)" == fixture.expected.contentType)
        if got != fixture.expectedBody {
            let gotText = String(decoding: got, as: UTF8.self)
            let expectedText = String(decoding: fixture.expectedBody, as: UTF8.self)
            Issue.record("body differs:\n  got      \(gotText.prefix(400))\n  expected \(expectedText.prefix(400))")
        }
    }
}
