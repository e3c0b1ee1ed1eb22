import COpenSSL
import Foundation
import GatewayAuth
import Testing

/// Tokens made by PyJWT (`Fixtures/make_jwts.py`, absolute dates: valid until
/// 2100, expired in 2001) checked against the fixture JWKS.
@Suite("JWT verifier")
struct JWTVerifierTests {
    static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    static let tokens: [String: String] = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("tokens.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: String]
    }()
    static let keys: JSONWebKeySet = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("jwks.json"))
        return try! JSONWebKeySet.parse(Array(data))
    }()
    /// 2024-01-01: between the fixtures' iat and the valid tokens' exp.
    static let now: Int64 = 1_704_067_200

    static func verifier(
        algorithms: Set<JWTAlgorithm> = Set(JWTAlgorithm.allCases), issuers: [String] = ["https://issuer.example"],
        audiences: [String] = ["gateway-tests"], required: [JWTRequiredClaim] = [], maxTokenBytes: Int = 8192
    ) -> JWTVerifier {
        JWTVerifier(
            policy: JWTPolicy(
                keys: keys, algorithms: algorithms, issuers: issuers, audiences: audiences, clockSkew: 60,
                required: required, maxTokenBytes: maxTokenBytes))
    }

    func verify(_ name: String, with verifier: JWTVerifier = Self.verifier(), now: Int64 = Self.now) -> JWTVerdict {
        verifier.verify(Substring(Self.tokens[name]!), now: now)
    }

    @Test(arguments: ["rs256_valid", "es256_valid", "hs256_valid", "es256_no_kid", "rs256_aud_array",
                      "rs256_fractional_exp"])
    func validTokensGiveTheirSubject(_ name: String) {
        #expect(verify(name) == .valid(subject: "user-1"))
    }

    @Test(arguments: [
        ("rs256_tampered_payload", JWTRejection.badSignature),
        ("rs256_tampered_signature", .badSignature),
        ("es256_tampered_signature", .badSignature),
        ("rs256_other_key", .badSignature),
        ("rs256_expired", .expired),
        ("rs256_nbf_future", .notYetValid),
        ("rs256_wrong_issuer", .wrongIssuer),
        ("rs256_wrong_audience", .wrongAudience),
        ("rs256_no_exp", .missingExpiry),
        ("rs256_no_sub", .missingSubject),
        ("rs256_unknown_kid", .unknownKey),
        ("rs256_crit", .unsupportedCritical),
        ("alg_none", .algorithmNotAllowed),
        ("alg_none_with_kid", .algorithmNotAllowed),
        ("rs384", .algorithmNotAllowed),
        // Algorithm confusion: HS256 over the RSA public key. The RSA key never verifies HS256.
        ("hs256_confusion_rsa_pem", .unknownKey),
        ("hs256_confusion_no_kid", .badSignature),
    ])
    func refusedTokensSayWhy(_ name: String, _ reason: JWTRejection) {
        #expect(verify(name) == .rejected(reason), "\(name)")
    }

    @Test func algorithmsTheRouteDoesNotAllowAreRefused() {
        let rsaOnly = Self.verifier(algorithms: [.RS256])
        #expect(verify("rs256_valid", with: rsaOnly) == .valid(subject: "user-1"))
        #expect(verify("hs256_valid", with: rsaOnly) == .rejected(.algorithmNotAllowed))
        #expect(verify("es256_valid", with: rsaOnly) == .rejected(.algorithmNotAllowed))
    }

    @Test func clockSkewAppliesToBothEnds() {
        // rs256_nbf_future: nbf = 2100-01-01 minus 60 s.
        let nbf: Int64 = 4_102_444_800 - 60
        #expect(verify("rs256_nbf_future", now: nbf - 61) == .rejected(.notYetValid))
        #expect(verify("rs256_nbf_future", now: nbf - 60) == .valid(subject: "user-1"))
        // rs256_valid: exp = 2100-01-01.
        let exp: Int64 = 4_102_444_800
        #expect(verify("rs256_valid", now: exp + 59) == .valid(subject: "user-1"))
        #expect(verify("rs256_valid", now: exp + 60) == .rejected(.expired))
    }

    @Test func issuerAndAudienceAreOnlyCheckedWhenConfigured() {
        let open = Self.verifier(issuers: [], audiences: [])
        #expect(verify("rs256_wrong_issuer", with: open) == .valid(subject: "user-1"))
        #expect(verify("rs256_wrong_audience", with: open) == .valid(subject: "user-1"))
        let either = Self.verifier(issuers: ["https://evil.example", "https://issuer.example"], audiences: ["x", "gateway-tests"])
        #expect(verify("rs256_wrong_issuer", with: either) == .valid(subject: "user-1"))
    }

    @Test func requiredClaimsGive403WithTheSubject() {
        let write = Self.verifier(required: [JWTRequiredClaim(name: "scope", values: ["orders:write"])])
        #expect(verify("rs256_valid", with: write) == .valid(subject: "user-1"))
        #expect(verify("rs256_scope_array", with: write) == .valid(subject: "user-1"))
        #expect(verify("rs256_scope_read_only", with: write) == .forbidden(subject: "user-1", claim: "scope"))
        #expect(verify("rs256_no_scope", with: write) == .forbidden(subject: "user-1", claim: "scope"))
        // "orders:" is a prefix of a word, not a word.
        let prefix = Self.verifier(required: [JWTRequiredClaim(name: "scope", values: ["orders:"])])
        #expect(verify("rs256_valid", with: prefix) == .forbidden(subject: "user-1", claim: "scope"))
        let both = Self.verifier(required: [
            JWTRequiredClaim(name: "scope", values: ["orders:read", "orders:write"]),
            JWTRequiredClaim(name: "iss", values: ["https://issuer.example"]),
        ])
        #expect(verify("rs256_valid", with: both) == .valid(subject: "user-1"))
        #expect(verify("rs256_scope_read_only", with: both) == .forbidden(subject: "user-1", claim: "scope"))
        // A bad signature is 401 whatever the claims say.
        #expect(verify("rs256_tampered_signature", with: both) == .rejected(.badSignature))
    }

    @Test func oversizedAndMalformedTokensAreRefusedEarly() {
        let small = Self.verifier(maxTokenBytes: 100)
        #expect(verify("rs256_valid", with: small) == .rejected(.tooLarge))
        let verifier = Self.verifier()
        for text in ["", ".", "..", "a.b", "a.b.c.d", "eyJhbGciOiJSUzI1NiJ9..sig", "!!!.e30.c2ln",
                     Self.tokens["rs256_valid"]! + "=", Self.tokens["rs256_valid"]! + "."]
        {
            guard case .rejected = verifier.verify(Substring(text), now: Self.now) else {
                Issue.record("\(text) was accepted")
                continue
            }
        }
    }

    /// Header and claims that are not strict JSON, signed properly with the HS256 key.
    @Test func strictJSONInHeaderAndClaims() throws {
        let secret = try #require(Self.secret)
        let good = #"{"sub":"u","exp":4102444800}"#
        #expect(hs256(#"{"alg":"HS256"}"#, good, secret) == .valid(subject: "u"))
        #expect(hs256(#"{"alg":"HS256","kid":"hs-1"}"#, #"{"sub":"\u00fc","exp":4102444800}"#, secret) == .valid(subject: "ü"))
        let malformed: [(String, String)] = [
            (#"{"alg":"HS256",}"#, good),
            (#"{"alg":"HS256","alg":"HS256"}"#, good),
            (#"{"alg":"HS256"} x"#, good),
            (#"{"alg":"HS256"}"#, #"{"sub":"u","exp":4102444800,}"#),
            (#"{"alg":"HS256"}"#, #"{"sub":"u","exp":04102444800}"#),
            (#"{"alg":"HS256"}"#, #"{"sub":"u","exp":"4102444800"}"#),
            (#"{"alg":"HS256"}"#, #"{"sub":"u","exp":4102444800,"exp":4102444800}"#),
            (#"{"alg":"HS256"}"#, #"{"sub":"u","sub":"v","exp":4102444800}"#),
            (#"{"alg":"HS256"}"#, #"{"sub":"\ud800","exp":4102444800}"#),
            (#"{"alg":"HS256"}"#, "{\"sub\":\"\u{1}\",\"exp\":4102444800}"),
            (#"{"alg":"HS256"}"#, #"{"sub":"u","exp":4102444800,"x":[1,2,]}"#),
            (#"{"alg":"HS256"}"#, #"{"sub":"u","exp":4102444800,"x":NaN}"#),
            (#"{"alg":"HS256"}"#, #"[{"sub":"u","exp":4102444800}]"#),
        ]
        for (header, claims) in malformed {
            #expect(hs256(header, claims, secret) == .rejected(.malformed), "\(header) \(claims)")
        }
        // Invalid UTF-8 in a claim.
        var bytes = Array(#"{"sub":"u","exp":4102444800,"x":"A"}"#.utf8)
        bytes[bytes.count - 3] = 0xC0
        #expect(hs256(#"{"alg":"HS256"}"#, bytes, secret) == .rejected(.malformed))
    }

    static let secret: [UInt8]? = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("jwks.json"))
        let object = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        let keys = object["keys"] as! [[String: Any]]
        return (keys.first { $0["kid"] as? String == "hs-1" }?["k"] as? String).flatMap { Base64URL.decode($0) }
    }()

    func hs256(_ header: String, _ claims: String, _ secret: [UInt8]) -> JWTVerdict {
        hs256(header, Array(claims.utf8), secret)
    }

    func hs256(_ header: String, _ claims: [UInt8], _ secret: [UInt8]) -> JWTVerdict {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(claims)
        let mac = HMACReference.sha256(key: secret, message: Array(input.utf8))
        let token = input + "." + Base64URL.encode(mac)
        return Self.verifier(issuers: [], audiences: []).verify(Substring(token), now: Self.now)
    }
}

/// HMAC-SHA256 through OpenSSL's one-shot `HMAC()`: the tests' own reference,
/// apart from the `EVP_MAC` calls the verifier makes.
enum HMACReference {
    static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = HMAC(EVP_sha256(), key, Int32(key.count), message, message.count, &mac, &length)
        return mac
    }
}
