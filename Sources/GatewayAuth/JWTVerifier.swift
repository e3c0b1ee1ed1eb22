/// What a route demands of a bearer token, compiled once per configuration.
public struct JWTPolicy: Sendable {
    public var keys: JSONWebKeySet
    /// The algorithms a token may name; any other (and `none`) is refused.
    public var algorithms: Set<JWTAlgorithm>
    /// Accepted `iss` values; empty means `iss` is not checked.
    public var issuers: [String]
    /// Accepted `aud` values (the token's `aud` must contain one); empty means not checked.
    public var audiences: [String]
    /// Seconds of clock difference tolerated for `exp` and `nbf`.
    public var clockSkew: Int64
    /// Claims a valid token must also carry, else 403.
    public var required: [JWTRequiredClaim]
    /// Longer tokens are refused before anything is decoded.
    public var maxTokenBytes: Int

    public init(
        keys: JSONWebKeySet, algorithms: Set<JWTAlgorithm>, issuers: [String] = [], audiences: [String] = [],
        clockSkew: Int64 = 60, required: [JWTRequiredClaim] = [], maxTokenBytes: Int = 8192
    ) {
        self.keys = keys
        self.algorithms = algorithms
        self.issuers = issuers
        self.audiences = audiences
        self.clockSkew = clockSkew
        self.required = required
        self.maxTokenBytes = maxTokenBytes
    }
}

/// A claim a route requires: present, and holding every value listed. A
/// string claim is read as a space-separated list (as OAuth's `scope` is), an
/// array claim as a list of strings.
public struct JWTRequiredClaim: Sendable, Equatable {
    public var name: String
    public var values: [String]

    public init(name: String, values: [String]) {
        self.name = name
        self.values = values
    }
}

/// The outcome of checking one token.
public enum JWTVerdict: Sendable, Equatable {
    /// Signed by a configured key, in date, for this issuer and audience; `sub` is the identity.
    case valid(subject: String)
    /// Not a token this route accepts: 401.
    case rejected(JWTRejection)
    /// A valid token without a required claim (or value): 403.
    case forbidden(subject: String, claim: String)
}

/// Why a token was refused. The descriptions go into `error_description`:
/// fixed text, never anything from the token.
public enum JWTRejection: String, Error, Sendable, Equatable, CaseIterable {
    case malformed
    case tooLarge
    case algorithmNotAllowed
    case unsupportedCritical
    case unknownKey
    case badSignature
    case missingExpiry
    case expired
    case notYetValid
    case wrongIssuer
    case wrongAudience
    case missingSubject

    public var description: String {
        switch self {
        case .malformed: "The token is not a well-formed JWS compact serialization"
        case .tooLarge: "The token is too large"
        case .algorithmNotAllowed: "The token's algorithm is not allowed"
        case .unsupportedCritical: "The token has critical header parameters the gateway does not support"
        case .unknownKey: "No configured key matches the token's key id and algorithm"
        case .badSignature: "The token's signature is invalid"
        case .missingExpiry: "The token has no exp claim"
        case .expired: "The token has expired"
        case .notYetValid: "The token is not valid yet"
        case .wrongIssuer: "The token's issuer is not accepted"
        case .wrongAudience: "The token's audience is not accepted"
        case .missingSubject: "The token has no sub claim"
        }
    }
}

/// Verifies compact-serialized JWS tokens (RFC 7515, RFC 7519) against a
/// `JWTPolicy`: one pass over the token's bytes, decoded into one temporary
/// buffer (on the stack for usual sizes), the signature checked before any
/// claim is read. The only allocations on success are OpenSSL's own and the
/// `sub` string.
///
/// Immutable; safe to call from any thread.
public struct JWTVerifier: Sendable {
    public let policy: JWTPolicy
    private let issuers: [[UInt8]]
    private let audiences: [[UInt8]]
    private let requiredNames: [[UInt8]]
    private let requiredValues: [[[UInt8]]]

    public init(policy: JWTPolicy) {
        self.policy = policy
        self.issuers = policy.issuers.map { Array($0.utf8) }
        self.audiences = policy.audiences.map { Array($0.utf8) }
        self.requiredNames = policy.required.map { Array($0.name.utf8) }
        self.requiredValues = policy.required.map { $0.values.map { Array($0.utf8) } }
    }

