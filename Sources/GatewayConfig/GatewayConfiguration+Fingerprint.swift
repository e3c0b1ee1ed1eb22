// The fingerprint identifies a configuration for an info metric and for logs
// ("reloaded, fingerprint 3f…"). It hashes a canonical rendering of the
// effective configuration — defaults filled in, paths resolved, keys sorted,
// no whitespace — so reformatting the file, reordering keys or spelling out a
// default does not change it, and equal configurations always share it.
//
// Secrets stay out of it: an inline API key is written as "<redacted>", so
// neither the canonical form nor the fingerprint (an exported metric label)
// depends on a key's value. Such a configuration does not load back from
// its canonical form; every other one does.

import GatewayValidation

extension GatewayConfiguration {
    /// FNV-1a 64-bit hash of ``canonicalJSON``, as 16 lowercase hex digits.
    public var fingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in canonicalJSON.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The effective configuration as compact JSON in the file's own vocabulary,
    /// with sorted keys; it loads back to an equal configuration (unless it has
    /// inline API keys, which are redacted).
    public var canonicalJSON: String {
        var output = ""
        canonicalValue.write(to: &output)
        return output
    }

    var canonicalValue: JSONValue {
        var members = [
            JSONMember(
                key: "access_log",
                value: .object([JSONMember(key: "enabled", value: .bool(accessLog.enabled))])
            ),
            JSONMember(
                key: "admin",
                value: .object([JSONMember(key: "address", value: .string(admin.address.description))])
            ),
            JSONMember(key: "event_loops", value: .number(String(eventLoops))),
            JSONMember(
                key: "http",
                value: .object([
                    JSONMember(key: "body_timeout", value: .string(DurationSyntax.render(http.bodyTimeout))),
                    JSONMember(key: "idle_timeout", value: .string(DurationSyntax.render(http.idleTimeout))),
                    JSONMember(key: "max_body_bytes", value: .number(String(http.maxBodyBytes))),
                    JSONMember(key: "max_header_bytes", value: .number(String(http.maxHeaderBytes))),
                    JSONMember(
                        key: "request_head_timeout",
                        value: .string(DurationSyntax.render(http.requestHeadTimeout))
                    ),
                ])
            ),
            JSONMember(key: "listeners", value: .array(listeners.map(\.canonicalValue))),
            JSONMember(
                key: "reload",
                value: .object([
                    JSONMember(key: "debounce", value: .string(DurationSyntax.render(reload.debounce))),
                    JSONMember(key: "watch", value: .bool(reload.watch)),
                ])
            ),
            JSONMember(key: "routes", value: .array(routes.map(\.canonicalValue))),
            JSONMember(
                key: "shutdown",
                value: .object([
                    JSONMember(key: "drain_timeout", value: .string(DurationSyntax.render(shutdown.drainTimeout)))
                ])
            ),
        ]
        // Absent and empty are the same configuration: only a non-empty map shows.
        if !upstreams.isEmpty {
            let sorted = upstreams.sorted { $0.name < $1.name }
            let entries = sorted.map { JSONMember(key: $0.name, value: $0.canonicalValue) }
            members.append(JSONMember(key: "upstreams", value: .object(entries)))
        }
        // Likewise for the rate-limit sections; `default_rate_limits` is already in the routes.
        if rateLimitStore != RateLimitStoreConfiguration() {
            members.append(JSONMember(key: "rate_limit_store", value: rateLimitStore.canonicalValue))
        }
        if !rateLimits.isEmpty {
            let entries = rateLimits.sorted { $0.name < $1.name }.map { JSONMember(key: $0.name, value: $0.canonicalValue) }
            members.append(JSONMember(key: "rate_limits", value: .object(entries)))
        }
        if !trustedProxies.isEmpty {
            members.append(
                JSONMember(key: "trusted_proxies", value: .array(trustedProxies.map { .string($0.description) })))
        }
        if !apiKeys.isEmpty {
            let entries = apiKeys.map { key -> JSONMember in
                switch key.source {
                case .inline: JSONMember(key: key.name, value: .string(APIKeyConfiguration.redacted))
                case .file(let path):
                    JSONMember(key: key.name, value: .object([JSONMember(key: "file", value: .string(path))]))
                }
            }
            members.append(JSONMember(key: "api_keys", value: .object(entries.sorted { $0.key < $1.key })))
        }
        if !jwks.isEmpty {
            let entries = jwks.map {
                JSONMember(key: $0.name, value: .object([JSONMember(key: "file", value: .string($0.file))]))
            }
            members.append(JSONMember(key: "jwks", value: .object(entries.sorted { $0.key < $1.key })))
        }
        if let openAPI {
            members.append(JSONMember(key: "openapi", value: openAPI.canonicalValue))
        }
        if log != LogConfiguration() {
            members.append(JSONMember(key: "log", value: .object([JSONMember(key: "level", value: .string(log.level.rawValue))])))
        }
        members.sort { $0.key < $1.key }
        return .object(members)
    }
}

