import Foundation
import GatewayTestSupport
import Testing

/// A real nginx upstream process, one process (`master_process off`) so that
/// `kill -9` takes the whole server down at once, mid-load.
private final class NginxUpstream: @unchecked Sendable {
    static let executable = "/usr/sbin/nginx"
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: Self.executable) }

    let name: String
    let port: Int
    private let directory: URL
    private var process: Process?

    init(name: String) throws {
        self.name = name
        self.port = try freeLoopbackPort()
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: self.directory.appendingPathComponent("logs"), withIntermediateDirectories: true)
    }

    var address: String { "127.0.0.1:\(self.port)" }

    func start() throws {
        let config = """
            daemon off; master_process off; worker_processes 1;
            pid \(self.directory.path)/nginx.pid; error_log \(self.directory.path)/logs/error.log crit;
            events { worker_connections 1024; }
            http {
                access_log off;
                server {
                    listen 127.0.0.1:\(self.port);
                    location / { default_type application/json; return 200 '{"upstream":"\(self.name)"}'; }
                }
            }
            """
        let path = self.directory.appendingPathComponent("nginx.conf").path
        try Data(config.utf8).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["-c", path, "-p", self.directory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        for _ in 0..<200 where !canConnect(port: self.port) { usleep(25_000) }
    }

    /// SIGKILL: no graceful close of its connections.
    func kill() {
        guard let process = self.process else { return }
        self.process = nil
        Foundation.kill(process.processIdentifier, SIGKILL)
        for _ in 0..<500 where process.isRunning { usleep(10_000) }
    }

    deinit {
        self.kill()
        try? FileManager.default.removeItem(at: self.directory)
    }
}

@Suite(
    "Proxy against nginx processes", .serialized,
    .enabled(if: NginxUpstream.isInstalled, "needs /usr/sbin/nginx (Debian package nginx)"))
struct ProxyNginxEndToEndTests {
    /// Issue 4: a target killed under load is ejected and requests keep succeeding.
    @Test func aKilledNginxTargetIsEjectedAndRequestsKeepSucceeding() async throws {
        let a = try NginxUpstream(name: "a")
        let b = try NginxUpstream(name: "b")
        try a.start()
        try b.start()
        defer { a.kill(); b.kill() }
        let gateway = try await TestGateway.start(
            routes: [["name": "api", "match": ["prefix": "/api/"], "upstream": "backend"]],
            plainListener: true,
            extra: [
                "upstreams": [
                    "backend": [
                        "targets": [["address": a.address], ["address": b.address]],
                        "outlier_detection": ["consecutive_failures": 2, "ejection_time": "60s"],
                        "retries": ["attempts": 1, "on": ["connect-failure", "reset"]],
                    ]
                ]
            ])
        let port = try #require(gateway.httpPort)

        // Two keep-alive clients for 3 s; b is killed after 1 s.
        let end = Date().addingTimeInterval(3)
        let clients = (0..<2).map { _ in
            Task {
                try await offThePool { () throws -> [String: Int] in
                    let connection = try RawConnection(port: port)
                    var answers: [String: Int] = [:]
                    while Date() < end {
                        connection.send("GET /api/x HTTP/1.1\r\nHost: x\r\n\r\n")
                        let response = connection.readResponse()
                        let key =
                            response.hasPrefix("HTTP/1.1 200")
                            ? (response.hasSuffix(#""upstream":"a"}"#) ? "a" : "b")
                            : String(response.prefix(12))
                        answers[key, default: 0] += 1
                    }
                    return answers
                }
            }
        }
        try await Task.sleep(for: .seconds(1))
        b.kill()
        var answers: [String: Int] = [:]
        for client in clients {
            answers.merge(try await client.value) { $0 + $1 }
        }
        // A few more, so that b has failed its consecutive attempts however slowly the machine ran.
        let after = try await offThePool { () throws -> [String] in
            let connection = try RawConnection(port: port)
            return (0..<10).map { _ in
                connection.send("GET /api/x HTTP/1.1\r\nHost: x\r\n\r\n")
                return String(connection.readResponse().prefix(12))
            }
        }
        let failures = answers.filter { $0.key != "a" && $0.key != "b" }
        #expect(failures.isEmpty, "every request succeeded: \(answers)")
        #expect(after.allSatisfy { $0 == "HTTP/1.1 200" }, "\(after)")
        #expect((answers["a"] ?? 0) > 10 && (answers["b"] ?? 0) > 5, "both served before the kill: \(answers)")
        let metrics = try await offThePool { try gateway.scrape() }
        #expect(
            metrics.contains(#"gateway_upstream_target_healthy{upstream="backend",target="\#(b.address)"} 0"#),
            "the killed target is out of rotation: \(metrics.split(separator: "\n").filter { $0.contains("target_healthy") || $0.contains("ejections") })")
        await gateway.stop()
    }
}