    /// `now`: seconds since the Unix epoch.
    public func verify(_ token: Substring, now: Int64) -> JWTVerdict {
        if let verdict = token.utf8.withContiguousStorageIfAvailable({ self.verify(bytes: $0, now: now) }) {
            return verdict
        }
        return Array(token.utf8).withUnsafeBufferPointer { self.verify(bytes: $0, now: now) }
    }

    public func verify(bytes token: UnsafeBufferPointer<UInt8>, now: Int64) -> JWTVerdict {
        guard token.count <= self.policy.maxTokenBytes else { return .rejected(.tooLarge) }
        guard let firstDot = token.firstIndex(of: UInt8(ascii: ".")),
            let secondDot = token[(firstDot + 1)...].firstIndex(of: UInt8(ascii: ".")),
            !token[(secondDot + 1)...].contains(UInt8(ascii: ".")),
            firstDot > 0, secondDot > firstDot + 1
        else { return .rejected(.malformed) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: token.count + 8) { scratch in
            self.verify(token: token, firstDot: firstDot, secondDot: secondDot, scratch: scratch, now: now)
        }
    }

    private func verify(
        token: UnsafeBufferPointer<UInt8>, firstDot: Int, secondDot: Int, scratch: UnsafeMutableBufferPointer<UInt8>,
        now: Int64
    ) -> JWTVerdict {
        func part(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: token[range]) }
        // MARK: Header
        guard let headerCount = Base64URL.decode(part(0..<firstDot), into: scratch) else {
            return .rejected(.malformed)
        }
        let header = UnsafeBufferPointer(rebasing: scratch[0..<headerCount])
        let parsedHeader: Header
        switch Self.readHeader(header) {
        case .success(let value): parsedHeader = value
        case .failure(let rejection): return .rejected(rejection)
        }
        let algorithm = parsedHeader.algorithm
        guard self.policy.algorithms.contains(algorithm) else { return .rejected(.algorithmNotAllowed) }

