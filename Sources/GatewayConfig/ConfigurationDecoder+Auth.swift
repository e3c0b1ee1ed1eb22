// The authentication part of gateway.json: the top-level `api_keys` and
// `jwks`, and a route's `auth`. Same conventions as ConfigurationDecoder.swift.
// Key files and JWKS files are read when the configuration is compiled (with
// their JSON paths in any problem), not here.

extension ConfigurationDecoder {
    // MARK: api_keys

    /// `{"name": "key" | {"file": "path"}}`, sorted by name.
    mutating func decodeAPIKeys(_ field: JSONField) -> [APIKeyConfiguration]? {
        decodeNamedDefinitions(
            field, expected: "expected an object (key name → key, or {\"file\": path})", names: \.apiKeyNames,
            nameOf: \.name
        ) { decoder, name, value in
            decoder.decodeAPIKeySource(value).map { APIKeyConfiguration(name: name, source: $0) }
        }
    }

    private mutating func decodeAPIKeySource(_ field: JSONField) -> APIKeyConfiguration.Source? {
        switch field.value {
        case .string(let key):
            if let problem = APIKeyConfiguration.problem(with: Array(key.utf8)) {
                report(field.path, problem)
                return nil
            }
            return .inline(key)
        case .object:
            guard let object = object(field, keys: ConfigurationKeys.apiKeyFile) else { return nil }
            guard let path = nonEmptyString(required(object, "file")) else { return nil }
            return .file(FilePaths.resolve(path, against: baseDirectory))
        default:
            report(field.path, "expected a string (the key, e.g. \"${API_KEY}\") or {\"file\": path}")
            return nil
        }
    }

    // MARK: jwks

    /// `{"name": {"file": "path"}}`, sorted by name.
    mutating func decodeJWKS(_ field: JSONField) -> [JWKSConfiguration]? {
        decodeNamedDefinitions(
            field, expected: "expected an object (name → {\"file\": path})", names: \.jwksNames, nameOf: \.name
        ) { decoder, name, value in
            guard let object = decoder.object(value, keys: ConfigurationKeys.jwks),
                let file = decoder.nonEmptyString(decoder.required(object, "file"))
            else { return nil }
            return JWKSConfiguration(name: name, file: FilePaths.resolve(file, against: decoder.baseDirectory))
        }
    }

    // MARK: A route's auth