extension CORSConfiguration {
    var canonicalValue: JSONValue {
        var members = [
            JSONMember(key: "allow_credentials", value: .bool(allowCredentials)),
            JSONMember(key: "allow_headers", value: .array(allowHeaders.map { .string($0) })),
        ]
        if let allowMethods {
            members.append(JSONMember(key: "allow_methods", value: .array(allowMethods.map { .string($0) })))
        }
        members += [
            JSONMember(key: "allow_origins", value: .array(allowOrigins.map { .string($0.description) })),
            JSONMember(key: "expose_headers", value: .array(exposeHeaders.map { .string($0) })),
            JSONMember(key: "max_age", value: .string(DurationSyntax.render(maxAge))),
        ]
        return .object(members)
    }
}

extension OpenAPIConfiguration {
    var canonicalValue: JSONValue {
        var members: [JSONMember] = []
        if let description { members.append(JSONMember(key: "description", value: .string(description))) }
        members += [
            JSONMember(key: "docs_path", value: docsPath.map { .string($0) } ?? .null),
            JSONMember(key: "path", value: .string(path)),
            JSONMember(key: "title", value: .string(title)),
            JSONMember(key: "version", value: .string(version)),
        ]
        return .object(members)
    }
}

extension RateLimitPolicyConfiguration {
    var canonicalValue: JSONValue {
        let keyValue: JSONValue
        switch key {
        case .clientIP: keyValue = .string("client_ip")
        case .route: keyValue = .string("route")
        case .identity: keyValue = .string("identity")
        case .header(let name): keyValue = .object([JSONMember(key: "header", value: .string(name))])
        }
        return .object([
            JSONMember(key: "burst", value: .number(String(burst))),
            JSONMember(key: "key", value: keyValue),
            JSONMember(key: "limit", value: .string(limit.description)),
            JSONMember(key: "store", value: .string(store.rawValue)),
        ])
    }
}

extension RouteAuthConfiguration {
    var canonicalValue: JSONValue {
        var members = [
            JSONMember(key: "hide_credentials", value: .bool(hideCredentials)),
            JSONMember(key: "realm", value: .string(realm)),
        ]
        switch method {
        case .apiKey(let apiKey):
            var keyMembers: [JSONMember] = []
            if let allow = apiKey.allow {
                keyMembers.append(JSONMember(key: "allow", value: .array(allow.map { .string($0) })))
            }
            if let header = apiKey.header { keyMembers.append(JSONMember(key: "header", value: .string(header))) }
            if let query = apiKey.query { keyMembers.append(JSONMember(key: "query", value: .string(query))) }
            members.insert(JSONMember(key: "api_key", value: .object(keyMembers)), at: 0)
        case .jwt(let jwt):
            var jwtMembers = [
                JSONMember(key: "algorithms", value: .array(jwt.algorithms.map { .string($0) }))
            ]
            if !jwt.audiences.isEmpty {
                jwtMembers.append(JSONMember(key: "audience", value: .array(jwt.audiences.map { .string($0) })))
            }
            jwtMembers.append(JSONMember(key: "clock_skew", value: .string(DurationSyntax.render(jwt.clockSkew))))
            if !jwt.issuers.isEmpty {
                jwtMembers.append(JSONMember(key: "issuer", value: .array(jwt.issuers.map { .string($0) })))
            }
            jwtMembers.append(JSONMember(key: "jwks", value: .string(jwt.jwks)))
            jwtMembers.append(JSONMember(key: "max_token_bytes", value: .number(String(jwt.maxTokenBytes))))
            if !jwt.required.isEmpty {
                let claims = jwt.required.sorted { $0.name < $1.name }.map {
                    JSONMember(key: $0.name, value: .array($0.values.map { .string($0) }))
                }
                jwtMembers.append(JSONMember(key: "require", value: .object(claims)))
            }
            members.append(JSONMember(key: "jwt", value: .object(jwtMembers)))
        }
        return .object(members)
    }
}

