import GatewayAuth
import GatewayConfig
import NIOHTTP1
import Prometheus

/// The authentication step of one route, compiled once per `GatewayState`:
/// where the credential is read, what checks it (the API key table or a JWT
/// verifier), and every refusal already rendered (error, `WWW-Authenticate`),
/// with the decision counters looked up. A route without `auth` has none and
/// pays one nil check.
final class RouteAuth: Sendable {
    enum Method: Sendable {
        case apiKey(APIKeyTable, allowed: [Bool]?)
        case jwt(JWTVerifier)
    }

    let method: Method
    /// The header carrying the credential (`Authorization` for JWT).
    let header: String?
    /// The query parameter carrying the API key.
    let query: String?
    /// Remove the credential before proxying.
    let hideCredentials: Bool
    /// Prefix of rate-limit keys by identity, so an API key named like a token's `sub` never shares a budget with it.
    let identityKeyPrefix: String

    /// A refusal as sent: the JSON error and the `WWW-Authenticate` value (401 only).
    struct Refusal: Sendable {
        let error: GatewayError
        let challenge: String?
        /// The `result` label it counts under.
        let result: Result
    }

    enum Result: String, Sendable, CaseIterable {
        case allowed, missing, invalid, expired, forbidden
    }

    enum Outcome {
        case allowed(identity: String)
        /// `identity` when the credentials were good but not enough (403), for the access log.
        case refused(Refusal, identity: String?)
    }

    /// By `Result` (index in `allCases`); API-key routes have no `expired` series.
    private let counters: [Counter?]
    private let missing: Refusal
    private let ambiguous: Refusal
    // API keys
    private let wrongKey: Refusal?
    private let keyNotAllowed: Refusal?
    // JWT
    private let rejections: [JWTRejection: Refusal]
    private let missingClaims: [String: Refusal]

    /// Nil when the route's JWKS was not loaded (compiling the state then has a problem to report).
    init?(route: String, configuration: RouteAuthConfiguration, keys: AuthKeys, metrics: GatewayMetrics) {
        self.hideCredentials = configuration.hideCredentials
        let isJWT = if case .jwt = configuration.method { true } else { false }
        self.counters = Result.allCases.map { result in
            result == .expired && !isJWT ? nil : metrics.authDecisions(route: route, result: result.rawValue)
        }
        let realm = "realm=\"\(configuration.realm)\""
        switch configuration.method {
        case .apiKey(let apiKey):
            let allowed = apiKey.allow.map { names in keys.apiKeys.names.map { names.contains($0) } }
            self.method = .apiKey(keys.apiKeys, allowed: allowed)
            self.header = apiKey.header
            self.query = apiKey.query
            self.identityKeyPrefix = "key:"
            var challenge = "ApiKey " + realm
            if let header = apiKey.header { challenge += ", header=\"\(header)\"" }
            if let query = apiKey.query { challenge += ", query=\"\(query)\"" }
            let place = [apiKey.header.map { "the \($0) header" }, apiKey.query.map { "the \($0) query parameter" }]
                .compactMap { $0 }.joined(separator: " or ")
            self.missing = Refusal(
                error: .unauthorized("An API key is required in \(place)."), challenge: challenge, result: .missing)
            self.ambiguous = Refusal(
                error: .unauthorized("Send one API key, in \(place)."), challenge: challenge, result: .invalid)
            self.wrongKey = Refusal(
                error: .unauthorized("The API key is not valid."), challenge: challenge, result: .invalid)
            self.keyNotAllowed = Refusal(
                error: .forbidden("This API key may not use this route."), challenge: nil, result: .forbidden)
            self.rejections = [:]
            self.missingClaims = [:]
        case .jwt(let jwt):
            guard let keySet = keys.keySets[jwt.jwks] else { return nil }
            let policy = JWTPolicy(
                keys: keySet,
                algorithms: Set(jwt.algorithms.compactMap(JWTAlgorithm.init(rawValue:))),
                issuers: jwt.issuers, audiences: jwt.audiences, clockSkew: jwt.clockSkew.components.seconds,
                required: jwt.required.map { JWTRequiredClaim(name: $0.name, values: $0.values) },
                maxTokenBytes: jwt.maxTokenBytes)
            self.method = .jwt(JWTVerifier(policy: policy))
            self.header = "Authorization"
            self.query = nil
            self.identityKeyPrefix = "sub:"
            let bearer = "Bearer " + realm
            // RFC 6750 §3.1: no error code when the request had no token at all.
            self.missing = Refusal(
                error: .unauthorized("A bearer token is required in the Authorization header."), challenge: bearer,
                result: .missing)
            func invalid(_ description: String) -> String {
                bearer + ", error=\"invalid_token\", error_description=\"\(description)\""
            }
            self.ambiguous = Refusal(
                error: .unauthorized("Send one Authorization header."),
                challenge: bearer
                    + ", error=\"invalid_request\", error_description=\"More than one Authorization header\"",
                result: .invalid)
            var rejections: [JWTRejection: Refusal] = [:]
            for rejection in JWTRejection.allCases {
                rejections[rejection] = Refusal(
                    error: .unauthorized(rejection.description + "."), challenge: invalid(rejection.description),
                    result: rejection == .expired ? .expired : .invalid)
            }
            self.rejections = rejections
            var missingClaims: [String: Refusal] = [:]
            for claim in jwt.required {
                let values = claim.values.joined(separator: " ")
                let description = "The token lacks the required \(claim.name) claim"
                var challenge = bearer + ", error=\"insufficient_scope\", error_description=\"\(description)\""
                if claim.name == "scope" { challenge += ", scope=\"\(values)\"" }
                missingClaims[claim.name] = Refusal(
                    error: .forbidden("The token's \(claim.name) claim must include \(values)."),
                    challenge: challenge, result: .forbidden)
            }
            self.missingClaims = missingClaims
            self.wrongKey = nil
            self.keyNotAllowed = nil
        }
    }

