import Testing

@testable import GatewayConfig

@Suite("Durations")
struct DurationTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("1.5s", .milliseconds(1500)),
        ("10s", .seconds(10)),
        ("2m", .seconds(120)),
        ("1h", .seconds(3600)),
        ("0.1s", .milliseconds(100)),
        ("0.5ms", .microseconds(500)),
        ("1.25m", .seconds(75)),
        ("0.000000001s", .nanoseconds(1)),
    ])
    func parses(text: String, expected: Duration) throws {
        #expect(try DurationSyntax.parse(text) == expected)
        // And through the file.
        let configuration = try load(
            #"{"listeners": [{"name": "w", "address": "127.0.0.1:0"}], "routes": [], "shutdown": {"drain_timeout": "\#(text)"}}"#
        )
        #expect(configuration.shutdown.drainTimeout == expected)
    }

    @Test(arguments: ["10", "s", "1.s", ".5s", "1,5s", "10 s", " 10s", "10sec", "1d", "-1s", "+1s", "1e3ms", ""])
    func rejectsMalformed(text: String) {
        #expect(throws: InvalidValue.self) { try DurationSyntax.parse(text) }
    }

    @Test(arguments: ["0s", "0ms", "0.0h", "0.000000000000000001ms"])
    func rejectsZero(text: String) {
        #expect(throws: InvalidValue("duration must be greater than 0, got \"\(text)\"")) {
            try DurationSyntax.parse(text)
        }
    }

    @Test func rejectsHuge() {
        #expect(throws: InvalidValue("duration \"999999999999999999h\" is out of range")) {
            try DurationSyntax.parse("999999999999999999h")
        }
    }

    @Test func rejectsTooPrecise() {
        #expect(throws: InvalidValue("duration \"0.0000000000000000001s\" has more than 18 decimal places")) {
            try DurationSyntax.parse("0.0000000000000000001s")
        }
    }

    @Test(arguments: ["1.5s", "10s", "0.25s", "0.000000001s", "7200s"])
    func renderRoundTrips(text: String) throws {
        let duration = try DurationSyntax.parse(text)
        #expect(DurationSyntax.render(duration) == text)
    }
}