extension RateLimitStoreConfiguration {
    var canonicalValue: JSONValue {
        var members = [
            JSONMember(
                key: "memory", value: .object([JSONMember(key: "max_keys", value: .number(String(memoryMaxKeys)))]))
        ]
        if let redis {
            members.append(
                JSONMember(
                    key: "redis",
                    value: .object([
                        JSONMember(key: "failure_mode", value: .string(redis.failureMode.rawValue)),
                        JSONMember(key: "timeout", value: .string(DurationSyntax.render(redis.timeout))),
                        JSONMember(key: "url", value: .string(redis.url)),
                    ])))
        }
        return .object(members)
    }
}

extension ListenerConfiguration {
    var canonicalValue: JSONValue {
        var members = [
            JSONMember(key: "address", value: .string(address.description)),
            JSONMember(key: "name", value: .string(name)),
        ]
        if let tls {
            members.append(JSONMember(key: "tls", value: tls.canonicalValue))
        }
        return .object(members)
    }
}

extension TLSListenerConfiguration {
    var canonicalValue: JSONValue {
        var members = [JSONMember(key: "certificates", value: .array(certificates.map(\.canonicalValue)))]
        if let ciphers {
            members.append(JSONMember(key: "ciphers", value: .string(ciphers)))
        }
        if let cipherSuites {
            members.append(JSONMember(key: "ciphersuites", value: .string(cipherSuites)))
        }
        members += [
            JSONMember(key: "handshake_timeout", value: .string(DurationSyntax.render(handshakeTimeout))),
            JSONMember(key: "min_version", value: .string(minVersion.rawValue)),
            JSONMember(key: "session_tickets", value: .bool(sessionTickets)),
        ]
        return .object(members)
    }
}

extension CertificateConfiguration {
    var canonicalValue: JSONValue {
        .object([
            JSONMember(key: "certificate", value: .string(certificatePath)),
            JSONMember(key: "generate_if_missing", value: .bool(generateIfMissing)),
            JSONMember(key: "key", value: .string(keyPath)),
            JSONMember(key: "name", value: .string(name)),
            JSONMember(key: "server_names", value: .array(serverNames.map { .string($0) })),
        ])
    }
}

