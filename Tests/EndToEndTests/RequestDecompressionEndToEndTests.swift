import Foundation
import Testing

private let bodyLimit = 2 * 1024 * 1024

@Suite("Request decompression end to end", .serialized)
struct RequestDecompressionEndToEndTests {
    /// Every route proxies to `upstream` with the prefix stripped, except `items`.
    private static func start(_ upstream: ProxyTestUpstream) async throws -> TestGateway {
        func proxied(_ name: String, _ extra: [String: Any] = [:]) -> [String: Any] {
            var route: [String: Any] = [
                "name": name, "match": ["prefix": "/\(name)/"], "upstream": "backend", "strip_prefix": true,
            ]
            route.merge(extra) { $1 }
            return route
        }
        return try await TestGateway.start(
            routes: [
                proxied("inflate", ["request_decompression": true]),
                proxied("capped", ["request_decompression": ["max_bytes": 100_000]]),
                proxied("bomb", ["request_decompression": true, "max_body_bytes": bodyLimit]),
                // max_bytes alone (a ratio no bomb reaches).
                proxied(
                    "sized", ["request_decompression": ["max_ratio": 1_000_000], "max_body_bytes": bodyLimit]),
                // The ratio is the only guard here: max_bytes would let 2 GB through.
                proxied(
                    "ratio",
                    ["request_decompression": ["max_bytes": 2_000_000_000, "max_ratio": 100],
                     "max_body_bytes": bodyLimit]),
                proxied("plain"),
                ["name": "create_item", "match": ["path": "/items/", "methods": ["POST"]], "handler": "items",
                 "request_decompression": true],
            ],
            extra: ["upstreams": ["backend": ["targets": [["address": upstream.address]]]]])
    }

    @Test func gzipBodyIsInflatedAndDeliveredByteForByte() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let original = Data(ProxyTestUpstream.typedBody(bytes: 300_000).utf8)
        let compressed = try gzipFile(try writeFile(gateway, "body.json", original))
        let compressedSize = try #require(try FileManager.default.attributesOfItem(atPath: compressed)[.size] as? Int)
        #expect(compressedSize < 150_000)

        let sent = try await upload(
            gateway, "/inflate/echo-body", file: compressed,
            headers: ["Content-Encoding: gzip", "Content-Type: application/json"])
        #expect(sent.code == 200)
        #expect(sent.body == original, "the upstream got the inflated bytes")
        #expect(sent.header("x-request-content-length") == "300000")
        #expect(sent.header("x-request-content-encoding") == "-")
        #expect(sent.header("x-request-transfer-encoding") == "-")
        #expect(sent.header("x-request-content-type") == "application/json")

        // A chunked upload, a coding in capitals, and Expect: the upstream still gets one Content-Length.
        let chunked = try await upload(
            gateway, "/inflate/echo-body", file: compressed,
            headers: ["Content-Encoding: X-GZIP", "Transfer-Encoding: chunked", "Expect: 100-continue"])
        #expect(chunked.code == 200)
        #expect(chunked.body == original)
        #expect(chunked.header("x-request-content-length") == "300000")
        #expect(chunked.header("x-request-transfer-encoding") == "-")

        // Two gzip members one after the other (RFC 1952 §2.2) inflate to both bodies.
        let second = Data("and a second member\n".utf8)
        let secondCompressed = try gzipFile(try writeFile(gateway, "second.txt", second))
        let joined = try Data(contentsOf: URL(fileURLWithPath: compressed))
            + Data(contentsOf: URL(fileURLWithPath: secondCompressed))
        let members = try await upload(
            gateway, "/inflate/echo-body", file: try writeFile(gateway, "members.gz", joined),
            headers: ["Content-Encoding: gzip"])
        #expect(members.code == 200)
        #expect(members.body == original + second)

