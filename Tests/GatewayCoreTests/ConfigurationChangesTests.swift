import Foundation
import GatewayConfig
import Testing

@testable import GatewayCore

@Suite("What a reload changes")
struct ConfigurationChangesTests {
    static func configuration(_ json: String) throws -> GatewayConfiguration {
        try GatewayConfigurationLoader.load(data: Array(json.utf8), baseDirectory: "/etc/gateway")
    }

    static let base = try! configuration(
        #"""
        {"listeners": [{"name": "a", "address": "127.0.0.1:8001"}, {"name": "b", "address": "127.0.0.1:8002"}],
         "routes": []}
        """#)

    @Test func nothingChanged() {
        let changes = ConfigurationChanges(from: Self.base, to: Self.base)
        #expect(changes.descriptions == [])
        #expect(changes.restartRequired == [])
        #expect(changes.listenersToBind == [])
        #expect(changes.listenersToUnbind == [])
        #expect(changes.listenersToKeep.map(\.name) == ["a", "b"])
    }

    @Test func openAPIOnChangedAndOff() throws {
        func with(_ openAPI: String) throws -> GatewayConfiguration {
            try Self.configuration(
                #"{"listeners": [{"name": "a", "address": "127.0.0.1:8001"}, {"name": "b", "address": "127.0.0.1:8002"}], "openapi": \#(openAPI), "routes": []}"#
            )
        }
        let on = try with("{}")
        #expect(ConfigurationChanges(from: Self.base, to: on).descriptions == ["openapi: updated (served from the next request)"])
        #expect(ConfigurationChanges(from: on, to: on).descriptions == [])
        #expect(
            ConfigurationChanges(from: on, to: try with(#"{"title": "x"}"#)).descriptions == [
                "openapi: updated (served from the next request)"
            ])
        #expect(ConfigurationChanges(from: on, to: Self.base).descriptions == ["openapi: no longer served"])
    }

    @Test func listenersAddedMovedAndRemoved() throws {
        let new = try Self.configuration(
            #"""
            {"listeners": [{"name": "a", "address": "127.0.0.1:9001"}, {"name": "c", "address": "127.0.0.1:8003"}],
             "routes": []}
            """#)
        let changes = ConfigurationChanges(from: Self.base, to: new)
        #expect(changes.listenersToBind.map(\.name) == ["a", "c"])
        #expect(changes.listenersToUnbind == ["a", "b"])
        #expect(changes.listenersToKeep == [])
        #expect(
            changes.descriptions == [
                #"listeners[0] "a": moved from 127.0.0.1:8001 to 127.0.0.1:9001"#,
                #"listeners[1] "c": added on 127.0.0.1:8003"#,
                #"listener "b": removed; its connections drain"#,
            ])
    }

    @Test func restartRequiredForAdminAddressAndEventLoops() throws {
        var new = Self.base
        new.admin.address = SocketAddressConfiguration(host: "127.0.0.1", port: 9999)
        new.eventLoops = 3
        new.accessLog.enabled = false
        let changes = ConfigurationChanges(from: Self.base, to: new)
        #expect(changes.restartRequired == ["admin.address", "event_loops"])
        #expect(
            changes.descriptions == [
                "access_log: disabled",
                "admin.address: restart required (still serving on 127.0.0.1:9901)",
                "event_loops: restart required (still running 0)",
            ])
    }

    @Test func certificateRotationIsReportedForKeptListeners() throws {
        let tls = try Self.configuration(
            #"""
            {"listeners": [{"name": "a", "address": "127.0.0.1:8001",
                            "tls": {"certificates": [{"name": "c", "certificate": "c.pem", "key": "k.pem"}]}}],
             "routes": []}
            """#)
        #expect(
            ConfigurationChanges(from: tls, to: tls, rotatedCertificates: ["a"]).descriptions
                == ["listeners[0].tls: certificates reloaded for new connections"])
        var newer = tls
        newer.listeners[0].tls?.sessionTickets = false
        #expect(
            ConfigurationChanges(from: tls, to: newer).descriptions == ["listeners[0].tls: updated for new connections"]
        )
        var plain = tls
        plain.listeners[0].tls = nil
        #expect(
            ConfigurationChanges(from: tls, to: plain).descriptions
                == [#"listeners[0] "a": TLS turned off for new connections"#])
    }

    @Test func keysAreDescribedByNameNeverByValue() throws {
        let keys = #"""
            {"listeners": [{"name": "a", "address": "127.0.0.1:8001"}, {"name": "b", "address": "127.0.0.1:8002"}],
             "api_keys": {"k": "0123456789abcdef-one"}, "routes": []}
            """#
        let before = try Self.configuration(keys)
        let after = try Self.configuration(keys.replacingOccurrences(of: "-one", with: "-two"))
        let changes = ConfigurationChanges(from: before, to: after, changedKeyFiles: ["jwks.main.file"])
        #expect(changes.descriptions == ["api_keys: updated (1 key)", "jwks.main.file: reloaded"])
        #expect(ConfigurationChanges(from: before, to: before).descriptions == [])
    }
}
