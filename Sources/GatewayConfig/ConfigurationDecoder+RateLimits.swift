// The rate-limit part of gateway.json: the top-level `rate_limits` policies,
// `default_rate_limits`, `rate_limit_store`, `trusted_proxies`, and the route
// keys that name policies. Same conventions as ConfigurationDecoder.swift.

extension ConfigurationDecoder {
    // MARK: Store

    mutating func decodeRateLimitStore(_ field: JSONField) -> RateLimitStoreConfiguration? {
        guard let store = object(field, keys: ConfigurationKeys.rateLimitStore) else { return nil }
        var valid = true
        var maxKeys = RateLimitStoreConfiguration.defaultMemoryMaxKeys
        if let memoryField = store.field("memory") {
            if let memory = object(memoryField, keys: ConfigurationKeys.memoryStore) {
                let maxKeysField = memory.field("max_keys")
                if let value = integer(maxKeysField, minimum: 1) {
                    maxKeys = value
                } else if maxKeysField != nil {
                    valid = false
                }
            } else {
                valid = false
            }
        }
        var redis: RedisStoreConfiguration?
        if let redisField = store.field("redis") {
            redis = decodeRedisStore(redisField)
            if redis == nil { valid = false }
        }
        return valid ? RateLimitStoreConfiguration(memoryMaxKeys: maxKeys, redis: redis) : nil
    }

    private mutating func decodeRedisStore(_ field: JSONField) -> RedisStoreConfiguration? {
        guard let redis = object(field, keys: ConfigurationKeys.redisStore) else { return nil }
        var url: String?
        if let urlField = required(redis, "url"), let text = string(urlField) {
            do {
                try RedisStoreConfiguration.validate(url: text)
                url = text
            } catch {
                report(urlField.path, error.message)
            }
        }
        let timeoutField = redis.field("timeout")
        let timeout = duration(timeoutField)
        var failureMode = RateLimitFailureMode.open
        var modeValid = true
        if let modeField = redis.field("failure_mode") {
            if let text = string(modeField) {
                if let mode = RateLimitFailureMode(rawValue: text) {
                    failureMode = mode
                } else {
                    report(modeField.path, "unknown failure mode \"\(text)\" (expected \"open\" or \"closed\")")
                    modeValid = false
                }
            } else {
                modeValid = false
            }
        }
        guard let url, modeValid, timeoutField == nil || timeout != nil else { return nil }
        return RedisStoreConfiguration(
            url: url, timeout: timeout ?? RedisStoreConfiguration.defaultTimeout, failureMode: failureMode)
    }

    // MARK: Policies

    /// `redisConfigured`: whether `rate_limit_store.redis` is there; nil when that section had problems.
    mutating func decodeRateLimits(_ field: JSONField, redisConfigured: Bool?) -> [RateLimitPolicyConfiguration]? {
        decodeNamedDefinitions(
            field, expected: "expected an object (policy name → policy)", names: \.rateLimitNames, nameOf: \.name
        ) { decoder, name, value in decoder.decodeRateLimitPolicy(name: name, value, redisConfigured: redisConfigured) }
    }

    private mutating func decodeRateLimitPolicy(name: String, _ field: JSONField, redisConfigured: Bool?)
        -> RateLimitPolicyConfiguration?
    {
        guard let policy = object(field, keys: ConfigurationKeys.rateLimitPolicy) else { return nil }
        var limit: RateLimitRate?
        if let limitField = required(policy, "limit") {
            if case .string(let text) = limitField.value {
                do {
                    limit = try RateLimitRate.parse(text)
                } catch {
                    report(limitField.path, error.message)
                }
            } else {
                report(limitField.path, "expected a string such as \"100/s\" or \"1000/min\"")
            }
        }
        let burstField = policy.field("burst")
        let burst = integer(burstField, minimum: 1)
        var key: RateLimitKey? = .clientIP
        if let keyField = policy.field("key") {
            key = decodeRateLimitKey(keyField)
        }
        var store: RateLimitStoreKind? = .memory
        if let storeField = policy.field("store") {
            store = nil
            if let text = string(storeField) {
                if let kind = RateLimitStoreKind(rawValue: text) {
                    store = kind
                    // nil: rate_limit_store had problems, already reported.
                    if kind == .redis && redisConfigured == false {
                        report(
                            storeField.path, "needs \"rate_limit_store\": {\"redis\": {\"url\": …}} (where Redis is)")
                        store = nil
                    }
                } else {
                    report(storeField.path, "unknown store \"\(text)\" (expected \"memory\" or \"redis\")")
                }
            }
        }
        guard let limit, let key, let store, burstField == nil || burst != nil else { return nil }
        if key == .identity { identityRateLimits.insert(name) }
        return RateLimitPolicyConfiguration(name: name, limit: limit, burst: burst, key: key, store: store)
    }

    private mutating func decodeRateLimitKey(_ field: JSONField) -> RateLimitKey? {
        let expected = "expected \"client_ip\", \"identity\", \"route\" or {\"header\": \"X-API-Key\"}"
        switch field.value {
        case .string(let text):
            switch text {
            case "client_ip": return .clientIP
            case "route": return .route
            case "identity": return .identity
            default:
                report(field.path, "unknown key \"\(text)\" (\(expected))")
                return nil
            }
        case .object:
            guard let key = object(field, keys: ConfigurationKeys.rateLimitKey) else { return nil }
            guard let headerField = required(key, "header"), let text = string(headerField) else { return nil }
            guard !text.isEmpty, text.unicodeScalars.allSatisfy(Self.isTokenCharacter) else {
                report(headerField.path, "invalid header name \"\(text)\" (expected a token such as \"X-API-Key\")")
                return nil
            }
            return .header(text.lowercased())
        default:
            report(field.path, expected)
            return nil
        }
    }

    /// A list of policy names (`default_rate_limits`, a route's `rate_limits`): known, each once.
    mutating func decodeRateLimitNames(_ field: JSONField) -> [String]? {
        guard let elements = array(field) else { return nil }
        return decodeNameReferences(elements, known: rateLimitNames) { name, known in
            "unknown rate limit \"\(name)\""
                + (known.isEmpty ? " (no rate_limits are defined)" : " (known: \(known))")
        }
    }

    /// A route's `rate_limits` (or the defaults) and `rate_limit_headers`.
    mutating func decodeRouteRateLimits(_ route: JSONObjectView) -> (names: [String], headers: Bool)? {
        var names = defaultRateLimits ?? []
        var valid = true
        let namesField = route.field("rate_limits")
        if let namesField {
            if let decoded = decodeRateLimitNames(namesField) { names = decoded } else { valid = false }
        }
        let headersField = route.field("rate_limit_headers")
        let headers = bool(headersField)
        if headersField != nil && headers == nil { valid = false }
        if let headersField, namesField == nil, defaultRateLimits == nil {
            report(headersField.path, "only applies to a route with \"rate_limits\"")
            valid = false
        }
        return valid ? (names, headers ?? true) : nil
    }

    // MARK: Trusted proxies

    mutating func decodeTrustedProxies(_ field: JSONField) -> [IPAddressRange]? {
        guard let elements = array(field) else { return nil }
        return decodeParsedStrings(elements, IPAddressRange.parse)
    }
}