@Suite("Socket addresses")
struct SocketAddressTests {
    @Test(arguments: [
        ("0.0.0.0:8443", "0.0.0.0", 8443),
        ("127.0.0.1:0", "127.0.0.1", 0),
        ("localhost:65535", "localhost", 65535),
        ("Gateway.Example.COM:80", "gateway.example.com", 80),
        ("[::]:8443", "::", 8443),
        ("[::1]:9901", "::1", 9901),
        ("[2001:DB8::42]:443", "2001:db8::42", 443),
        ("[::ffff:10.0.0.1]:80", "::ffff:10.0.0.1", 80),
        ("[1:2:3:4:5:6:7:8]:1", "1:2:3:4:5:6:7:8", 1),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let address = try SocketAddressConfiguration.parse(text)
        #expect(address == SocketAddressConfiguration(host: host, port: port))
        #expect(SocketAddressConfiguration(parsing: text) == address)
    }

    @Test func descriptionBracketsIPv6() {
        #expect(SocketAddressConfiguration(host: "::1", port: 8443).description == "[::1]:8443")
        #expect(SocketAddressConfiguration(host: "127.0.0.1", port: 80).description == "127.0.0.1:80")
    }

    @Test(arguments: [
        ("8443", #"expected host:port (e.g. "0.0.0.0:8443" or "[::1]:8443"), got "8443""#),
        (
            ":8443",
            #"expected host:port (e.g. "0.0.0.0:8443" or "[::1]:8443"), got ":8443" (use "0.0.0.0" or "[::]" for all interfaces)"#
        ),
        (
            "*:8443",
            #"expected host:port (e.g. "0.0.0.0:8443" or "[::1]:8443"), got "*:8443" (use "0.0.0.0" or "[::]" for all interfaces)"#
        ),
        (
            "::1:8443",
            #"expected host:port (e.g. "0.0.0.0:8443" or "[::1]:8443"), got "::1:8443" (write IPv6 addresses in brackets, e.g. "[::1]:8443")"#
        ),
        ("[::1]", #"expected host:port (e.g. "0.0.0.0:8443" or "[::1]:8443"), got "[::1]""#),
        ("[::1:80", #"expected host:port (e.g. "0.0.0.0:8443" or "[::1]:8443"), got "[::1:80""#),
        ("[1:2:3:4:5:6:7:8:9]:80", #"invalid IPv6 address "[1:2:3:4:5:6:7:8:9]" in "[1:2:3:4:5:6:7:8:9]:80""#),
        ("[1::2::3]:80", #"invalid IPv6 address "[1::2::3]" in "[1::2::3]:80""#),
        ("[127.0.0.1]:80", #"invalid IPv6 address "[127.0.0.1]" in "[127.0.0.1]:80""#),
        ("localhost:65536", #"invalid port "65536" in "localhost:65536" (expected 0-65535)"#),
        ("localhost:", #"invalid port "" in "localhost:" (expected 0-65535)"#),
        ("localhost:-1", #"invalid port "-1" in "localhost:-1" (expected 0-65535)"#),
        ("localhost:http", #"invalid port "http" in "localhost:http" (expected 0-65535)"#),
        (
            "300.1.1.1:80",
            #"invalid host "300.1.1.1" in "300.1.1.1:80" (expected an IPv4 or IPv6 address or a host name)"#
        ),
        ("my_host:80", #"invalid host "my_host" in "my_host:80" (expected an IPv4 or IPv6 address or a host name)"#),
        (
            "-bad.example:80",
            #"invalid host "-bad.example" in "-bad.example:80" (expected an IPv4 or IPv6 address or a host name)"#
        ),
    ])
    func rejects(text: String, message: String) {
        #expect(throws: InvalidValue(message)) { try SocketAddressConfiguration.parse(text) }
        #expect(SocketAddressConfiguration(parsing: text) == nil)
    }

    @Test func adminAddressThroughTheFile() throws {
        let configuration = try load(
            #"{"listeners": [{"name": "w", "address": "[::1]:0"}], "routes": [], "admin": {"address": "[::1]:9902"}}"#
        )
        #expect(configuration.listeners[0].address == SocketAddressConfiguration(host: "::1", port: 0))
        #expect(configuration.admin.address == SocketAddressConfiguration(host: "::1", port: 9902))
    }
}

@Suite("Path templates")
struct PathTemplateTests {
    @Test func segments() {
        #expect(PathTemplateSegment.segments(of: "/") == [.literal("")])
        #expect(PathTemplateSegment.segments(of: "/items") == [.literal("items")])
        #expect(PathTemplateSegment.segments(of: "/items/") == [.literal("items"), .literal("")])
        #expect(PathTemplateSegment.segments(of: "/items/{item_id}") == [.literal("items"), .parameter("item_id")])
        #expect(
            PathTemplateSegment.segments(of: "/a/{x}/b/{y}")
                == [.literal("a"), .parameter("x"), .literal("b"), .parameter("y")]
        )
    }

    @Test func parameterNames() {
        #expect(PathPattern.exact("/users/{user_id}/orders/{order_id}").parameterNames == ["user_id", "order_id"])
        #expect(PathPattern.exact("/items/").parameterNames == [])
        #expect(PathPattern.prefix("/static/").parameterNames == [])
        #expect(PathPattern.prefix("/static/").segments == [.literal("static"), .literal("")])
        #expect(PathPattern.prefix("/static/").template == "/static/")
    }

    @Test(arguments: ["/", "/items", "/items/", "/items/{item_id}", "/{_a1}/{B}", "/a-b/c.d/~e"])
    func validExactPaths(template: String) {
        #expect(PathPattern.validateExact(template) == nil)
    }

    @Test(arguments: [
        "", "items", "/a//b", "/{}", "/{a", "/a}", "/x{a}", "/{a-b}", "/{9}", "/{a}/{a}", "/a b", "/a?x", "/a#f",
    ])
    func invalidExactPaths(template: String) {
        #expect(PathPattern.validateExact(template) != nil)
    }
}
