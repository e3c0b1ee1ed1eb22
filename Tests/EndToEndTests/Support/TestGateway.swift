import Foundation
import GatewayConfig
import GatewayCore
import GatewayTLS
import Logging
import NIOCore

/// A gateway started in the test process on ephemeral ports, with development
/// certificates made in a temporary directory, stopped by `stop()`.
final class TestGateway: @unchecked Sendable {
    let directory: URL
    let server: GatewayServer
    let httpsPort: Int
    let httpPort: Int?
    let adminPort: Int
    var caPath: String { self.directory.appendingPathComponent("certs/dev-ca.pem").path }

    /// `extra` is merged into the top-level JSON object (e.g. "http" limits).
    static func start(
        routes: [[String: Any]] = TestGateway.itemRoutes,
        tls: [String: Any] = [:],
        extraCertificates: [[String: Any]] = [],
        plainListener: Bool = false,
        extra: [String: Any] = [:]
    ) async throws -> TestGateway {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("certs"), withIntermediateDirectories: true)
        var tlsObject: [String: Any] = [
            "certificates": [
                [
                    "name": "localhost", "certificate": "certs/localhost.pem", "key": "certs/localhost-key.pem",
                    "server_names": ["localhost"], "generate_if_missing": true,
                ]
            ] + extraCertificates
        ]
        tlsObject.merge(tls) { $1 }
        var listeners: [[String: Any]] = [["name": "https", "address": "127.0.0.1:0", "tls": tlsObject]]
        if plainListener {
            listeners.append(["name": "http", "address": "127.0.0.1:0"])
        }
        var document: [String: Any] = [
            "listeners": listeners,
            "admin": ["address": "127.0.0.1:0"],
            "access_log": ["enabled": false],
            "event_loops": 1,
            "routes": routes,
        ]
        document.merge(extra) { $1 }
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        let path = directory.appendingPathComponent("gateway.json").path
        try data.write(to: URL(fileURLWithPath: path))

        let configuration = try GatewayConfigurationLoader.load(contentsOf: path)
        let server = try GatewayServer(configuration: configuration, logger: Logger(label: "test-gateway"))
        try await server.start()
        let addresses = server.listenerAddresses
        return TestGateway(
            directory: directory, server: server,
            httpsPort: addresses["https"]!.port!,
            httpPort: addresses["http"]?.port,
            adminPort: server.adminAddress!.port!)
    }

    private init(directory: URL, server: GatewayServer, httpsPort: Int, httpPort: Int?, adminPort: Int) {
        self.directory = directory
        self.server = server
        self.httpsPort = httpsPort
        self.httpPort = httpPort
        self.adminPort = adminPort
    }

    func stop() async {
        await self.server.shutdown(drainTimeout: .seconds(2))
        try? FileManager.default.removeItem(at: self.directory)
    }

    static var itemRoutes: [[String: Any]] { [
        ["name": "items", "match": ["path": "/items/{item_id}", "methods": ["GET", "PUT"]], "handler": "items"],
        ["name": "create_item", "match": ["path": "/items/", "methods": ["POST"]], "handler": "items"],
    ] }

    func url(_ path: String) -> String { "https://localhost:\(self.httpsPort)\(path)" }
}

/// Runs a real process (curl, openssl, the gateway binary) and collects its output.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func run(_ executable: String, _ arguments: [String], input: Data? = nil, timeout: TimeInterval = 30) throws
    -> ProcessResult
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    let inPipe = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inPipe
    try process.run()
    if let input {
        inPipe.fileHandleForWriting.write(input)
    }
    try? inPipe.fileHandleForWriting.close()
    // Read both pipes concurrently so neither fills up.
    nonisolated(unsafe) var errData = Data()
    let errThread = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
    errThread.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errThread.isFinished { usleep(1000) }
    return ProcessResult(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

/// `curl` against the gateway, trusting its development CA; returns status code and body.
func curl(_ gateway: TestGateway, _ path: String, _ extra: [String] = []) throws -> (code: Int, body: String, stderr: String) {
    let result = try run(
        "/usr/bin/curl",
        ["-sS", "--cacert", gateway.caPath, "-o", "-", "-w", "\n%{http_code}", "--max-time", "10"] + extra
            + [gateway.url(path)])
    var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    let code = Int(lines.popLast() ?? "") ?? 0
    return (code, lines.joined(separator: "\n"), result.stderr)
}