        // An uncompressed body on the same route goes through as it is (streamed).
        let identity = try await upload(
            gateway, "/inflate/echo-body", file: try writeFile(gateway, "plain.txt", second),
            headers: ["Content-Encoding: identity"])
        #expect(identity.code == 200)
        #expect(identity.body == second)
        #expect(identity.header("x-request-content-encoding") == "identity")
        await gateway.stop()
        await upstream.stop()
    }

    @Test func routeWithoutTheKeyPassesTheCompressedBodyThrough() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let compressed = try gzipFile(try writeFile(gateway, "body.json", Data(ProxyTestUpstream.typedBody(bytes: 50_000).utf8)))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: compressed))
        let sent = try await upload(gateway, "/plain/echo-body", file: compressed, headers: ["Content-Encoding: gzip"])
        #expect(sent.code == 200)
        #expect(sent.body == bytes, "the gzip bytes reach the upstream unchanged")
        #expect(sent.header("x-request-content-encoding") == "gzip")
        #expect(sent.header("x-request-content-length") == String(bytes.count))
        await gateway.stop()
        await upstream.stop()
    }

    /// 1 GiB of zeros gzipped to about 1 MB: refused while inflating, and the
    /// gateway (this process) holds nowhere near what the body would expand to.
    @Test func gzipBombIsRefusedWithBoundedMemory() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let bomb = gateway.directory.appendingPathComponent("bomb.gz").path
        let made = try await offThePool {
            try run(
                "/usr/bin/python3",
                [
                    "-c",
                    "import sys, zlib\nc = zlib.compressobj(9, zlib.DEFLATED, 31)\nz = bytes(1 << 20)\n"
                        + "with open(sys.argv[1], 'wb') as f:\n    for _ in range(1024): f.write(c.compress(z))\n"
                        + "    f.write(c.flush())",
                    bomb,
                ])
        }
        #expect(made.status == 0, "python: \(made.stderr)")
        let bombSize = try #require(try FileManager.default.attributesOfItem(atPath: bomb)[.size] as? Int)
        #expect(bombSize < bodyLimit, "the compressed bomb fits the body limit; only inflating it is refused")

        for (path, message) in [
            ("/bomb/echo-body", "expands more than 100 times"),
            ("/sized/echo-body", "exceeds the limit of \(bodyLimit) bytes"),
            ("/ratio/echo-body", "expands more than 100 times"),
        ] {
            let before = residentKilobytes()
            let refused = try await upload(gateway, path, file: bomb, headers: ["Content-Encoding: gzip"])
            let grown = residentKilobytes() - before
            #expect(refused.code == 413, "\(path): \(refused.stderr)")
            #expect(refused.text.contains(#""code":"decompressed_body_too_large""#), "\(path): \(refused.text)")
            #expect(refused.text.contains(message), "\(path): \(refused.text)")
            #expect(refused.header("connection") == "close", "\(path): a 413 closes the connection")
            // The body would expand to 1 GiB; the gateway keeps at most a few MB of it.
            #expect(grown < 100_000, "\(path): RSS grew by \(grown) kB")
        }
        #expect(upstream.requests == 0, "a refused body never reaches the upstream")
        await gateway.stop()
        await upstream.stop()
    }

    @Test func bodyInflatingPastMaxBytesIs413() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        // About 8 times smaller compressed: under the ratio, over max_bytes (100000).
        let compressed = try gzipFile(try writeFile(gateway, "body.json", Data(ProxyTestUpstream.typedBody(bytes: 300_000).utf8)))
        let refused = try await upload(gateway, "/capped/echo-body", file: compressed, headers: ["Content-Encoding: gzip"])
        #expect(refused.code == 413)
        #expect(refused.text.contains("exceeds the limit of 100000 bytes"))
        let small = try gzipFile(try writeFile(gateway, "small.json", Data(ProxyTestUpstream.typedBody(bytes: 90_000).utf8)))
        let accepted = try await upload(gateway, "/capped/echo-body", file: small, headers: ["Content-Encoding: gzip"])
        #expect(accepted.code == 200)
        #expect(accepted.body.count == 90_000)
        #expect(upstream.requests == 1)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func corruptOrTruncatedGzipIs400() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let compressed = try Data(contentsOf: URL(fileURLWithPath: try gzipFile(
            try writeFile(gateway, "body.json", Data(ProxyTestUpstream.typedBody(bytes: 100_000).utf8)))))
        var badChecksum = compressed
        badChecksum[badChecksum.count - 6] ^= 0xff  // in the CRC-32 of the trailer
        let cases: [(String, Data)] = [
            ("not gzip", Data("this is not gzip at all".utf8)),
            ("cut short", compressed.prefix(compressed.count / 2)),
            ("bad checksum", badChecksum),
            ("trailing garbage", compressed + Data("garbage".utf8)),
        ]
        for (index, (why, data)) in cases.enumerated() {
            let refused = try await upload(
                gateway, "/inflate/echo-body", file: try writeFile(gateway, "corrupt-\(index).gz", data),
                headers: ["Content-Encoding: gzip"])
            #expect(refused.code == 400, "\(why)")
            #expect(refused.text.contains(#""code":"invalid_compressed_body""#), "\(why): \(refused.text)")
            #expect(refused.header("connection") == nil, "\(why): the connection stays open")
        }
        #expect(upstream.requests == 0)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func unsupportedCodingsAre415WithAcceptEncoding() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let file = try writeFile(gateway, "body.bin", Data("some bytes".utf8))
        for coding in ["br", "deflate", "gzip, gzip", "gzip, br", "compress"] {
            let refused = try await upload(gateway, "/inflate/echo-body", file: file, headers: ["Content-Encoding: \(coding)"])
            #expect(refused.code == 415, "\(coding)")
            #expect(refused.header("accept-encoding") == "gzip", "\(coding)")
            #expect(refused.text.contains(#""code":"unsupported_content_encoding""#), "\(coding)")
        }
        #expect(upstream.requests == 0)
        await gateway.stop()
        await upstream.stop()
    }

    @Test func builtInHandlerGetsTheInflatedBody() async throws {
        let upstream = try await ProxyTestUpstream.start()
        let gateway = try await Self.start(upstream)
        let compressed = try gzipFile(try writeFile(gateway, "item.json", Data(#"{"name":"Foo","price":35.4}"#.utf8)))
        let created = try await upload(
            gateway, "/items/", file: compressed, headers: ["Content-Encoding: gzip", "Content-Type: application/json"])
        #expect(created.code == 200)
        #expect(created.text == #"{"name":"Foo","description":null,"price":35.4,"tax":null}"#)
        await gateway.stop()
        await upstream.stop()
    }
}
