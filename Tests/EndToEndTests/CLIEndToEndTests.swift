import Foundation
import GatewayTestSupport
import Testing

@Suite("gateway command end to end", .serialized)
struct CLIEndToEndTests {
    @Test func checkAcceptsTheShippedConfiguration() throws {
        let shipped = GatewayBinary.repositoryRoot.appendingPathComponent("gateway.json").path
        let result = try run(GatewayBinary.path, ["check", "--config", shipped])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("configuration is valid"))
    }

    @Test func checkRejectsABrokenConfigurationNamingEveryPath() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(
            #"""
            {"listeners":[{"name":"https","address":"nowhere"}],
             "routes":[{"name":"a","match":{"path":42},"handler":"items"},
                       {"name":"a","match":{"path":"/x"},"handler":"itemz","extra":true}]}
            """#.utf8
        ).write(to: file)
        let result = try run(GatewayBinary.path, ["check", "--config", file.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("listeners[0].address"))
        #expect(result.stderr.contains("routes[0].match.path: expected a string"))
        #expect(result.stderr.contains("routes[1].name"))
        #expect(result.stderr.contains("routes[1].handler"))
        #expect(result.stderr.contains("routes[1].extra"))
    }

    @Test func checkLoadsCertificatesLikeTheServer() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("not a certificate".utf8).write(to: directory.appendingPathComponent("bad.pem"))
        try Data("not a key".utf8).write(to: directory.appendingPathComponent("bad-key.pem"))
        let config = """
            {"listeners":[{"name":"https","address":"127.0.0.1:0","tls":{"certificates":[
              {"name":"bad","certificate":"bad.pem","key":"bad-key.pem"}]}}],"routes":[]}
            """
        let path = directory.appendingPathComponent("gateway.json").path
        try Data(config.utf8).write(to: URL(fileURLWithPath: path))
        let result = try run(GatewayBinary.path, ["check", "--config", path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("listeners[0].tls.certificates[0]: cannot load certificate"))
        #expect(result.stderr.contains("bad.pem"))
    }

    /// `log.level` filters the operational log (not the access log) and a reload changes it.
    @Test func logLevelFollowsReloadsAndSparesTheAccessLog() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freeLoopbackPort()
        let adminPort = try freeLoopbackPort()
        func config(level: String) -> String {
            """
            {"listeners":[{"name":"http","address":"127.0.0.1:\(port)"}],
             "admin":{"address":"127.0.0.1:\(adminPort)"}, "reload":{"watch":false},
             "log":{"level":"\(level)"},
             "routes":[{"name":"items","match":{"path":"/items/{item_id}","methods":["GET"]},"handler":"items"}]}
            """
        }
        let configPath = directory.appendingPathComponent("gateway.json").path
        try Data(config(level: "warning").utf8).write(to: URL(fileURLWithPath: configPath))
        let stdoutPath = directory.appendingPathComponent("stdout.txt")
        _ = FileManager.default.createFile(atPath: stdoutPath.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: GatewayBinary.path)
        process.arguments = ["run", "--config", configPath]
        process.standardOutput = try FileHandle(forWritingTo: stdoutPath)
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        func output() -> String { (try? String(contentsOf: stdoutPath, encoding: .utf8)) ?? "" }

        let answered = try await offThePool { () -> Bool in
            for _ in 0..<200 {
                if let connection = try? RawConnection(port: port) {
                    connection.send("GET /items/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    return connection.readToEnd().hasPrefix("HTTP/1.1 200")
                }
                usleep(25_000)
            }
            return false
        }
        #expect(answered)
        try await Task.sleep(for: .milliseconds(200))
        #expect(output().contains(#""logger":"gateway.access""#), "the access log is not filtered by the level")
        #expect(!output().contains(#""message":"listening""#), "info lines are filtered at warning")

        try Data(config(level: "info").utf8).write(to: URL(fileURLWithPath: configPath))
        kill(process.processIdentifier, SIGHUP)
        var reloaded = false
        for _ in 0..<100 where !reloaded {
            try await Task.sleep(for: .milliseconds(50))
            reloaded = output().contains(#""message":"configuration reloaded""#)
        }
        #expect(reloaded, "after the reload to info, its notice line is written: \(output())")
    }

    @Test func version() throws {
        let result = try run(GatewayBinary.path, ["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    /// SIGTERM while a request body is still arriving: the request finishes, its
    /// response says `Connection: close`, and the process exits 0.
    @Test func sigtermDrainsInFlightRequestsAndExitsZero() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freeLoopbackPort()
        let adminPort = try freeLoopbackPort()
        let config = """
            {"listeners":[{"name":"http","address":"127.0.0.1:\(port)"}],
             "admin":{"address":"127.0.0.1:\(adminPort)"},
             "shutdown":{"drain_timeout":"10s"},
             "routes":[{"name":"create_item","match":{"path":"/items/","methods":["POST"]},"handler":"items"}]}
            """
        let configPath = directory.appendingPathComponent("gateway.json").path
        try Data(config.utf8).write(to: URL(fileURLWithPath: configPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: GatewayBinary.path)
        process.arguments = ["run", "--config", configPath]
        let stderrPath = directory.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: stderrPath.path, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: stderrPath)
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        var connection: RawConnection?
        for _ in 0..<100 where connection == nil {
            connection = try? RawConnection(port: port)
            if connection == nil { usleep(50_000) }
        }
        let client = try #require(connection)
        let body = #"{"name":"Foo","price":1.5}"#
        client.send("POST /items/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        client.send(String(body.prefix(10)))
        usleep(200_000)
        kill(process.processIdentifier, SIGTERM)
        usleep(300_000)
        #expect(process.isRunning, "the gateway waits for the in-flight request")
        #expect((try? RawConnection(port: port)) == nil, "new connections are refused while draining")
        client.send(String(body.dropFirst(10)))
        let answer = client.readToEnd()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"))
        #expect(answer.lowercased().contains("connection: close"))
        #expect(answer.hasSuffix(#"{"name":"Foo","description":null,"price":1.5,"tax":null}"#))
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let stderr = try String(contentsOf: stderrPath, encoding: .utf8)
        #expect(stderr.isEmpty, "nothing on stderr at shutdown: \(stderr)")
    }
}