extension RouteConfiguration {
    var canonicalValue: JSONValue {
        var match: [JSONMember] = []
        if let host = self.match.host {
            match.append(JSONMember(key: "host", value: .string(host)))
        }
        if let methods = self.match.methods {
            match.append(JSONMember(key: "methods", value: .array(methods.map { .string($0) })))
        }
        switch self.match.path {
        case .exact(let template):
            match.append(JSONMember(key: "path", value: .string(template)))
        case .prefix(let template):
            match.append(JSONMember(key: "prefix", value: .string(template)))
        }
        var members: [JSONMember] = [
            JSONMember(key: "match", value: .object(match)),
            JSONMember(key: "name", value: .string(name)),
        ]
        // Only a limited route shows its rate-limit keys, so older fingerprints stay the same.
        if !rateLimits.isEmpty {
            members.append(JSONMember(key: "rate_limit_headers", value: .bool(rateLimitHeaders)))
            members.append(JSONMember(key: "rate_limits", value: .array(rateLimits.map { .string($0) })))
        }
        if let maxBodyBytes { members.append(JSONMember(key: "max_body_bytes", value: .number(String(maxBodyBytes)))) }
        if let auth { members.append(JSONMember(key: "auth", value: auth.canonicalValue)) }
        // Likewise only a compressing route shows `compression`.
        if let compression {
            members.append(
                JSONMember(
                    key: "compression",
                    value: .object([
                        JSONMember(key: "gzip", value: .bool(true)),
                        JSONMember(key: "level", value: .number(String(compression.level))),
                        JSONMember(key: "min_size", value: .number(String(compression.minSize))),
                        JSONMember(key: "types", value: .array(compression.types.map { .string($0) })),
                    ])))
        }
        if let validation { members.append(JSONMember(key: "validation", value: validation.canonicalValue)) }
        if let decompression = requestDecompression {
            var object = [JSONMember(key: "max_ratio", value: .number(String(decompression.maxRatio)))]
            if let maxBytes = decompression.maxBytes {
                object.insert(JSONMember(key: "max_bytes", value: .number(String(maxBytes))), at: 0)
            }
            members.append(JSONMember(key: "request_decompression", value: .object(object)))
        }
        if let cors { members.append(JSONMember(key: "cors", value: cors.canonicalValue)) }
        switch action {
        case .handler(let handler):
            members.append(JSONMember(key: "handler", value: .string(handler.rawValue)))
        case .upstream(let proxy):
            if !proxy.requestHeaders.isEmpty || !proxy.responseHeaders.isEmpty {
                members.append(
                    JSONMember(
                        key: "headers",
                        value: .object([
                            JSONMember(key: "request", value: proxy.requestHeaders.canonicalValue),
                            JSONMember(key: "response", value: proxy.responseHeaders.canonicalValue),
                        ])))
            }
            members.append(
                JSONMember(key: "request_timeout", value: .string(DurationSyntax.render(proxy.requestTimeout))))
            switch proxy.pathRewrite {
            case .none: break
            case .replace(let text): members.append(JSONMember(key: "rewrite", value: .string(text)))
            case .stripPrefix: members.append(JSONMember(key: "strip_prefix", value: .bool(true)))
            }
            members.append(JSONMember(key: "upstream", value: .string(proxy.upstream)))
        }
        members.sort { $0.key < $1.key }
        return .object(members)
    }
}

extension ValidationConfiguration {
    /// Schemas as written (their member order is the order pydantic reports
    /// fields in, so it counts); a schema file by its path, as certificates are.
    var canonicalValue: JSONValue {
        func parameters(_ list: [ValidatedParameter]) -> JSONValue {
            .object(list.map { JSONMember(key: $0.name, value: $0.schema.canonicalValue) })
        }
        var members: [JSONMember] = []
        if let body { members.append(JSONMember(key: "body", value: body.canonicalValue)) }
        if !headers.isEmpty { members.append(JSONMember(key: "headers", value: parameters(headers))) }
        if !path.isEmpty { members.append(JSONMember(key: "path", value: parameters(path))) }
        if !query.isEmpty { members.append(JSONMember(key: "query", value: parameters(query))) }
        var required: [JSONMember] = []
        let requiredHeaders = headers.filter(\.required).map { JSONValue.string($0.name) }
        let requiredQuery = query.filter(\.required).map { JSONValue.string($0.name) }
        if !requiredHeaders.isEmpty { required.append(JSONMember(key: "headers", value: .array(requiredHeaders))) }
        if !requiredQuery.isEmpty { required.append(JSONMember(key: "query", value: .array(requiredQuery))) }
        if !required.isEmpty { members.append(JSONMember(key: "required", value: .object(required))) }
        return .object(members)
    }
}

extension ValidationSchema {
    var canonicalValue: JSONValue {
        if let file { return .object([JSONMember(key: "file", value: .string(file))]) }
        return JSONValue(self.document)
    }
}

extension JSONValue {
    /// A schema document back in the configuration's own values.
    init(_ value: GatewayValidation.JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .number(let number): self = .number(number.lexeme)
        case .string(let text): self = .string(text)
        case .array(let elements): self = .array(elements.map(JSONValue.init))
        case .object(let object): self = .object(object.pairs.map { JSONMember(key: $0, value: JSONValue($1)) })
        }
    }
}