        // MARK: Signature, before any claim is believed
        let signatureText = part((secondDot + 1)..<token.count)
        guard !signatureText.isEmpty else { return .rejected(.badSignature) }
        let rest = UnsafeMutableBufferPointer(rebasing: scratch[headerCount...])
        guard let signatureCount = Base64URL.decode(signatureText, into: rest) else { return .rejected(.malformed) }
        let signature = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: rest[0..<signatureCount]))
        let signingInput = UnsafeRawBufferPointer(part(0..<secondDot))
        var candidates = 0
        var verified = false
        for key in self.policy.keys.keys where key.verifies(algorithm) {
            if let kid = parsedHeader.keyID {
                guard let id = key.id, header.withKeyID(kid, { id.utf8.elementsEqual($0) }) else { continue }
            }
            candidates += 1
            if key.verify(algorithm, message: signingInput, signature: signature) {
                verified = true
                break
            }
        }
        guard candidates > 0 else { return .rejected(.unknownKey) }
        guard verified else { return .rejected(.badSignature) }

        // MARK: Claims
        let payloadArea = UnsafeMutableBufferPointer(rebasing: rest[signatureCount...])
        guard let payloadCount = Base64URL.decode(part((firstDot + 1)..<secondDot), into: payloadArea) else {
            return .rejected(.malformed)
        }
        let payload = UnsafeBufferPointer(rebasing: payloadArea[0..<payloadCount])
        return withUnsafeTemporaryAllocation(of: Range<Int>?.self, capacity: max(1, self.requiredNames.count)) {
            required in
            required.initialize(repeating: nil)
            defer { required.deinitialize() }
            return self.checkClaims(payload, required: required, now: now)
        }
    }

    // MARK: Header

    private struct Header {
        var algorithm: JWTAlgorithm
        /// The `kid` string token, in the decoded header.
        var keyID: JSONScanner.StringToken?
    }

    private static func readHeader(_ header: UnsafeBufferPointer<UInt8>) -> Result<Header, JWTRejection> {
        var scanner = JSONScanner(header)
        var algorithm: JSONScanner.StringToken?
        var keyID: JSONScanner.StringToken?
        do throws(JSONScanner.Failure) {
            try scanner.beginObject()
            var first = true
            while let name = try scanner.nextKey(first: &first) {
                let member = scanner.withUnescaped(name) { HeaderMember($0) }
                switch member {
                case .alg, .kid:
                    guard scanner.peek == UInt8(ascii: "\"") else { return .failure(.malformed) }
                    let value = try scanner.scanString()
                    if member == .alg {
                        guard algorithm == nil else { return .failure(.malformed) }
                        algorithm = value
                    } else {
                        guard keyID == nil else { return .failure(.malformed) }
                        keyID = value
                    }
                case .crit:
                    // RFC 7515 §4.1.11: extensions the recipient does not understand make the token invalid.
                    return .failure(.unsupportedCritical)
                case .other:
                    try scanner.skipValue()
                }
            }
            try scanner.expectEnd()
        } catch {
            return .failure(.malformed)
        }
        guard let algorithm else { return .failure(.malformed) }
        let known = scanner.withUnescaped(algorithm) { name -> JWTAlgorithm? in
            for candidate in JWTAlgorithm.allCases where candidate.rawValue.utf8.elementsEqual(name) {
                return candidate
            }
            return nil
        }
        guard let known else { return .failure(.algorithmNotAllowed) }
        return .success(Header(algorithm: known, keyID: keyID))
    }

    private enum HeaderMember {
        case alg, kid, crit, other

        init(_ name: UnsafeBufferPointer<UInt8>) {
            if "alg".utf8.elementsEqual(name) {
                self = .alg
            } else if "kid".utf8.elementsEqual(name) {
                self = .kid
            } else if "crit".utf8.elementsEqual(name) {
                self = .crit
            } else {
                self = .other
            }
        }
    }

    // MARK: Claims

    private enum RegisteredClaim {
        case exp, nbf, iss, aud, sub, other

        init(_ name: UnsafeBufferPointer<UInt8>) {
            guard name.count == 3 else {
                self = .other
                return
            }
            switch (name[0], name[1], name[2]) {
            case (UInt8(ascii: "e"), UInt8(ascii: "x"), UInt8(ascii: "p")): self = .exp
            case (UInt8(ascii: "n"), UInt8(ascii: "b"), UInt8(ascii: "f")): self = .nbf
            case (UInt8(ascii: "i"), UInt8(ascii: "s"), UInt8(ascii: "s")): self = .iss
            case (UInt8(ascii: "a"), UInt8(ascii: "u"), UInt8(ascii: "d")): self = .aud
            case (UInt8(ascii: "s"), UInt8(ascii: "u"), UInt8(ascii: "b")): self = .sub
            default: self = .other
            }
        }
    }

    private func checkClaims(
        _ payload: UnsafeBufferPointer<UInt8>, required: UnsafeMutableBufferPointer<Range<Int>?>, now: Int64
    ) -> JWTVerdict {
        var scanner = JSONScanner(payload)
        var expiry: Int64?
        var notBefore: Int64?
        var issuer: JSONScanner.StringToken?
        var subject: JSONScanner.StringToken?
        var audience: Range<Int>?
        do throws(JSONScanner.Failure) {
            try scanner.beginObject()
            var first = true
            while let name = try scanner.nextKey(first: &first) {
                let (claim, requiredIndex) = scanner.withUnescaped(name) { bytes -> (RegisteredClaim, Int?) in
                    (RegisteredClaim(bytes), self.requiredNames.firstIndex { $0.elementsEqual(bytes) })
                }
                let valueStart = scanner.position
                switch claim {
                case .exp, .nbf:
                    guard scanner.peek == UInt8(ascii: "-") || scanner.peek.map(JSONScanner.isDigit) == true else {
                        return .rejected(.malformed)
                    }
                    let number = try scanner.scanNumber()
                    guard let date = scanner.numericDate(number) else { return .rejected(.malformed) }
                    if claim == .exp {
                        guard expiry == nil else { return .rejected(.malformed) }
                        expiry = date
                    } else {
                        guard notBefore == nil else { return .rejected(.malformed) }
                        notBefore = date
                    }
                case .iss, .sub:
                    guard scanner.peek == UInt8(ascii: "\"") else { return .rejected(.malformed) }
                    let value = try scanner.scanString()
                    if claim == .iss {
                        guard issuer == nil else { return .rejected(.malformed) }
                        issuer = value
                    } else {
                        guard subject == nil else { return .rejected(.malformed) }
                        subject = value
                    }
                case .aud:
                    guard audience == nil else { return .rejected(.malformed) }
                    audience = try scanner.skipValue()
                case .other:
                    try scanner.skipValue()
                }
                if let requiredIndex {
                    guard required[requiredIndex] == nil else { return .rejected(.malformed) }
                    required[requiredIndex] = valueStart..<scanner.position
                }
            }
            try scanner.expectEnd()
        } catch {
            return .rejected(.malformed)
        }

        guard let expiry else { return .rejected(.missingExpiry) }
        // RFC 7519 §4.1.4: the current time must be before exp (with some leeway).
        guard now < expiry &+ self.policy.clockSkew else { return .rejected(.expired) }
        if let notBefore, now &+ self.policy.clockSkew < notBefore { return .rejected(.notYetValid) }
        if !self.issuers.isEmpty {
            guard let issuer, self.issuers.contains(where: { scanner.equals(issuer, $0) }) else {
                return .rejected(.wrongIssuer)
            }
        }
        if !self.audiences.isEmpty {
            guard let audience, Self.audience(audience, in: payload, contains: self.audiences) else {
                return .rejected(.wrongAudience)
            }
        }
        guard let subject, !subject.range.isEmpty else { return .rejected(.missingSubject) }
        let identity = scanner.string(subject)
        for (index, values) in self.requiredValues.enumerated() {
            guard let range = required[index], Self.claim(range, in: payload, holds: values) else {
                return .forbidden(subject: identity, claim: self.policy.required[index].name)
            }
        }
        return .valid(subject: identity)
    }

    /// `aud` is a string or an array of strings (RFC 7519 §4.1.3); one of them must be accepted.
    private static func audience(
        _ range: Range<Int>, in payload: UnsafeBufferPointer<UInt8>, contains accepted: [[UInt8]]
    )
        -> Bool
    {
        var matched = false
        let wellFormed = Self.forEachString(range, in: payload) { scanner, token, _ in
            if accepted.contains(where: { scanner.equals(token, $0) }) { matched = true }
        }
        return wellFormed && matched
    }

    /// A required claim holds every value: a string claim as space-separated
    /// words, an array claim as its string elements.
    private static func claim(_ range: Range<Int>, in payload: UnsafeBufferPointer<UInt8>, holds values: [[UInt8]])
        -> Bool
    {
        var found = [Bool](repeating: false, count: values.count)
        let wellFormed = Self.forEachString(range, in: payload) { scanner, token, inArray in
            scanner.withUnescaped(token) { text in
                let words =
                    inArray
                    ? [text[...]] : text.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
                for word in words {
                    for (index, value) in values.enumerated() where !found[index] && value.elementsEqual(word) {
                        found[index] = true
                    }
                }
            }
        }
        return wellFormed && !found.contains(false)
    }

    /// Calls `body` for a string value, or for each element of an array of
    /// strings (`inArray`); false for any other shape.
    private static func forEachString(
        _ range: Range<Int>, in payload: UnsafeBufferPointer<UInt8>,
        _ body: (_ scanner: JSONScanner, _ token: JSONScanner.StringToken, _ inArray: Bool) -> Void
    ) -> Bool {
        var scanner = JSONScanner(UnsafeBufferPointer(rebasing: payload[..<range.upperBound]))
        scanner.position = range.lowerBound
        do throws(JSONScanner.Failure) {
            if scanner.peek == UInt8(ascii: "\"") {
                body(scanner, try scanner.scanString(), false)
                return true
            }
            guard scanner.peek == UInt8(ascii: "[") else { return false }
            try scanner.beginArray()
            var first = true
            while try scanner.nextElement(first: &first) {
                guard scanner.peek == UInt8(ascii: "\"") else { return false }
                body(scanner, try scanner.scanString(), true)
            }
            return true
        } catch {
            return false
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Calls `body` with the unescaped `kid` string of a header scanned before.
    fileprivate func withKeyID<R>(_ token: JSONScanner.StringToken, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        JSONScanner(self).withUnescaped(token, body)
    }
}