    mutating func decodeRouteAuth(_ field: JSONField) -> RouteAuthConfiguration? {
        guard let auth = object(field, keys: ConfigurationKeys.routeAuth) else { return nil }
        var method: RouteAuthConfiguration.Method?
        switch (auth.field("api_key"), auth.field("jwt")) {
        case (nil, nil):
            report(auth.path, "one of \"api_key\" or \"jwt\" is required")
        case (.some, .some):
            report(auth.path, "\"api_key\" and \"jwt\" are exclusive; use one of them")
        case (let apiKeyField?, nil):
            method = decodeAPIKeyAuth(apiKeyField).map { .apiKey($0) }
        case (nil, let jwtField?):
            method = decodeJWTAuth(jwtField).map { .jwt($0) }
        }
        var realm = RouteAuthConfiguration.defaultRealm
        var realmValid = true
        if let realmField = auth.field("realm") {
            if let text = nonEmptyString(realmField) {
                if text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }) {
                    realm = text
                } else {
                    report(realmField.path, "must be printable ASCII without \" or \\ (it is sent in WWW-Authenticate)")
                    realmValid = false
                }
            } else {
                realmValid = false
            }
        }
        let hideField = auth.field("hide_credentials")
        let hide = bool(hideField)
        guard let method, realmValid, hideField == nil || hide != nil else { return nil }
        return RouteAuthConfiguration(method: method, realm: realm, hideCredentials: hide ?? false)
    }

    private mutating func decodeAPIKeyAuth(_ field: JSONField) -> APIKeyAuthConfiguration? {
        guard let apiKey = object(field, keys: ConfigurationKeys.apiKeyAuth) else { return nil }
        var valid = true
        if apiKeyNames.isEmpty {
            report(apiKey.path, "no \"api_keys\" are defined")
            valid = false
        }
        var header: String?
        if let headerField = apiKey.field("header") {
            if let text = string(headerField), !text.isEmpty, text.unicodeScalars.allSatisfy(Self.isTokenCharacter) {
                header = text
            } else {
                if case .string = headerField.value {
                    report(headerField.path, "invalid header name (expected a token such as \"X-API-Key\")")
                }
                valid = false
            }
        }
        var query: String?
        if let queryField = apiKey.field("query") {
            if let text = string(queryField), !text.isEmpty, text.unicodeScalars.allSatisfy(Self.isUnreserved) {
                query = text
            } else {
                if case .string = queryField.value {
                    report(
                        queryField.path,
                        "invalid query parameter name (letters, digits, \"-\", \".\", \"_\" and \"~\" only)")
                }
                valid = false
            }
        }
        if apiKey.field("header") == nil && apiKey.field("query") == nil {
            header = APIKeyAuthConfiguration.defaultHeader
        }
        var allow: [String]?
        if let allowField = apiKey.field("allow") {
            allow = decodeAPIKeyNames(allowField)
            if allow == nil { valid = false }
        }
        guard valid else { return nil }
        return APIKeyAuthConfiguration(header: header, query: query, allow: allow)
    }

    /// `allow`: names of `api_keys`, each once, at least one.
    private mutating func decodeAPIKeyNames(_ field: JSONField) -> [String]? {
        guard let elements = array(field) else { return nil }
        guard !elements.isEmpty else {
            report(field.path, "must not be empty (leave \"allow\" out to allow every key)")
            return nil
        }
        return decodeNameReferences(elements, known: apiKeyNames) { name, known in
            // With no keys at all, the api_key object already says so.
            known.isEmpty ? nil : "unknown API key \"\(name)\" (known: \(known))"
        }
    }

    private mutating func decodeJWTAuth(_ field: JSONField) -> JWTAuthConfiguration? {
        guard let jwt = object(field, keys: ConfigurationKeys.jwtAuth) else { return nil }
        var valid = true
        var jwks: String?
        if let jwksField = required(jwt, "jwks"), let name = string(jwksField) {
            if jwksNames.contains(name) {
                jwks = name
            } else {
                let known = jwksNames.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                report(
                    jwksField.path,
                    "unknown JWKS \"\(name)\"" + (known.isEmpty ? " (no jwks are defined)" : " (known: \(known))"))
            }
        }
        var algorithms = JWTAuthConfiguration.supportedAlgorithms
        if let algorithmsField = jwt.field("algorithms") {
            if let decoded = decodeAlgorithms(algorithmsField) { algorithms = decoded } else { valid = false }
        }
        let issuerField = jwt.field("issuer")
        let issuers = issuerField.map { decodeStringOrStrings($0) } ?? []
        let audienceField = jwt.field("audience")
        let audiences = audienceField.map { decodeStringOrStrings($0) } ?? []
        let skewField = jwt.field("clock_skew")
        let skew = duration(skewField)
        var required: [JWTAuthConfiguration.RequiredClaim] = []
        if let requireField = jwt.field("require") {
            if let decoded = decodeRequiredClaims(requireField) { required = decoded } else { valid = false }
        }
        let maxField = jwt.field("max_token_bytes")
        let maxTokenBytes = integer(maxField, minimum: 1)
        guard valid, let jwks, let issuers, let audiences, skewField == nil || skew != nil,
            maxField == nil || maxTokenBytes != nil
        else { return nil }
        return JWTAuthConfiguration(
            jwks: jwks, algorithms: algorithms, issuers: issuers, audiences: audiences,
            clockSkew: skew ?? JWTAuthConfiguration.defaultClockSkew, required: required,
            maxTokenBytes: maxTokenBytes ?? JWTAuthConfiguration.defaultMaxTokenBytes)
    }

    private mutating func decodeAlgorithms(_ field: JSONField) -> [String]? {
        guard let elements = array(field) else { return nil }
        guard !elements.isEmpty else {
            report(field.path, "must not be empty (leave \"algorithms\" out to allow HS256, RS256 and ES256)")
            return nil
        }
        var algorithms: [String] = []
        var valid = true
        for element in elements {
            guard let name = string(element) else {
                valid = false
                continue
            }
            guard JWTAuthConfiguration.supportedAlgorithms.contains(name) else {
                let hint = name.lowercased() == "none" ? "; unsigned tokens are never accepted" : ""
                report(element.path, "unsupported algorithm \"\(name)\" (expected HS256, RS256 or ES256\(hint))")
                valid = false
                continue
            }
            if !algorithms.contains(name) { algorithms.append(name) }
        }
        return valid ? algorithms : nil
    }

    /// `issuer`, `audience`: one non-empty string or a non-empty array of them.
    private mutating func decodeStringOrStrings(_ field: JSONField) -> [String]? {
        if case .string = field.value {
            return nonEmptyString(field).map { [$0] }
        }
        guard case .array = field.value else {
            report(field.path, "expected a string or an array of strings")
            return nil
        }
        guard let elements = array(field) else { return nil }
        guard !elements.isEmpty else {
            report(field.path, "must not be empty")
            return nil
        }
        let values = elements.map { nonEmptyString($0) }
        return values.contains(where: { $0 == nil }) ? nil : values.compactMap { $0 }
    }

    /// `require`: claim name → a value or an array of values, all of which the claim must hold.
    private mutating func decodeRequiredClaims(_ field: JSONField) -> [JWTAuthConfiguration.RequiredClaim]? {
        guard case .object(let members) = field.value else {
            report(field.path, "expected an object (claim name → value or array of values)")
            return nil
        }
        var claims: [JWTAuthConfiguration.RequiredClaim] = []
        var valid = true
        for member in members {
            let path = field.path.appending(key: member.key)
            guard !member.key.isEmpty else {
                report(path, "a claim name must not be empty")
                valid = false
                continue
            }
            guard !claims.contains(where: { $0.name == member.key }) else {
                report(path, "duplicate key")
                valid = false
                continue
            }
            guard let values = decodeStringOrStrings(JSONField(value: member.value, path: path)) else {
                valid = false
                continue
            }
            if values.contains(where: { $0.contains(" ") }) {
                report(
                    path, "a required value cannot contain a space (a string claim is read as space-separated words)")
                valid = false
                continue
            }
            claims.append(JWTAuthConfiguration.RequiredClaim(name: member.key, values: values))
        }
        return valid ? claims : nil
    }

    /// RFC 3986 `unreserved`: a query parameter name compared as sent, without decoding.
    static func isUnreserved(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return false }
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", ".", "_", "~": return true
        default: return false
        }
    }
}
