import GatewayConfig
import Testing

@Suite("The shipped gateway.json")
struct ShippedConfigurationTests {
    /// `<package>/gateway.json`, found from this file's location so the working directory does not matter.
    static let shippedPath: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)  // GatewayConfigTests/<file>, Tests
        return components.joined(separator: "/") + "/gateway.json"
    }()

    static var packageDirectory: String {
        String(shippedPath.dropLast("/gateway.json".count))
    }

    @Test func loadsWithTheDocumentedValues() throws {
        let configuration = try GatewayConfigurationLoader.load(contentsOf: Self.shippedPath)

        let listener = try #require(configuration.listeners.first)
        #expect(configuration.listeners.count == 1)
        #expect(listener.name == "https")
        #expect(listener.address == SocketAddressConfiguration(host: "0.0.0.0", port: 8443))
        let tls = try #require(listener.tls)
        #expect(tls.minVersion == .tls12)
        #expect(tls.sessionTickets)
        #expect(tls.handshakeTimeout == .seconds(10))
        #expect(tls.ciphers?.hasPrefix("ECDHE-") == true)
        #expect(tls.cipherSuites?.contains("TLS_AES_128_GCM_SHA256") == true)
        #expect(
            tls.certificates == [
                CertificateConfiguration(
                    name: "localhost",
                    certificatePath: Self.packageDirectory + "/certs/localhost.pem",
                    keyPath: Self.packageDirectory + "/certs/localhost-key.pem",
                    serverNames: ["localhost"],
                    generateIfMissing: true
                )
            ]
        )

        #expect(configuration.admin.address.description == "127.0.0.1:9901")
        #expect(configuration.http == HTTPConfiguration())
        #expect(configuration.accessLog.enabled)
        #expect(configuration.shutdown.drainTimeout == .seconds(10))
        #expect(configuration.reload == ReloadConfiguration(watch: true, debounce: .milliseconds(200)))
        #expect(configuration.eventLoops == 0)
        #expect(configuration.openAPI == OpenAPIConfiguration())
        #expect(
            configuration.routes == [
                RouteConfiguration(
                    name: "items",
                    match: RouteMatchConfiguration(path: .exact("/items/{item_id}"), methods: ["GET", "PUT"]),
                    handler: .items
                ),
                RouteConfiguration(
                    name: "create_item",
                    match: RouteMatchConfiguration(path: .exact("/items/"), methods: ["POST"]),
                    handler: .items
                ),
            ]
        )
    }

    @Test func fingerprintIsStableAndIgnoresFormatting() throws {
        let shipped = try GatewayConfigurationLoader.load(contentsOf: Self.shippedPath)
        #expect(shipped.fingerprint.count == 16)
        #expect(shipped.fingerprint.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(try GatewayConfigurationLoader.load(contentsOf: Self.shippedPath).fingerprint == shipped.fingerprint)

        // The canonical form loads back to the same configuration (and so the same fingerprint).
        let reloaded = try load(shipped.canonicalJSON, baseDirectory: Self.packageDirectory)
        #expect(reloaded == shipped)
        #expect(reloaded.fingerprint == shipped.fingerprint)

        // Spelling out a default changes nothing; changing a value changes the fingerprint.
        let minimal = try load(minimalDocument)
        let explicit = try load(
            #"{"routes": [], "event_loops": 0, "listeners": [{"address": "127.0.0.1:0", "name": "web"}]}"#
        )
        #expect(explicit.fingerprint == minimal.fingerprint)
        let different = try load(#"{"listeners": [{"name": "web", "address": "127.0.0.1:1"}], "routes": []}"#)
        #expect(different.fingerprint != minimal.fingerprint)
    }

    @Test func missingFileIsOneProblemAtRoot() {
        let path = "/nonexistent-directory/gateway.json"
        let error = #expect(throws: ConfigurationError.self) {
            try GatewayConfigurationLoader.load(contentsOf: path)
        }
        #expect(error?.file == path)
        #expect(
            error?.problems == [
                ConfigurationProblem(
                    path: "(root)",
                    message: "cannot read configuration file \"/nonexistent-directory/gateway.json\": no such file"
                )
            ]
        )
    }

    @Test func directoryIsNotAConfigurationFile() {
        let error = #expect(throws: ConfigurationError.self) {
            try GatewayConfigurationLoader.load(contentsOf: Self.packageDirectory)
        }
        #expect(error?.problems.first?.message.hasSuffix("it is a directory") == true)
    }
}
