import Foundation
import GatewayTestSupport
import GatewayConfig
import GatewayCore
import GatewayTLS
import NIOCore
import NIOPosix
import Testing

/// Live reload: real files rewritten as editors and Kubernetes do, the admin
/// endpoint over HTTP, the file watcher, SIGHUP to the built binary,
/// certificates checked with `openssl s_client`, and requests on keep-alive
/// connections across reloads.
@Suite("Live reload end to end", .serialized)
struct ReloadEndToEndTests {
    static var otherRoute: [String: Any] {
        [
            "name": "other", "match": ["path": "/other/{item_id}", "methods": ["GET"]], "handler": "items",
        ]
    }

    @Test func adminReloadAddsARouteAndSaysWhatChanged() async throws {
        let gateway = try await TestGateway.start()
        #expect(try curl(gateway, "/other/1").code == 404)
        let before = gateway.server.configuration.fingerprint

        try gateway.rewrite { $0["routes"] = TestGateway.itemRoutes + [Self.otherRoute] }
        let started = ContinuousClock.now
        let answer = try await gateway.adminReload()
        // The answer comes once every event loop has the new state. The reload takes
        // milliseconds; the bound is loose for a CI machine busy with the other suites.
        #expect(ContinuousClock.now - started < .seconds(10))
        let fingerprint = gateway.server.configuration.fingerprint
        #expect(answer.code == 200)
        #expect(
            answer.body
                == #"{"status":"ok","fingerprint":"\#(fingerprint)","changes":["routes: updated (3 routes)"],"restart_required":[]}"#
        )
        #expect(try curl(gateway, "/other/7").body == #"{"item_id":7,"q":null}"#)

        let metrics = try gateway.scrape()
        #expect(metrics.contains(#"gateway_config_reloads_total{result="success"} 1"#))
        #expect(metrics.contains(#"gateway_config_reloads_total{result="failure"} 0"#))
        #expect(metrics.contains("gateway_config_last_reload_successful 1"))
        #expect(metrics.contains(#"gateway_config_info{fingerprint="\#(fingerprint)"} 1"#))
        #expect(!metrics.contains(before), "the old fingerprint's info series is removed")
        #expect(metrics.contains("gateway_config_last_reload_success_timestamp_seconds "))

