import Foundation
import Testing

/// A response as it came over the wire (curl without decoding): status, fields, raw body.
private struct RawResponse {
    var code: Int
    /// Lowercased names; every value of each.
    var headers: [String: [String]]
    var bodyPath: String
    var body: Data

    func header(_ name: String) -> String? { self.headers[name]?.joined(separator: ", ") }

    /// The body inflated by Python's gzip module and by `gzip -dc`; both must agree.
    func gunzipped() throws -> String {
        let python = try run(
            "/usr/bin/python3",
            ["-c", "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(open(sys.argv[1],'rb').read()))", bodyPath])
        #expect(python.status == 0, "python gzip: \(python.stderr)")
        let gzip = try run("/bin/gzip", ["-dc", bodyPath])
        #expect(gzip.status == 0, "gzip -d: \(gzip.stderr)")
        #expect(gzip.stdout == python.stdout)
        return python.stdout
    }
}

private func fetch(_ gateway: TestGateway, _ path: String, _ extra: [String] = []) throws -> RawResponse {
    let directory = gateway.directory
    let name = UUID().uuidString
    let headerPath = directory.appendingPathComponent("\(name).headers").path
    let bodyPath = directory.appendingPathComponent("\(name).body").path
    let result = try run(
        "/usr/bin/curl",
        ["-sS", "--cacert", gateway.caPath, "--max-time", "10", "-D", headerPath, "-o", bodyPath, "-w", "%{http_code}"]
            + extra + [gateway.url(path)])
    var headers: [String: [String]] = [:]
    let head = (try? String(contentsOfFile: headerPath, encoding: .utf8)) ?? ""
    for line in head.split(separator: "\r\n").dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        headers[name, default: []].append(value)
    }
    let body = (try? Data(contentsOf: URL(fileURLWithPath: bodyPath))) ?? Data()
    return RawResponse(code: Int(result.stdout) ?? 0, headers: headers, bodyPath: bodyPath, body: body)
}

/// Counts zlib's sync-flush markers (an empty stored block, `00 00 ff ff`).
private func syncFlushes(in data: Data) -> Int {
    let bytes = [UInt8](data)
    guard bytes.count >= 4 else { return 0 }
    return (0...(bytes.count - 4)).filter { bytes[$0] == 0 && bytes[$0 + 1] == 0 && bytes[$0 + 2] == 0xff && bytes[$0 + 3] == 0xff }
        .count
}

private let gzipHeader = ["-H", "Accept-Encoding: gzip"]

@Suite("Response compression end to end", .serialized)
struct CompressionEndToEndTests {
    /// `/api/` proxied with the default compression; `/items/…` built in, compressing from 10 bytes.
    private static func start(_ upstream: ProxyTestUpstream) async throws -> TestGateway {
        try await TestGateway.start(
            routes: [
                ["name": "api", "match": ["prefix": "/api/"], "upstream": "backend", "strip_prefix": true,
                 "compression": true],
                ["name": "plain", "match": ["prefix": "/plain/"], "upstream": "backend", "strip_prefix": true],
                ["name": "items", "match": ["path": "/items/{item_id}", "methods": ["GET", "PUT"]], "handler": "items",
                 "compression": ["min_size": 10, "level": 9]],
            ],
            extra: ["upstreams": ["backend": ["targets": [["address": upstream.address]]]]])
    }

    @Test func proxiedBodyIsGzippedAndInflatesByteForByte() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let expected = ProxyTestUpstream.typedBody(bytes: 300_000)

        let response = try fetch(gateway, "/api/typed?bytes=300000&type=json", gzipHeader)
        #expect(response.code == 200)
        #expect(response.header("content-encoding") == "gzip")
        #expect(response.header("vary") == "Accept-Encoding")
        #expect(response.header("content-length") == nil)
        #expect(response.header("transfer-encoding") == "chunked")
        #expect(response.header("etag") == #"W/"v1""#, "a strong ETag is weakened, as nginx does")
        #expect(response.body.count < expected.utf8.count / 3)
        #expect(try response.gunzipped() == expected)
        // curl's own decoding agrees.
        #expect(try curl(gateway, "/api/typed?bytes=300000&type=json", ["--compressed"]).body == expected)

