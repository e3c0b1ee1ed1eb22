import Foundation
import Testing

/// Each event loop accepts on its own socket (SO_REUSEPORT), so no accepted
/// connection is handed to another thread.
@Suite("Listener sockets")
struct ListenerSocketsTests {
    @Test func oneListeningSocketPerEventLoopOnOnePort() async throws {
        let gateway = try await TestGateway.start(extra: ["event_loops": 3])
        let sockets = try listeningSockets(port: gateway.httpsPort)
        #expect(sockets == 3, "port \(gateway.httpsPort): \(sockets) listening sockets")

        // Connections land on all of them and are answered.
        let answers = try await offThePool {
            try (0..<12).map { _ in try curl(gateway, "/items/7?q=x").body }
        }
        #expect(answers.allSatisfy { $0 == #"{"item_id":7,"q":"x"}"# })

        await gateway.stop()
    }

    /// SO_REUSEPORT would let a second gateway join the first one's sockets; it must be
    /// refused as without reuse, and the first one keeps serving.
    @Test func aSecondGatewayOnTheSamePortIsRefused() async throws {
        let first = try await TestGateway.start(extra: ["event_loops": 2])
        let port = first.httpsPort
        await #expect(throws: (any Error).self) {
            let second = try await TestGateway.start(extra: [
                "event_loops": 2,
                "listeners": [["name": "https", "address": "127.0.0.1:\(port)"]],
            ])
            await second.stop()
        }
        #expect(try listeningSockets(port: port) == 2)
        let answer = try await offThePool { try curl(first, "/items/3?q=y").body }
        #expect(answer == #"{"item_id":3,"q":"y"}"#)
        await first.stop()
    }

    @Test func aPortTakenByAnotherSocketIsRefused() async throws {
        // A plain socket (no SO_REUSEPORT) holds the port: the gateway must not share it.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0)
        #expect(listen(holder, 1) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))

        await #expect(throws: (any Error).self) {
            let gateway = try await TestGateway.start(extra: [
                "event_loops": 2,
                "listeners": [["name": "https", "address": "127.0.0.1:\(port)"]],
            ])
            await gateway.stop()
        }
        // Still only the holder's socket: nothing of the gateway's was left bound.
        let remaining = try listeningSockets(port: port)
        #expect(remaining == 1, "port \(port): \(remaining) listening sockets")
    }
}

/// Sockets in LISTEN state on `port`, from /proc/net/tcp (no tool needed).
private func listeningSockets(port: Int) throws -> Int {
    // Read to the end: procfs files report size 0, and one read returns one page.
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/net/tcp"))
    defer { try? handle.close() }
    let table = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
    let hexPort = String(format: ":%04X", port)
    return table.split(separator: "\n").dropFirst().filter { line in
        let fields = line.split(separator: " ")
        return fields.count > 3 && fields[1].hasSuffix(hexPort) && fields[3] == "0A"
    }.count
}
