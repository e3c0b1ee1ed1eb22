import GatewayConfig
import NIOCore
import NIOHTTP1
import Testing

@testable import GatewayProxy

private func route(
    _ match: PathPattern, rewrite: PathRewrite = .none, request: HeaderRules = HeaderRules(),
    response: HeaderRules = HeaderRules()
) -> ProxyRoute {
    let group = UpstreamGroup(
        configuration: UpstreamConfiguration(
            name: "backend",
            targets: [UpstreamTargetConfiguration(address: SocketAddressConfiguration(host: "10.0.0.1", port: 9000))]))
    return ProxyRoute(
        configuration: RouteProxyConfiguration(
            upstream: "backend", pathRewrite: rewrite, requestHeaders: request, responseHeaders: response),
        match: match, group: group, upstreamIndex: 0)
}

@Suite("Proxy paths and headers")
struct ProxyHeadersTests {
    @Test func pathRewrites() {
        #expect(route(.prefix("/api/")).upstreamTarget(path: "/api/users", query: "a=1") == "/api/users?a=1")
        #expect(
            route(.prefix("/api/"), rewrite: .stripPrefix).upstreamTarget(path: "/api/users", query: nil) == "/users")
        #expect(route(.prefix("/api/"), rewrite: .stripPrefix).upstreamTarget(path: "/api/", query: "q") == "/?q")
        #expect(route(.prefix("/api"), rewrite: .stripPrefix).upstreamTarget(path: "/api/x", query: nil) == "/x")
        #expect(route(.prefix("/api"), rewrite: .stripPrefix).upstreamTarget(path: "/apix", query: nil) == "/x")
        #expect(
            route(.prefix("/api/"), rewrite: .replace("/v2/")).upstreamTarget(path: "/api/users", query: nil)
                == "/v2/users")
        #expect(
            route(.exact("/health"), rewrite: .replace("/status")).upstreamTarget(path: "/health", query: "x")
                == "/status?x")
    }

    /// A body the gateway collected (and maybe inflated) goes up with its own length.
    @Test func wholeBodyFraming() {
        var chunked = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/x")
        chunked.headers.add(name: "transfer-encoding", value: "chunked")
        chunked.headers.add(name: "content-encoding", value: "gzip")
        var inflated = chunked
        ProxyRoute.frameWholeBody(&inflated, length: 300, decoded: true, clientSentBody: true)
        #expect(inflated.headers["transfer-encoding"].isEmpty)
        #expect(inflated.headers["content-encoding"].isEmpty)
        #expect(inflated.headers["content-length"] == ["300"])
        var kept = chunked
        ProxyRoute.frameWholeBody(&kept, length: 0, decoded: false, clientSentBody: true)
        #expect(kept.headers["content-encoding"] == ["gzip"])
        #expect(kept.headers["content-length"] == ["0"], "an empty body that was sent stays a body")
        var sized = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/x")
        sized.headers.add(name: "content-length", value: "40")
        ProxyRoute.frameWholeBody(&sized, length: 120, decoded: true, clientSentBody: true)
        #expect(sized.headers["content-length"] == ["120"])
        var none = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/x")
        ProxyRoute.frameWholeBody(&none, length: 0, decoded: false, clientSentBody: false)
        #expect(none.headers["content-length"].isEmpty, "a request without a body gets none")
    }

    @Test func requestHeadForTheUpstream() {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "api.example.com")
        headers.add(name: "Connection", value: "keep-alive, X-Trace")
        headers.add(name: "X-Trace", value: "1")
        headers.add(name: "Keep-Alive", value: "timeout=5")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        headers.add(name: "Expect", value: "100-continue")
        headers.add(name: "X-Forwarded-For", value: "198.51.100.1")
        headers.add(name: "X-Forwarded-For", value: "198.51.100.2")
        headers.add(name: "Forwarded", value: "for=198.51.100.1")
        headers.add(name: "X-Forwarded-Proto", value: "http")
        headers.add(name: "X-Request-Id", value: "spoofed")
        headers.add(name: "Cookie", value: "a=b")
        headers.add(name: "Accept", value: "*/*")
        let client = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/api/x", headers: headers)
        let head = route(
            .prefix("/api/"),
            request: HeaderRules(set: [HeaderField(name: "host", value: "internal")], remove: ["cookie"])
        ).upstreamHead(
            client: client, target: "/x", clientIP: "2001:db8::1", scheme: "https", requestID: "rid", trustForwarded: true, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(head.uri == "/x")
        #expect(head.version == .http1_1)
        let h = head.headers
        #expect(h["connection"].isEmpty && h["keep-alive"].isEmpty && h["x-trace"].isEmpty && h["expect"].isEmpty)
        #expect(h["cookie"].isEmpty)
        #expect(h["host"] == ["internal"])
        // A trusted peer's chain is continued and its original scheme passed on.
        #expect(h["x-forwarded-for"] == ["198.51.100.1, 198.51.100.2, 2001:db8::1"])
        #expect(h["x-forwarded-proto"] == ["http"])
        #expect(h["x-forwarded-host"] == ["api.example.com"])
        #expect(h["forwarded"] == [#"for=198.51.100.1, for="[2001:db8::1]";proto=https;host=api.example.com"#])
        #expect(h["x-request-id"] == ["rid"])
        #expect(h["transfer-encoding"] == ["chunked"], "a chunked client body stays chunked upstream")
        #expect(h["accept"] == ["*/*"])
    }

    /// From a peer that is not a trusted proxy, forwarding headers are replaced, not continued.
    @Test func untrustedPeersCannotForgeForwardingHeaders() {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "api.example.com")
        headers.add(name: "X-Forwarded-For", value: "198.51.100.1")
        headers.add(name: "Forwarded", value: "for=198.51.100.1")
        headers.add(name: "X-Forwarded-Proto", value: "http")
        headers.add(name: "X-Forwarded-Host", value: "evil.example")
        let client = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/x", headers: headers)
        let h = route(.prefix("/api/")).upstreamHead(
            client: client, target: "/x", clientIP: "192.0.2.7", scheme: "https", requestID: "rid",
            trustForwarded: false, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        ).headers
        #expect(h["x-forwarded-for"] == ["192.0.2.7"])
        #expect(h["forwarded"] == ["for=192.0.2.7;proto=https;host=api.example.com"])
        #expect(h["x-forwarded-proto"] == ["https"])
        #expect(h["x-forwarded-host"] == ["api.example.com"])
    }

    @Test func hostIsAddedForHTTP10Clients() {
        let client = HTTPRequestHead(version: .http1_0, method: .GET, uri: "/", headers: HTTPHeaders())
        let head = route(.prefix("/")).upstreamHead(
            client: client, target: "/", clientIP: nil, scheme: "http", requestID: "r", trustForwarded: false,
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(head.headers["host"] == ["10.0.0.1:9000"])
        #expect(head.headers["x-forwarded-for"] == ["unknown"])
    }

    @Test func responseHeadAndFraming() {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "Connection", value: "X-Hop")
        headers.add(name: "X-Hop", value: "1")
        headers.add(name: "Keep-Alive", value: "timeout=5")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        headers.add(name: "Server", value: "upstream")
        headers.add(name: "X-Request-Id", value: "theirs")
        let head = HTTPResponseHead(version: .http1_1, status: .created, headers: headers)
        #expect(ProxyResponseWriter.framing(for: head, method: .GET, clientVersion: .http1_1) == .chunked)
        #expect(ProxyResponseWriter.framing(for: head, method: .GET, clientVersion: .http1_0) == .untilClose)
        #expect(
            ProxyResponseWriter.framing(for: head, method: .HEAD, clientVersion: .http1_1)
                == ProxyResponseWriter.Framing.none)
        let bytes = ProxyResponseWriter.serializeHead(
            head, framing: .chunked, connection: .keepAlive, requestID: "rid",
            rules: HeaderRules(add: [HeaderField(name: "x-gw", value: "1")], remove: ["server"]))
        #expect(
            String(buffer: bytes)
                == "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nx-gw: 1\r\ntransfer-encoding: chunked\r\nx-request-id: rid\r\n\r\n"
        )

        var sized = HTTPHeaders()
        sized.add(name: "content-length", value: "5")
        let lengthHead = HTTPResponseHead(version: .http1_0, status: .ok, headers: sized)
        #expect(ProxyResponseWriter.framing(for: lengthHead, method: .GET, clientVersion: .http1_0) == .contentLength)
        let closing = ProxyResponseWriter.serializeHead(
            lengthHead, framing: .contentLength, connection: .close, requestID: nil, rules: HeaderRules())
        #expect(String(buffer: closing) == "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\n")
    }

    @Test func chunkFraming() {
        let allocator = ByteBufferAllocator()
        #expect(
            String(buffer: ProxyResponseWriter.chunkHeader(size: 8000, afterChunk: false, allocator: allocator))
                == "1f40\r\n")
        #expect(
            String(buffer: ProxyResponseWriter.chunkHeader(size: 1, afterChunk: true, allocator: allocator))
                == "\r\n1\r\n")
        #expect(
            String(buffer: ProxyResponseWriter.lastChunk(afterChunk: true)) == "\r\n0\r\n\r\n")
        #expect(String(buffer: ProxyResponseWriter.lastChunk(afterChunk: false)) == "0\r\n\r\n")
    }

    /// A chunk framed in place is `chunkHeader` followed by the bytes, one hex digit or many.
    @Test(arguments: [1, 15, 16, 255, 8000, 65536])
    func chunkFramedInPlace(_ size: Int) {
        for afterChunk in [false, true] {
            let header = ProxyResponseWriter.chunkHeader(size: size, afterChunk: afterChunk, allocator: ByteBufferAllocator())
            var buffer = ByteBufferAllocator().buffer(capacity: ProxyResponseWriter.chunkHeaderRoom + size)
            buffer.moveWriterIndex(forwardBy: ProxyResponseWriter.chunkHeaderRoom)
            buffer.moveReaderIndex(forwardBy: ProxyResponseWriter.chunkHeaderRoom)
            buffer.writeRepeatingByte(UInt8(ascii: "x"), count: size)
            ProxyResponseWriter.frameAsChunk(&buffer, afterChunk: afterChunk)
            #expect(String(buffer: buffer) == String(buffer: header) + String(repeating: "x", count: size))
        }
    }

    @Test func groupsAreReusedWhenUnchanged() throws {
        let a = UpstreamConfiguration(
            name: "a",
            targets: [UpstreamTargetConfiguration(address: SocketAddressConfiguration(host: "10.0.0.1", port: 1))])
        var b = a
        b.name = "b"
        let first = try UpstreamGroups.compile([a, b])
        var changed = b
        changed.maxConnectionsPerLoop = 1
        let second = try UpstreamGroups.compile([a, changed], reusing: first)
        #expect(second.byName["a"] === first.byName["a"])
        #expect(second.byName["b"] !== first.byName["b"])
    }

    @Test func changedGroupRefersToTheOneItReplacesForOneGeneration() throws {
        func target(_ port: Int) -> UpstreamTargetConfiguration {
            UpstreamTargetConfiguration(address: SocketAddressConfiguration(host: "10.0.0.1", port: port))
        }
        let one = UpstreamConfiguration(name: "a", targets: [target(1)])
        var two = one
        two.targets.append(target(2))
        let first = try UpstreamGroups.compile([one])
        #expect(first.byName["a"]?.replacedGroup == nil)
        let second = try UpstreamGroups.compile([two], reusing: first)
        // A target added: a new group, which adopts the old group's idle connections to 10.0.0.1:1.
        #expect(second.byName["a"] !== first.byName["a"])
        #expect(second.byName["a"]?.replacedGroup === first.byName["a"])
        // Replaced again before adopting: only the latest predecessor is kept, no chain.
        var three = two
        three.targets.removeFirst()
        let third = try UpstreamGroups.compile([three], reusing: second)
        #expect(third.byName["a"]?.replacedGroup === second.byName["a"])
        #expect(second.byName["a"]?.replacedGroup == nil)
        // Unchanged: the same group.
        let fourth = try UpstreamGroups.compile([three], reusing: third)
        #expect(fourth.byName["a"] === third.byName["a"])
    }
}

