import GatewayConfig
import Testing

@Suite("Defaults")
struct DefaultsTests {
    @Test func minimalDocumentGetsEveryDefault() throws {
        let configuration = try load(minimalDocument)
        #expect(
            configuration
                == GatewayConfiguration(
                    listeners: [
                        ListenerConfiguration(
                            name: "web",
                            address: SocketAddressConfiguration(host: "127.0.0.1", port: 0)
                        )
                    ],
                    routes: []
                )
        )
        #expect(configuration.listeners[0].tls == nil)
        #expect(configuration.admin.address == SocketAddressConfiguration(host: "127.0.0.1", port: 9901))
        #expect(configuration.http.maxHeaderBytes == 16384)
        #expect(configuration.http.maxBodyBytes == 1_048_576)
        #expect(configuration.http.idleTimeout == .seconds(60))
        #expect(configuration.http.requestHeadTimeout == .seconds(10))
        #expect(configuration.http.bodyTimeout == .seconds(60))
        #expect(configuration.accessLog.enabled == true)
        #expect(configuration.shutdown.drainTimeout == .seconds(10))
        #expect(configuration.reload.watch == true)
        #expect(configuration.reload.debounce == .milliseconds(200))
        #expect(configuration.eventLoops == 0)
    }

    @Test func emptySectionsGetDefaultsToo() throws {
        let configuration = try load(
            #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [],
             "admin": {}, "http": {"max_body_bytes": 0}, "access_log": {}, "shutdown": {}, "reload": {}}
            """#
        )
        #expect(configuration.admin == AdminConfiguration())
        #expect(configuration.http == HTTPConfiguration(maxBodyBytes: 0))
        #expect(configuration.accessLog == AccessLogConfiguration())
        #expect(configuration.shutdown == ShutdownConfiguration())
        #expect(configuration.reload == ReloadConfiguration())
    }

    @Test func reloadSection() throws {
        let configuration = try load(
            #"""
            {"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [],
             "reload": {"watch": false, "debounce": "1.5s"}}
            """#
        )
        #expect(configuration.reload == ReloadConfiguration(watch: false, debounce: .milliseconds(1500)))
        #expect(configuration.fingerprint != (try load(minimalDocument)).fingerprint)
    }

    @Test func tlsDefaults() throws {
        let configuration = try load(
            document(tls: #"{"certificates": [{"name": "c", "certificate": "c.pem", "key": "k.pem"}]}"#)
        )
        let tls = try #require(configuration.listeners[0].tls)
        #expect(tls.minVersion == .tls12)
        #expect(tls.ciphers == nil)
        #expect(tls.cipherSuites == nil)
        #expect(tls.sessionTickets == true)
        #expect(tls.handshakeTimeout == .seconds(10))
        #expect(tls.certificates[0].serverNames == [])
        #expect(tls.certificates[0].generateIfMissing == false)
    }

    @Test func schemaKeyIsAllowedAndIgnored() throws {
        let configuration = try load(
            #"{"$schema": "./gateway.schema.json", "listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": []}"#
        )
        #expect(configuration == (try load(minimalDocument)))
        #expect(
            problems(of: #"{"$schema": 1, "listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": []}"#)
                == ["$schema: expected a string"]
        )
    }

    @Test func relativeCertificatePathsResolveAgainstTheFileDirectory() throws {
        let tls = #"""
            {"certificates": [
              {"name": "a", "certificate": "certs/a.pem", "key": "./certs/../keys/a-key.pem"},
              {"name": "b", "certificate": "/srv/tls/b.pem", "key": "/srv/tls//b-key.pem", "server_names": ["B.Example.com", "*.example.com"]}
            ]}
            """#
        let configuration = try load(document(tls: tls), baseDirectory: "/opt/gw/conf")
        let certificates = try #require(configuration.listeners[0].tls?.certificates)
        #expect(certificates[0].certificatePath == "/opt/gw/conf/certs/a.pem")
        #expect(certificates[0].keyPath == "/opt/gw/conf/keys/a-key.pem")
        #expect(certificates[1].certificatePath == "/srv/tls/b.pem")
        #expect(certificates[1].keyPath == "/srv/tls/b-key.pem")
        #expect(certificates[1].serverNames == ["b.example.com", "*.example.com"])
    }

    @Test func routeFieldsAreNormalised() throws {
        let configuration = try load(
            document(
                routes: #"""
                    {"name": "a", "match": {"prefix": "/static/", "methods": ["GET", "HEAD", "GET"], "host": "API.Example.com"}, "handler": "items"},
                    {"name": "b", "match": {"path": "/", "host": "*.example.com"}, "handler": "items"}
                    """#
            )
        )
        #expect(
            configuration.routes[0].match
                == RouteMatchConfiguration(
                    path: .prefix("/static/"),
                    methods: ["GET", "HEAD"],
                    host: "api.example.com"
                )
        )
        #expect(
            configuration.routes[1].match
                == RouteMatchConfiguration(path: .exact("/"), methods: nil, host: "*.example.com")
        )
    }
}