        // Only POST reloads.
        let get = try run(
            "/usr/bin/curl",
            ["-sS", "-i", "http://127.0.0.1:\(gateway.adminPort)/-/reload"]
        ).stdout
        #expect(get.hasPrefix("HTTP/1.1 405"))
        #expect(get.lowercased().contains("allow: post"))
        await gateway.stop()
    }

    @Test func invalidFileChangesNothingAndListsEveryErrorWithItsPath() async throws {
        let gateway = try await TestGateway.start()
        let serving = gateway.server.configuration.fingerprint
        try gateway.rewrite(
            text: #"""
                {"listeners": [{"name": "https", "address": "127.0.0.1:0"}], "admin": {"adress": "x"},
                 "routes": [{"name": "items", "match": {"path": 5}, "handler": "items"}]}
                """#)
        let answer = try await gateway.adminReload()
        #expect(answer.code == 422)
        #expect(answer.body.hasPrefix(#"{"status":"failed","errors":["#))
        #expect(answer.body.contains(#"{"path":"admin.adress","message":"unknown key (did you mean \"address\"?)"}"#))
        #expect(answer.body.contains(#"{"path":"routes[0].match.path","message":"expected a string"}"#))

        // Broken JSON is one problem at the root, with line and column.
        try gateway.rewrite(text: #"{"listeners": [}"#)
        let broken = try await gateway.adminReload()
        #expect(broken.code == 422)
        #expect(broken.body.contains(#""path":"(root)""#))

        // The old configuration keeps serving, and the failures are counted.
        #expect(try curl(gateway, "/items/1").code == 200)
        #expect(gateway.server.configuration.fingerprint == serving)
        let metrics = try gateway.scrape()
        #expect(metrics.contains(#"gateway_config_reloads_total{result="failure"} 2"#))
        #expect(metrics.contains(#"gateway_config_reloads_total{result="success"} 0"#))
        #expect(metrics.contains("gateway_config_last_reload_successful 0"))
        #expect(metrics.contains(#"gateway_config_info{fingerprint="\#(serving)"} 1"#))
        try requirePromtool(metrics)
        await gateway.stop()
    }

    @Test func mismatchedKeyIsRefusedLikeAnyBadConfiguration() async throws {
        let gateway = try await TestGateway.start()
        // A second, valid certificate and key; then the first certificate with the second key.
        let certs = gateway.directory.appendingPathComponent("certs").path
        _ = try DevelopmentCertificates.ensure(
            caCertificatePath: certs + "/dev-ca.pem", caKeyPath: certs + "/dev-ca-key.pem",
            certificatePath: certs + "/other.pem", keyPath: certs + "/other-key.pem")
        try gateway.rewrite { document in
            document["listeners"] = [
                [
                    "name": "https", "address": "127.0.0.1:0",
                    "tls": [
                        "certificates": [
                            ["name": "localhost", "certificate": "certs/localhost.pem", "key": "certs/other-key.pem"]
                        ]
                    ],
                ]
            ]
        }
        let answer = try await gateway.adminReload()
        #expect(answer.code == 422)
        #expect(answer.body.contains(#""path":"listeners[0].tls.certificates[0]""#), "\(answer.body)")
        #expect(answer.body.contains("does not match"), "\(answer.body)")
        #expect(try curl(gateway, "/items/1").code == 200)
        await gateway.stop()
    }

    @Test func listenersAreBoundAndUnboundLive() async throws {
        let gateway = try await TestGateway.start()
        try gateway.rewrite { document in
            var listeners = document["listeners"] as! [[String: Any]]
            listeners.append(["name": "plain", "address": "127.0.0.1:0"])
            document["listeners"] = listeners
        }
        var answer = try await gateway.adminReload()
        #expect(answer.body.contains(#"listeners[1] \"plain\": added on 127.0.0.1:0"#), "\(answer.body)")
        let plainPort = try #require(gateway.server.listenerAddresses["plain"]?.port)
        let connection = try RawConnection(port: plainPort)
        connection.send("GET /items/3 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(connection.readResponse().hasSuffix(#"{"item_id":3,"q":null}"#))

        // Removing it closes its socket; its idle keep-alive connection is closed too.
        try gateway.rewrite { document in
            document["listeners"] = Array((document["listeners"] as! [[String: Any]]).prefix(1))
            document["admin"] = ["address": "127.0.0.1:1"]
        }
        answer = try await gateway.adminReload()
        #expect(answer.code == 200)
        #expect(answer.body.contains(#"listener \"plain\": removed; its connections drain"#), "\(answer.body)")
        #expect(answer.body.contains(#""restart_required":["admin.address"]"#), "\(answer.body)")
        #expect(connection.readToEnd() == "")
        #expect((try? RawConnection(port: plainPort)) == nil)
        #expect(try curl(gateway, "/items/1").code == 200)
        await gateway.stop()
    }

    /// A removed listener's busy connection (a body still arriving) may finish until
    /// `shutdown.drain_timeout`; then it is closed, not left to the body timeout.
    @Test func removedListenersBusyConnectionsCloseAtTheDrainDeadline() async throws {
        let gateway = try await TestGateway.start(
            plainListener: true, extra: ["shutdown": ["drain_timeout": "500ms"], "reload": ["watch": false]])
        let port = try #require(gateway.httpPort)
        // Keep a busy connection open across the reload, reading on a Dispatch thread.
        let connection = try RawConnection(port: port)
        connection.send("POST /items/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        try gateway.rewrite { document in
            document["listeners"] = (document["listeners"] as! [[String: Any]]).filter { $0["name"] as? String != "http" }
        }
        // Timed from before the reload: the drain deadline starts while the reload runs, and
        // its answer may come back late on a busy machine.
        let removedAt = Date()
        let reloaded = try await gateway.adminReload()
        #expect(reloaded.code == 200)
        let answer = try await offThePool { connection.readToEnd() }
        let closedAfter = Date().timeIntervalSince(removedAt)
        #expect(answer == "", "no answer: the request never completed")
        #expect(closedAfter >= 0.3 && closedAfter < 5, "closed at the 500 ms drain deadline, after \(closedAfter) s")
        await gateway.stop()
    }

    /// A Kubernetes secret mount: `tls.crt -> ..data/tls.crt`, `..data -> ..v1`, and an
    /// update writes `..v2` and renames a new `..data` symlink over the old one.
    @Test func certificateRotatedBySymlinkSwapIsServedOnNewConnections() async throws {
        let gateway = try await TestGateway.start(
            tls: [
                "certificates": [
                    [
                        "name": "localhost", "certificate": "tls/tls.crt", "key": "tls/tls.key",
                        "server_names": ["localhost"],
                    ]
                ]
            ],
            prepare: { directory in
                let tls = directory.appendingPathComponent("tls").path
                try Self.writeLeaf(in: directory, version: "..v1")
                try FileManager.default.createSymbolicLink(atPath: tls + "/..data", withDestinationPath: "..v1")
                try FileManager.default.createSymbolicLink(
                    atPath: tls + "/tls.crt", withDestinationPath: "..data/tls.crt")
                try FileManager.default.createSymbolicLink(
                    atPath: tls + "/tls.key", withDestinationPath: "..data/tls.key")
            })
        let tls = gateway.directory.appendingPathComponent("tls").path
        let first = try serial(ofFile: tls + "/..v1/tls.crt")
        #expect(try servedSerial(gateway) == first)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let established = try await KeepAliveClient.connect(
            group: group, port: gateway.httpsPort, caPath: gateway.caPath)
        #expect(try await established.get("/items/1").status == 200)

        try Self.writeLeaf(in: gateway.directory, version: "..v2")
        let second = try serial(ofFile: tls + "/..v2/tls.crt")
        #expect(first != second)
        try FileManager.default.createSymbolicLink(atPath: tls + "/..data_tmp", withDestinationPath: "..v2")
        #expect(rename(tls + "/..data_tmp", tls + "/..data") == 0)
        #expect(try await gateway.adminReload().body.contains("listeners[0].tls: certificates reloaded for new connections"))

        #expect(try await eventually { try servedSerial(gateway) == second }, "new connections get the new certificate")
        #expect(try await established.get("/items/2").status == 200, "the established connection keeps working")
        let metrics = try gateway.scrape()
        #expect(metrics.contains(#"gateway_config_reloads_total{result="success"} 1"#))

        await established.close()
        try await group.shutdownGracefully()
        await gateway.stop()
    }

    @Test func fileWatcherAppliesAnEditorsSave() async throws {
        let gateway = try await TestGateway.start(extra: ["reload": ["watch": true, "debounce": "50ms"]])
        let watcher = Task { try await ConfigurationWatcher(server: gateway.server).run() }
        try await Task.sleep(for: .milliseconds(300))

        try gateway.rewrite { $0["routes"] = TestGateway.itemRoutes + [Self.otherRoute] }
        let started = ContinuousClock.now
        let applied = try await eventually { gateway.server.configuration.routes.count == 3 }
        #expect(applied, "the edit is applied")
        #expect(ContinuousClock.now - started < .seconds(3), "applied within the debounce and a loaded machine's delay")
        #expect(try curl(gateway, "/other/1").code == 200)

        // Switched off by the file itself: the next edit is not applied.
        try gateway.rewrite { $0["reload"] = ["watch": false, "debounce": "50ms"] }
        #expect(try await eventually { gateway.server.configuration.reload.watch == false })
        try gateway.rewrite { $0["routes"] = TestGateway.itemRoutes }
        try await Task.sleep(for: .milliseconds(500))
        #expect(try curl(gateway, "/other/1").code == 200)
        #expect(try gateway.scrape().contains(#"gateway_config_reloads_total{result="success"} 2"#))

        watcher.cancel()
        _ = await watcher.result
        await gateway.stop()
    }

    /// The same swap, seen by the file watcher alone.
    @Test func fileWatcherFollowsAKubernetesSymlinkSwapOfCertificates() async throws {
        let gateway = try await TestGateway.start(
            tls: [
                "certificates": [
                    [
                        "name": "localhost", "certificate": "tls/tls.crt", "key": "tls/tls.key",
                        "server_names": ["localhost"],
                    ]
                ]
            ],
            extra: ["reload": ["watch": true, "debounce": "50ms"]],
            prepare: { directory in
                let tls = directory.appendingPathComponent("tls").path
                try Self.writeLeaf(in: directory, version: "..v1")
                try FileManager.default.createSymbolicLink(atPath: tls + "/..data", withDestinationPath: "..v1")
                try FileManager.default.createSymbolicLink(
                    atPath: tls + "/tls.crt", withDestinationPath: "..data/tls.crt")
                try FileManager.default.createSymbolicLink(
                    atPath: tls + "/tls.key", withDestinationPath: "..data/tls.key")
            })
        let watcher = Task { try await ConfigurationWatcher(server: gateway.server).run() }
        try await Task.sleep(for: .milliseconds(300))
        let tls = gateway.directory.appendingPathComponent("tls").path
        let first = try serial(ofFile: tls + "/..v1/tls.crt")
        #expect(try servedSerial(gateway) == first)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let established = try await KeepAliveClient.connect(
            group: group, port: gateway.httpsPort, caPath: gateway.caPath)
        #expect(try await established.get("/items/1").status == 200)

        try Self.writeLeaf(in: gateway.directory, version: "..v2")
        let second = try serial(ofFile: tls + "/..v2/tls.crt")
        #expect(first != second)
        try FileManager.default.createSymbolicLink(atPath: tls + "/..data_tmp", withDestinationPath: "..v2")
        #expect(rename(tls + "/..data_tmp", tls + "/..data") == 0)

        #expect(try await eventually { try servedSerial(gateway) == second }, "new connections get the new certificate")
        #expect(try await established.get("/items/2").status == 200, "the established connection keeps working")
        let metrics = try gateway.scrape()
        #expect(metrics.contains(#"gateway_config_reloads_total{result="success"} 1"#))

        await established.close()
        try await group.shutdownGracefully()
        watcher.cancel()
        _ = await watcher.result
        await gateway.stop()
    }

    /// Bounded load (keep-alive clients, plus a new TLS connection per request)
    /// while 50 admin reloads alternate two valid configurations.
    @Test func fiftyReloadsUnderLoadFailNoRequest() async throws {
        let gateway = try await TestGateway.start(extra: ["event_loops": 2])
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let probe = try await KeepAliveClient.connect(group: group, port: gateway.httpsPort, caPath: gateway.caPath)
        let stop = StopFlag()

        let load = Task {
            try await withThrowingTaskGroup(of: (ok: Int, failed: [String]).self) { tasks in
                for _ in 0..<4 {
                    tasks.addTask {
                        let client = try await KeepAliveClient.connect(
                            group: group, port: gateway.httpsPort, caPath: gateway.caPath)
                        var ok = 0
                        var failed: [String] = []
                        while !stop.isSet {
                            do {
                                let response = try await client.get("/items/1?q=load")
                                if response.status == 200 { ok += 1 } else { failed.append(response.head) }
                            } catch {
                                failed.append("\(error)")
                            }
                        }
                        await client.close()
                        return (ok, failed)
                    }
                }
                tasks.addTask {
                    var ok = 0
                    var failed: [String] = []
                    while !stop.isSet {
                        do {
                            let client = try await KeepAliveClient.connect(
                                group: group, port: gateway.httpsPort, caPath: gateway.caPath)
                            let response = try await client.get("/items/2")
                            if response.status == 200 { ok += 1 } else { failed.append(response.head) }
                            await client.close()
                        } catch {
                            failed.append("\(error)")
                        }
                    }
                    return (ok, failed)
                }
                var total = (ok: 0, failed: [String]())
                for try await result in tasks {
                    total.ok += result.ok
                    total.failed += result.failed
                }
                return total
            }
        }

        for round in 0..<50 {
            let withOther = round % 2 == 0
            try gateway.rewrite { document in
                document["routes"] = TestGateway.itemRoutes + (withOther ? [Self.otherRoute] : [])
                document["http"] = ["max_body_bytes": withOther ? 1000 : 2000]
            }
            let answer = try await gateway.adminReload()
            #expect(answer.code == 200, "round \(round): \(answer.body)")
            let status = try await probe.get("/other/1").status
            #expect(status == (withOther ? 200 : 404), "round \(round)")
        }
        stop.set()
        let result = try await load.value
        #expect(result.failed.isEmpty, "\(result.failed.count) failed: \(result.failed.prefix(3))")
        #expect(result.ok > 100, "the load kept going: \(result.ok) requests")
        #expect(try gateway.scrape().contains(#"gateway_config_reloads_total{result="success"} 50"#))

        await probe.close()
        try await group.shutdownGracefully()
        await gateway.stop()
    }

    // MARK: SIGHUP to the built binary

    @Test func sighupReloadsTheBinaryAndNoLongerEndsIt() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freeLoopbackPort()
        let adminPort = try freeLoopbackPort()
        func configuration(routes: String) -> String {
            """
            {"listeners":[{"name":"http","address":"127.0.0.1:\(port)"}],
             "admin":{"address":"127.0.0.1:\(adminPort)"}, "access_log":{"enabled":false},
             "reload":{"watch":false}, "event_loops":1,
             "routes":[\(routes)]}
            """
        }
        let items = #"{"name":"items","match":{"path":"/items/{item_id}","methods":["GET"]},"handler":"items"}"#
        let other = #"{"name":"other","match":{"path":"/other/{item_id}","methods":["GET"]},"handler":"items"}"#
        let configPath = directory.appendingPathComponent("gateway.json").path
        try Data(configuration(routes: items).utf8).write(to: URL(fileURLWithPath: configPath))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: GatewayBinary.path)
        process.arguments = ["run", "--config", configPath]
        let stdoutPath = directory.appendingPathComponent("stdout.txt")
        _ = FileManager.default.createFile(atPath: stdoutPath.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutPath)
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        func get(_ path: String) -> String? {
            guard let connection = try? RawConnection(port: port) else { return nil }
            connection.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            return connection.readResponse()
        }
        #expect(try await eventually { get("/items/1")?.hasPrefix("HTTP/1.1 200") == true })
        #expect(get("/other/1")?.hasPrefix("HTTP/1.1 404") == true)

        try Data(configuration(routes: items + "," + other).utf8).write(to: URL(fileURLWithPath: configPath))
        kill(process.processIdentifier, SIGHUP)
        let started = ContinuousClock.now
        #expect(try await eventually { get("/other/1")?.hasPrefix("HTTP/1.1 200") == true })
        #expect(ContinuousClock.now - started < .seconds(3), "applied within the debounce and a loaded machine's delay")

        // An invalid file on SIGHUP: logged, and the process serves on as before.
        try Data(#"{"listeners": []}"#.utf8).write(to: URL(fileURLWithPath: configPath))
        kill(process.processIdentifier, SIGHUP)
        #expect(
            try await eventually {
                (try? String(contentsOf: stdoutPath, encoding: .utf8))?.contains("configuration reload failed") == true
            })
        #expect(process.isRunning)
        #expect(get("/other/1")?.hasPrefix("HTTP/1.1 200") == true)
        let log = try String(contentsOf: stdoutPath, encoding: .utf8)
        #expect(log.contains(#""trigger":"SIGHUP""#))
        #expect(log.contains("listeners: must contain at least one listener"))

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    // MARK: Helpers

    /// Writes a new development leaf (signed by the test gateway's CA) into `tls/<version>/`.
    static func writeLeaf(in directory: URL, version: String) throws {
        let certs = directory.appendingPathComponent("certs").path
        let folder = directory.appendingPathComponent("tls/\(version)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        _ = try DevelopmentCertificates.ensure(
            caCertificatePath: certs + "/dev-ca.pem", caKeyPath: certs + "/dev-ca-key.pem",
            certificatePath: folder + "/tls.crt", keyPath: folder + "/tls.key")
    }
}

/// The serial number of the certificate the gateway serves to a new connection.
func servedSerial(_ gateway: TestGateway) throws -> String {
    let handshake = try run(
        "/usr/bin/openssl",
        [
            "s_client", "-connect", "127.0.0.1:\(gateway.httpsPort)", "-servername", "localhost",
            "-CAfile", gateway.caPath, "-verify_return_error",
        ],
        input: Data())
    return try run("/usr/bin/openssl", ["x509", "-noout", "-serial"], input: Data(handshake.stdout.utf8)).stdout
}

func serial(ofFile path: String) throws -> String {
    try run("/usr/bin/openssl", ["x509", "-noout", "-serial", "-in", path]).stdout
}

func requirePromtool(_ metrics: String) throws {
    let promtool = "/usr/bin/promtool"
    try #require(
        FileManager.default.isExecutableFile(atPath: promtool), "promtool (Debian package prometheus) is needed")
    let check = try run(promtool, ["check", "metrics"], input: Data(metrics.utf8))
    #expect(check.status == 0, "promtool: \(check.stdout) \(check.stderr)")
}

/// Polls `condition` every 20 ms for up to 3 s.
func eventually(_ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(3)
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { self.lock.withLock { self.value } }
    func set() { self.lock.withLock { self.value = true } }
}
