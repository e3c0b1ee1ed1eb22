import Foundation
import GatewayAuth
import Testing

@Suite("JWKS parser")
struct JSONWebKeySetTests {
    @Test func fixtureSetKeepsSigningKeysAndSkipsTheRest() throws {
        let keys = JWTVerifierTests.keys
        #expect(keys.keys.map(\.id) == ["rsa-1", "ec-1", "hs-1"])
        #expect(keys.keys.map(\.type) == [.rsa, .ecP256, .symmetric])
        #expect(keys.keys.map(\.algorithm) == [.RS256, nil, .HS256])
        #expect(keys.skipped == [
            #"keys[3]: "use": "enc" is not for signatures"#, #"keys[4]: kty "OKP" is not supported"#,
        ])
    }

    /// The fixture's RSA key, for documents that vary one member.
    static var rsa: [String: Any] {
        let data = try! Data(contentsOf: JWTVerifierTests.fixtures.appendingPathComponent("jwks.json"))
        let object = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (object["keys"] as! [[String: Any]])[0]
    }

    static var ec: [String: Any] {
        let data = try! Data(contentsOf: JWTVerifierTests.fixtures.appendingPathComponent("jwks.json"))
        let object = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (object["keys"] as! [[String: Any]])[1]
    }

    func problem(_ keys: [[String: Any]]) -> String? {
        let data = try! JSONSerialization.data(withJSONObject: ["keys": keys])
        do {
            _ = try JSONWebKeySet.parse(Array(data))
            return nil
        } catch {
            return error.description
        }
    }

    func problem(text: String) -> String? {
        do {
            _ = try JSONWebKeySet.parse(Array(text.utf8))
            return nil
        } catch {
            return error.description
        }
    }

    @Test func problemsNameTheMemberAndNeverTheKey() {
        var rsa = Self.rsa
        rsa["n"] = "AQAB="
        #expect(problem([rsa]) == "keys[0].n: not base64url without padding")
        // The modulus of a real 1024-bit key (`openssl genrsa 1024`): a made-up odd number can
        // fail OpenSSL's public check instead, at random (its Miller-Rabin may find a factor).
        rsa["n"] =
            "tlKYO_oIQq1m3n31Wp8YsSO04lYLokYz2N78GV-pkFrTUOIPN3IMZBzYN0DncM7I6xDcEfMdYKx7OEJXpW1Zn5ovzBERVDb32kukMC2kBzipfQMU_oNmkFU6IP2BG5BnZtAzAUhUnBSHy8ta0a7E3xXhXkOmvCk83Cg3E48FfNk"
        #expect(problem([rsa])?.hasPrefix("keys[0].n: an RSA key of 1024 bits is too small") == true)
        rsa = Self.rsa
        rsa["e"] = nil
        #expect(problem([rsa]) == "keys[0].e: required")
        rsa = Self.rsa
        rsa["alg"] = "ES256"
        #expect(problem([rsa]) == #"keys[0].alg: "ES256" cannot be used with kty "RSA""#)

        var ec = Self.ec
        var y = Base64URL.decode(ec["y"] as! String)!
        y[31] ^= 1
        ec["y"] = Base64URL.encode(y)
        #expect(problem([ec]) == "keys[0].x: x and y are not a point on P-256")
        ec = Self.ec
        ec["x"] = Base64URL.encode([UInt8](repeating: 1, count: 31))
        #expect(problem([ec]) == "keys[0].x: must be 32 bytes for P-256, got 31")

        let short: [String: Any] = ["kty": "oct", "k": Base64URL.encode([UInt8](repeating: 7, count: 16))]
        #expect(problem([short]) == "keys[0].k: an HS256 key must be at least 32 bytes, got 16")
        let secret = Base64URL.encode([UInt8](repeating: 7, count: 16))
        #expect(problem([short])?.contains(secret) == false)

        #expect(problem([["kty": "OKP", "crv": "Ed25519", "x": "AA"]])?.hasPrefix("keys: no key the gateway can use") == true)
        #expect(problem([]) == "keys: no key the gateway can use for HS256, RS256, ES256")
        #expect(problem([["kty": 1]]) == "keys[0].kty: expected a string, got a number")
    }

    @Test func documentProblems() {
        #expect(problem(text: "[]") == #"expected a JWKS object {"keys": [...]}"#)
        #expect(problem(text: "{}") == "keys: required")
        #expect(problem(text: #"{"keys": {}}"#) == "keys: expected an array, got an object")
        #expect(problem(text: "{\n  \"keys\": [,]\n}") == "invalid JSON at line 2, column 12: expected a value")
        #expect(problem(text: #"{"keys": [], "keys": []}"#)?.contains("duplicate member") == true)
    }
}
