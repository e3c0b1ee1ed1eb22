import Foundation
import Glibc
import GatewayConfig
import GatewayCore
import GatewayTLS
import Logging
import NIOCore

/// A gateway started in the test process on ephemeral ports, with development
/// certificates made in a temporary directory, stopped by `stop()`.
final class TestGateway: @unchecked Sendable {
    let directory: URL
    /// The JSON written to `gateway.json`; `rewrite` changes it for a reload.
    private(set) var document: [String: Any]
    let server: GatewayServer
    let httpsPort: Int
    let httpPort: Int?
    let adminPort: Int
    var caPath: String { self.directory.appendingPathComponent("certs/dev-ca.pem").path }

    /// `extra` is merged into the top-level JSON object (e.g. "http" limits).
    /// `prepare` runs in the new directory before the configuration is written.
    static func start(
        routes: [[String: Any]] = TestGateway.itemRoutes,
        tls: [String: Any] = [:],
        extraCertificates: [[String: Any]] = [],
        plainListener: Bool = false,
        extra: [String: Any] = [:],
        accessLog: AccessLog = AccessLog(),
        prepare: (URL) throws -> Void = { _ in }
    ) async throws -> TestGateway {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("certs"), withIntermediateDirectories: true)
        try prepare(directory)
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
        let path = directory.appendingPathComponent("gateway.json").path
        try Self.write(document, to: path)

        let configuration = try GatewayConfigurationLoader.load(contentsOf: path)
        let server = try GatewayServer(
            configuration: configuration, configurationFile: path, logger: Logger(label: "test-gateway"),
            accessLog: accessLog)
        try await server.start()
        let addresses = server.listenerAddresses
        return TestGateway(
            directory: directory, document: document, server: server,
            httpsPort: addresses["https"]!.port!,
            httpPort: addresses["http"]?.port,
            adminPort: server.adminAddress!.port!)
    }

    private init(
        directory: URL, document: [String: Any], server: GatewayServer, httpsPort: Int, httpPort: Int?, adminPort: Int
    ) {
        self.directory = directory
        self.document = document
        self.server = server
        self.httpsPort = httpsPort
        self.httpPort = httpPort
        self.adminPort = adminPort
    }

    var configurationPath: String { self.directory.appendingPathComponent("gateway.json").path }

    /// Changes the document and writes it as editors do: a new file renamed over the old one.
    func rewrite(_ change: (inout [String: Any]) -> Void) throws {
        change(&self.document)
        try Self.write(self.document, to: self.configurationPath)
    }

    /// Writes `text` as the configuration file, as is (for invalid files).
    func rewrite(text: String) throws {
        let temporary = self.configurationPath + ".tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, self.configurationPath) == 0 else { throw POSIXError(.EIO) }
    }

    private static func write(_ document: [String: Any], to path: String) throws {
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        let temporary = path + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else { throw POSIXError(.EIO) }
    }

    /// `POST /-/reload` on the admin listener: status code and JSON body. A raw
    /// socket rather than curl, so that timing it measures the gateway, not a process start.
    /// Waits off Swift concurrency's threads: the reload it waits for runs on them.
    func adminReload() async throws -> (code: Int, body: String) {
        let port = self.adminPort
        return try await offThePool {
            let connection = try RawConnection(port: port)
            connection.send("POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            let answer = connection.readToEnd()
            let code = answer.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            let body = answer.range(of: "\r\n\r\n").map { String(answer[$0.upperBound...]) } ?? ""
            return (code, body)
        }
    }

    /// The admin listener's Prometheus text.
    func scrape() throws -> String {
        try run("/usr/bin/curl", ["-sS", "http://127.0.0.1:\(self.adminPort)/metrics"]).stdout
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

func run(
    _ executable: String, _ arguments: [String], input: Data? = nil, timeout: TimeInterval = 30,
    environment: [String: String]? = nil
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
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
