import Foundation
import Glibc

/// A real `redis-server` (Debian package `redis-server`) on a free loopback
/// port, without persistence, stopped by `stop()`.
public final class RedisServer: @unchecked Sendable {
    public static let executable = "/usr/bin/redis-server"
    public let port: Int
    private var process: Process?
    private let directory: URL

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: Self.executable) }

    public init(port: Int? = nil) throws {
        self.port = try port ?? freeLoopbackPort()
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    }

    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = [
            "--port", String(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", self.directory.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // Ready when it accepts connections.
        for _ in 0..<200 {
            if canConnect(port: self.port) { return }
            usleep(25_000)
        }
        throw CocoaError(.fileReadUnknown)
    }

    public func stop() {
        guard let process = self.process else { return }
        self.process = nil
        // Poll rather than waitUntilExit, which can block forever on a Swift concurrency thread.
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<500 where process.isRunning {
            usleep(10_000)
        }
    }

    deinit {
        self.stop()
        try? FileManager.default.removeItem(at: self.directory)
    }
}

/// An ephemeral loopback port that is free right now.
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
public func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}