        // `*`, `x-gzip`, and gzip next to a refused identity all get gzip.
        for accept in ["*", "x-gzip", "br;q=1, gzip;q=0.5, identity;q=0", "GZIP;Q=0.001"] {
            let other = try fetch(gateway, "/api/typed?bytes=5000&type=text", ["-H", "Accept-Encoding: \(accept)"])
            #expect(other.header("content-encoding") == "gzip", "Accept-Encoding: \(accept)")
            #expect(try other.gunzipped() == ProxyTestUpstream.typedBody(bytes: 5000))
        }
        await gateway.stop()
        await upstream.stop()
    }

    @Test func chunkedUpstreamIsCompressedAsItStreams() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let response = try fetch(gateway, "/api/typed?bytes=200000&type=svg&chunked=1", gzipHeader)
        #expect(response.code == 200)
        #expect(response.header("content-encoding") == "gzip")
        #expect(try response.gunzipped() == ProxyTestUpstream.typedBody(bytes: 200_000))
        // Each piece that arrived was compressed and flushed on its own, not the body at the end.
        #expect(syncFlushes(in: response.body) > 1)

        // An HTTP/1.0 client gets the compressed body delimited by the close.
        let old = try fetch(gateway, "/api/typed?bytes=50000&type=json", gzipHeader + ["--http1.0"])
        #expect(old.header("content-encoding") == "gzip")
        #expect(old.header("transfer-encoding") == nil)
        #expect(old.header("content-length") == nil)
        #expect(try old.gunzipped() == ProxyTestUpstream.typedBody(bytes: 50000))
        await gateway.stop()
        await upstream.stop()
    }

    @Test func responsesThatAreNotCompressed() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let big = ProxyTestUpstream.typedBody(bytes: 20000)

        // Below min_size: as it is, but it varies on Accept-Encoding.
        let small = try fetch(gateway, "/api/typed?bytes=1000&type=json", gzipHeader)
        #expect(small.header("content-encoding") == nil)
        #expect(small.header("content-length") == "1000")
        #expect(small.header("vary") == "Accept-Encoding")
        #expect(small.header("etag") == #""v1""#)
        #expect(String(decoding: small.body, as: UTF8.self) == ProxyTestUpstream.typedBody(bytes: 1000))

        // A type not in the list: as it is, no Vary.
        let png = try fetch(gateway, "/api/typed?bytes=20000&type=png", gzipHeader)
        #expect(png.header("content-encoding") == nil)
        #expect(png.header("vary") == nil)
        #expect(png.header("content-length") == "20000")

        // Refused, or not offered.
        for extra in [["-H", "Accept-Encoding: gzip;q=0"], ["-H", "Accept-Encoding: gzip;q=0, *"], ["-H", "Accept-Encoding: br"], []] {
            let refused = try fetch(gateway, "/api/typed?bytes=20000&type=json", extra)
            #expect(refused.header("content-encoding") == nil, "\(extra)")
            #expect(refused.header("vary") == "Accept-Encoding")
            #expect(String(decoding: refused.body, as: UTF8.self) == big)
        }

        // Already encoded by the upstream: passed on untouched.
        let encoded = try fetch(gateway, "/api/typed?bytes=20000&type=json&encoding=br", gzipHeader)
        #expect(encoded.header("content-encoding") == "br")
        #expect(encoded.header("content-length") == "20000")
        #expect(String(decoding: encoded.body, as: UTF8.self) == big)

        // HEAD: the upstream's head, no encoding.
        let head = try fetch(gateway, "/api/typed?bytes=20000&type=json", gzipHeader + ["-I"])
        #expect(head.code == 200)
        #expect(head.header("content-encoding") == nil)
        #expect(head.header("content-length") == "20000")

        // A route without compression never adds anything.
        let plain = try fetch(gateway, "/plain/typed?bytes=20000&type=json", gzipHeader)
        #expect(plain.header("content-encoding") == nil)
        #expect(plain.header("vary") == nil)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func builtInAnswersAreCompressedWholeWithTheirLength() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let expected = #"{"item_id":42,"q":"hello hello hello"}"#
        let response = try fetch(gateway, "/items/42?q=hello%20hello%20hello", gzipHeader)
        #expect(response.code == 200)
        #expect(response.header("content-encoding") == "gzip")
        #expect(response.header("vary") == "Accept-Encoding")
        #expect(response.header("content-length") == String(response.body.count))
        #expect(try response.gunzipped() == expected)
        // Keep-alive still works after a compressed answer: two on one connection.
        let twice = try run(
            "/usr/bin/curl",
            ["-sS", "--compressed", "--cacert", gateway.caPath, "-w", "\n%{num_connects}\n",
             gateway.url("/items/1?q=abcdefghij"), gateway.url("/items/2?q=abcdefghij")])
        #expect(
            twice.stdout == #"{"item_id":1,"q":"abcdefghij"}"# + "\n1\n" + #"{"item_id":2,"q":"abcdefghij"}"# + "\n0\n")

        let plain = try fetch(gateway, "/items/42?q=hello%20hello%20hello")
        #expect(plain.header("content-encoding") == nil)
        #expect(plain.header("vary") == "Accept-Encoding")
        #expect(String(decoding: plain.body, as: UTF8.self) == expected)

        // Metrics count requests and statuses as before.
        #expect(try fetch(gateway, "/api/typed?bytes=50000", gzipHeader).header("content-encoding") == "gzip")
        let metrics = try run("/usr/bin/curl", ["-sS", "http://127.0.0.1:\(gateway.adminPort)/metrics"]).stdout
        #expect(metrics.contains(#"gateway_http_requests_total{route="items",method="GET",code="200"} 4"#))
        #expect(metrics.contains(#"gateway_http_requests_total{route="api",method="GET",code="200"} 1"#))
        await gateway.stop()
        await upstream.stop()
    }
}