extension UpstreamConfiguration {
    var canonicalValue: JSONValue {
        // Keys sorted; the optional policies only when set, so older files keep their fingerprint.
        var members = [
            JSONMember(key: "connect_timeout", value: .string(DurationSyntax.render(connectTimeout)))
        ]
        if let healthCheck { members.append(JSONMember(key: "health_check", value: healthCheck.canonicalValue)) }
        members += [
            JSONMember(key: "idle_timeout", value: .string(DurationSyntax.render(idleTimeout))),
            JSONMember(key: "load_balancing", value: .string(loadBalancing.rawValue)),
            JSONMember(key: "max_connections_per_loop", value: .number(String(maxConnectionsPerLoop))),
        ]
        if let outlierDetection {
            members.append(JSONMember(key: "outlier_detection", value: outlierDetection.canonicalValue))
        }
        if let retries { members.append(JSONMember(key: "retries", value: retries.canonicalValue)) }
        if loadBalancing == .consistentHash {
            switch hashOn {
            case .clientIP:
                members.append(JSONMember(key: "hash_on", value: .string("client_ip")))
            case .header(let name):
                members.append(JSONMember(key: "hash_header", value: .string(name)))
                members.append(JSONMember(key: "hash_on", value: .string("header")))
            }
        }
        members += [
            JSONMember(key: "scheme", value: .string(scheme.rawValue)),
            JSONMember(
                key: "targets",
                value: .array(
                    targets.map {
                        .object([
                            JSONMember(key: "address", value: .string($0.address.description)),
                            JSONMember(key: "weight", value: .number(String($0.weight))),
                        ])
                    })),
        ]
        if let tls {
            var tlsMembers: [JSONMember] = []
            if let caFile = tls.caFile { tlsMembers.append(JSONMember(key: "ca_file", value: .string(caFile))) }
            if let serverName = tls.serverName {
                tlsMembers.append(JSONMember(key: "server_name", value: .string(serverName)))
            }
            tlsMembers.append(JSONMember(key: "verify", value: .bool(tls.verify)))
            members.append(JSONMember(key: "tls", value: .object(tlsMembers)))
        }
        return .object(members)
    }
}

extension HealthCheckConfiguration {
    var canonicalValue: JSONValue {
        .object([
            JSONMember(key: "expected_status", value: .string(expectedStatus.description)),
            JSONMember(key: "healthy_threshold", value: .number(String(healthyThreshold))),
            JSONMember(key: "interval", value: .string(DurationSyntax.render(interval))),
            JSONMember(key: "path", value: .string(path)),
            JSONMember(key: "timeout", value: .string(DurationSyntax.render(timeout))),
            JSONMember(key: "unhealthy_threshold", value: .number(String(unhealthyThreshold))),
        ])
    }
}

extension OutlierDetectionConfiguration {
    var canonicalValue: JSONValue {
        .object([
            JSONMember(key: "consecutive_failures", value: .number(String(consecutiveFailures))),
            JSONMember(key: "ejection_time", value: .string(DurationSyntax.render(ejectionTime))),
            JSONMember(key: "max_ejection_time", value: .string(DurationSyntax.render(maxEjectionTime))),
        ])
    }
}

extension RetryConfiguration {
    var canonicalValue: JSONValue {
        .object([
            JSONMember(key: "attempts", value: .number(String(attempts))),
            JSONMember(key: "budget_percent", value: .number(String(budgetPercent))),
            JSONMember(key: "min_retries_per_second", value: .number(String(minRetriesPerSecond))),
            JSONMember(key: "on", value: .array(on.names.map { .string($0) })),
        ])
    }
}

extension HeaderRules {
    var canonicalValue: JSONValue {
        func map(_ fields: [HeaderField]) -> JSONValue {
            .object(fields.sorted { $0.name < $1.name }.map { JSONMember(key: $0.name, value: .string($0.value)) })
        }
        return .object([
            JSONMember(key: "add", value: map(self.add)),
            JSONMember(key: "remove", value: .array(self.remove.sorted().map { .string($0) })),
            JSONMember(key: "set", value: map(self.set)),
        ])
    }
}

// MARK: Writing JSON

extension JSONValue {
    /// Compact JSON; members in the order given (callers sort them).
    func write(to output: inout String) {
        switch self {
        case .null:
            output += "null"
        case .bool(let value):
            output += value ? "true" : "false"
        case .number(let text):
            output += text
        case .string(let text):
            Self.writeString(text, to: &output)
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.write(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { output += "," }
                Self.writeString(member.key, to: &output)
                output += ":"
                member.value.write(to: &output)
            }
            output += "}"
        }
    }

    private static func writeString(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