    /// Decides one request from its head and raw query; `now` is seconds since
    /// the Unix epoch. Counts the decision.
    func authenticate(_ head: HTTPRequestHead, query: Substring?, now: Int64) -> Outcome {
        let outcome = self.decide(head, query: query, now: now)
        switch outcome {
        case .allowed: self.counters[0]?.increment()
        case .refused(let refusal, _): self.counters[Result.allCases.firstIndex(of: refusal.result)!]?.increment()
        }
        return outcome
    }

    private func decide(_ head: HTTPRequestHead, query: Substring?, now: Int64) -> Outcome {
        switch self.method {
        case .apiKey(let table, let allowed):
            var found = self.header.map { CredentialLocation.header($0, in: head.headers) } ?? .none
            if found == .none, let name = self.query { found = CredentialLocation.query(name, in: query) }
            switch found {
            case .none: return .refused(self.missing, identity: nil)
            case .ambiguous: return .refused(self.ambiguous, identity: nil)
            case .value(let key):
                guard let index = table.identify(key) else { return .refused(self.wrongKey!, identity: nil) }
                let name = table.names[index]
                if let allowed, !allowed[index] { return .refused(self.keyNotAllowed!, identity: name) }
                return .allowed(identity: name)
            }
        case .jwt(let verifier):
            let token: Substring
            switch CredentialLocation.header("authorization", in: head.headers) {
            case .none: return .refused(self.missing, identity: nil)
            case .ambiguous: return .refused(self.ambiguous, identity: nil)
            case .value(let value):
                // Another scheme (Basic, …) counts as no token.
                guard let bearer = CredentialLocation.bearerToken(value) else {
                    return .refused(self.missing, identity: nil)
                }
                token = bearer
            }
            switch verifier.verify(token, now: now) {
            case .valid(let subject):
                return .allowed(identity: subject)
            case .rejected(let rejection):
                return .refused(self.rejections[rejection]!, identity: nil)
            case .forbidden(let subject, let claim):
                return .refused(self.missingClaims[claim]!, identity: subject)
            }
        }
    }
}