@Suite("W3C trace context")
struct TraceContextTests {
    @Test func validatesTraceparent() {
        #expect(TraceContext.isValid("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
        #expect(!TraceContext.isValid("00-00000000000000000000000000000000-b7ad6b7169203331-01"))
        #expect(!TraceContext.isValid("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"))
        #expect(!TraceContext.isValid("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"))
        #expect(!TraceContext.isValid("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
        #expect(!TraceContext.isValid("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"))
        #expect(TraceContext.isValid("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"))
        #expect(!TraceContext.isValid("garbage"))
    }

    @Test func startedTracesAreValidAndDistinct() {
        var random = Xoshiro256()
        let first = TraceContext.start(using: &random)
        let second = TraceContext.start(using: &random)
        #expect(TraceContext.isValid(first) && TraceContext.isValid(second))
        #expect(first != second)
        #expect(first.hasSuffix("-01"))
    }

    @Test func theClientsTraceGoesOnWithItsStateOrANewOneStartsWithout() {
        let valid = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        var headers = HTTPHeaders()
        headers.add(name: "traceparent", value: valid)
        headers.add(name: "tracestate", value: "vendor=1")
        let client = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers)
        let kept = route(.prefix("/")).upstreamHead(
            client: client, target: "/", clientIP: nil, scheme: "http", requestID: "r", trustForwarded: false,
            traceparent: valid
        ).headers
        #expect(kept["traceparent"] == [valid])
        #expect(kept["tracestate"] == ["vendor=1"])
        let started = "00-11111111111111111111111111111111-2222222222222222-01"
        let replaced = route(.prefix("/")).upstreamHead(
            client: client, target: "/", clientIP: nil, scheme: "http", requestID: "r", trustForwarded: false,
            traceparent: started
        ).headers
        #expect(replaced["traceparent"] == [started])
        #expect(replaced["tracestate"].isEmpty)
    }

    /// One connection's memo gives each request the element of its own host and IP.
    @Test func theForwardedMemoFollowsTheHostAndClient() {
        var memo = ForwardedElementMemo()
        func forwarded(host: String, ip: String) -> [String] {
            var headers = HTTPHeaders()
            headers.add(name: "host", value: host)
            let client = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers)
            return route(.prefix("/")).upstreamHead(
                client: client, target: "/", clientIP: ip, scheme: "https", requestID: "r", trustForwarded: false,
                traceparent: "t", forwarded: &memo
            ).headers["forwarded"]
        }
        #expect(forwarded(host: "a.example", ip: "10.0.0.1") == ["for=10.0.0.1;proto=https;host=a.example"])
        #expect(forwarded(host: "a.example", ip: "10.0.0.1") == ["for=10.0.0.1;proto=https;host=a.example"])
        #expect(forwarded(host: "b.example:8443", ip: "10.0.0.1") == [#"for=10.0.0.1;proto=https;host="b.example:8443""#])
        #expect(forwarded(host: "b.example:8443", ip: "::1") == [#"for="[::1]";proto=https;host="b.example:8443""#])
    }

    @Test func connectionTokensAreTrimmedLowercasedAndSkipCloseAndKeepAlive() {
        var headers = HTTPHeaders()
        headers.add(name: "Connection", value: " Keep-Alive ,X-One,\tX-Two\t")
        headers.add(name: "connection", value: "CLOSE, , x-three")
        headers.add(name: "Host", value: "example")
        #expect(ProxyHeaders.connectionTokens(headers) == ["x-one", "x-two", "x-three"])
        #expect(ProxyHeaders.connectionTokens(HTTPHeaders([("Connection", "keep-alive")])).isEmpty)
    }
}
