import Foundation
import Testing

@testable import GatewayCore

@Suite("Watched files")
struct WatchedFilesTests {
    /// A file rewritten with the same size and the same first 80 bytes (a regenerated
    /// JWKS, an edit of one digit) must still count as changed.
    @Test func everyByteOfAFileCounts() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("watched-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 200)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let before = WatchedFiles.hash([path])
        bytes[150] = UInt8(ascii: "b")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(WatchedFiles.hash([path]) != before)
        #expect(WatchedFiles.hash([path]) == WatchedFiles.hash([path]))
        try FileManager.default.removeItem(atPath: path)
        #expect(WatchedFiles.hash([path]) != before, "missing")
    }
}
