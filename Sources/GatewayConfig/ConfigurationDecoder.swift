// Turns a parsed gateway.json into a GatewayConfiguration, collecting every
// problem instead of stopping at the first (Codable's behaviour): an operator
// fixing a file wants the whole list in one go.
//
// Convention: every `decode…`/typed accessor returns nil only after reporting a
// problem (or, for optional fields, when the field is absent), so "no problems"
// means every required value is present.

/// A value in the document together with where it is.
struct JSONField {
    var value: JSONValue
    var path: JSONPath
}

/// An object whose keys have been checked against the allowed set.
struct JSONObjectView {
    var path: JSONPath
    private var members: [String: JSONValue]

    init(path: JSONPath, members: [String: JSONValue]) {
        self.path = path
        self.members = members
    }

    /// The member, or nil when absent.
    func field(_ key: String) -> JSONField? {
        members[key].map { JSONField(value: $0, path: path.appending(key: key)) }
    }
}

struct ConfigurationDecoder {
    /// Absolute directory that relative file paths are resolved against.
    let baseDirectory: String
    private(set) var problems: [ConfigurationProblem] = []

    // Cross-entry state for uniqueness checks: value → path of its first use.
    private var listenerNames: [String: JSONPath] = [:]
    private var listenerAddresses: [SocketAddressConfiguration: JSONPath] = [:]
    private var routeNames: [String: JSONPath] = [:]
    private var decodedRoutes: [(path: JSONPath, route: RouteConfiguration)] = []
    /// Names in `upstreams`, so a route naming another one is reported.
    var upstreamNames: Set<String> = []
    /// Names in `rate_limits`, so routes naming another one are reported.
    var rateLimitNames: Set<String> = []
    /// `default_rate_limits`: the policies of routes without their own `rate_limits`.
    var defaultRateLimits: [String]?
    /// Policies whose key is `identity`: only routes with `auth` may list them.
    var identityRateLimits: Set<String> = []
    /// Names in `api_keys` and `jwks`, so a route's `auth` naming another one is reported.
    var apiKeyNames: Set<String> = []
    var jwksNames: Set<String> = []

    init(baseDirectory: String) {
        self.baseDirectory = baseDirectory
    }

    mutating func report(_ path: JSONPath, _ message: String) {
        problems.append(ConfigurationProblem(path: path.description, message: message))
    }

    // MARK: Document

    mutating func decodeDocument(_ root: JSONValue) -> GatewayConfiguration? {
        guard let document = object(JSONField(value: root, path: .root), keys: ConfigurationKeys.document) else {
            return nil
        }
        // "$schema" is for editors; it only has to be a string.
        _ = string(document.field("$schema"))
        let listeners = decodeListeners(required(document, "listeners"))
        let admin = document.field("admin").map { decodeAdmin($0) } ?? AdminConfiguration()
        let http = document.field("http").map { decodeHTTP($0) } ?? HTTPConfiguration()
        let accessLog = document.field("access_log").map { decodeAccessLog($0) } ?? AccessLogConfiguration()
        let log = document.field("log").map { decodeLog($0) } ?? LogConfiguration()
        let shutdown = document.field("shutdown").map { decodeShutdown($0) } ?? ShutdownConfiguration()
        let reload = document.field("reload").map { decodeReload($0) } ?? ReloadConfiguration()
        let eventLoops =
            integer(document.field("event_loops"), minimum: 0) ?? GatewayConfiguration.defaultEventLoops
        // Upstreams first, so routes can check the names they refer to.
        let upstreams = document.field("upstreams").map { decodeUpstreams($0) } ?? []
        // Rate limits before routes too; the store before the policies that use it.
        let trustedProxies = document.field("trusted_proxies").map { decodeTrustedProxies($0) } ?? []
        let storeField = document.field("rate_limit_store")
        let rateLimitStore = storeField.map { decodeRateLimitStore($0) } ?? RateLimitStoreConfiguration()
        let redisConfigured: Bool? =
            rateLimitStore.map { $0.redis != nil } ?? (storeField.flatMap { field -> Bool? in
                if case .object(let members) = field.value, !members.contains(where: { $0.key == "redis" }) {
                    return false
                }
                return nil
            })
        let rateLimits =
            document.field("rate_limits").map { decodeRateLimits($0, redisConfigured: redisConfigured) } ?? []
        if let defaultsField = document.field("default_rate_limits") {
            defaultRateLimits = decodeRateLimitNames(defaultsField)
        }
        // Keys before the routes whose `auth` names them.
        let apiKeys = document.field("api_keys").map { decodeAPIKeys($0) } ?? []
        let jwks = document.field("jwks").map { decodeJWKS($0) } ?? []
        let routes = decodeRoutes(required(document, "routes"))
        let openAPIField = document.field("openapi")
        let openAPI = decodeOpenAPI(openAPIField)
        if let openAPI = openAPI ?? nil, let routes, let openAPIField {
            checkOpenAPIConflicts(openAPI, routes: routes, at: openAPIField.path)
        }

        guard problems.isEmpty, let openAPI, let listeners, let admin, let http, let accessLog, let shutdown, let reload,
            let routes, let upstreams, let trustedProxies, let rateLimitStore, let rateLimits, let log, let apiKeys,
            let jwks
        else {
            return nil
        }
        return GatewayConfiguration(
            listeners: listeners,
            admin: admin,
            http: http,
            accessLog: accessLog,
            shutdown: shutdown,
            reload: reload,
            eventLoops: eventLoops,
            routes: routes,
            upstreams: upstreams,
            rateLimits: rateLimits,
            rateLimitStore: rateLimitStore,
            trustedProxies: trustedProxies,
            log: log,
            apiKeys: apiKeys,
            jwks: jwks,
            openAPI: openAPI
        )
    }

    // MARK: Sections

    private mutating func decodeAdmin(_ field: JSONField) -> AdminConfiguration? {
        guard let admin = object(field, keys: ConfigurationKeys.admin) else { return nil }
        let address = address(admin.field("address")) ?? AdminConfiguration.defaultAddress
        if address.port != 0, let listenerPath = listenerAddresses[address] {
            report(admin.path.appending(key: "address"), "\"\(address)\" is also the address of \(listenerPath)")
        }
        return AdminConfiguration(address: address)
    }

    private mutating func decodeHTTP(_ field: JSONField) -> HTTPConfiguration? {
        guard let http = object(field, keys: ConfigurationKeys.http) else { return nil }
        let defaults = HTTPConfiguration()
        return HTTPConfiguration(
            maxHeaderBytes: integer(http.field("max_header_bytes"), minimum: 1) ?? defaults.maxHeaderBytes,
            maxBodyBytes: integer(http.field("max_body_bytes"), minimum: 0) ?? defaults.maxBodyBytes,
            idleTimeout: duration(http.field("idle_timeout")) ?? defaults.idleTimeout,
            requestHeadTimeout: duration(http.field("request_head_timeout")) ?? defaults.requestHeadTimeout,
            bodyTimeout: duration(http.field("body_timeout")) ?? defaults.bodyTimeout
        )
    }

    private mutating func decodeLog(_ field: JSONField) -> LogConfiguration? {
        guard let log = object(field, keys: ConfigurationKeys.log) else { return nil }
        guard let levelField = log.field("level") else { return LogConfiguration() }
        guard let text = string(levelField) else { return nil }
        guard let level = LogConfiguration.Level(rawValue: text) else {
            let known = LogConfiguration.Level.allCases.map(\.rawValue).joined(separator: ", ")
            report(levelField.path, "unknown level \"\(text)\" (known: \(known))")
            return nil
        }
        return LogConfiguration(level: level)
    }

    private mutating func decodeAccessLog(_ field: JSONField) -> AccessLogConfiguration? {
        guard let accessLog = object(field, keys: ConfigurationKeys.accessLog) else { return nil }
        return AccessLogConfiguration(enabled: bool(accessLog.field("enabled")) ?? true)
    }

    private mutating func decodeShutdown(_ field: JSONField) -> ShutdownConfiguration? {
        guard let shutdown = object(field, keys: ConfigurationKeys.shutdown) else { return nil }
        return ShutdownConfiguration(
            drainTimeout: duration(shutdown.field("drain_timeout")) ?? ShutdownConfiguration().drainTimeout
        )
    }

    private mutating func decodeReload(_ field: JSONField) -> ReloadConfiguration? {
        guard let reload = object(field, keys: ConfigurationKeys.reload) else { return nil }
        let defaults = ReloadConfiguration()
        return ReloadConfiguration(
            watch: bool(reload.field("watch")) ?? defaults.watch,
            debounce: duration(reload.field("debounce")) ?? defaults.debounce
        )
    }

    // MARK: Listeners

    private mutating func decodeListeners(_ field: JSONField?) -> [ListenerConfiguration]? {
        guard let elements = array(field), let field else { return nil }
        if elements.isEmpty {
            report(field.path, "must contain at least one listener")
            return nil
        }
        let listeners = elements.map { decodeListener($0) }
        return listeners.contains(where: { $0 == nil }) ? nil : listeners.compactMap { $0 }
    }

    private mutating func decodeListener(_ field: JSONField) -> ListenerConfiguration? {
        guard let listener = object(field, keys: ConfigurationKeys.listener) else { return nil }
        let name = labelName(required(listener, "name"))
        if let name, let nameField = listener.field("name") {
            if let first = listenerNames[name] {
                report(nameField.path, "duplicate listener name \"\(name)\" (also \(first))")
            } else {
                listenerNames[name] = listener.path
            }
        }
        let address = address(required(listener, "address"))
        if let address, address.port != 0, let addressField = listener.field("address") {
            // Port 0 is exempt: every such listener gets its own ephemeral port.
            if let first = listenerAddresses[address] {
                report(addressField.path, "duplicate listener address \"\(address)\" (also \(first))")
            } else {
                listenerAddresses[address] = listener.path
            }
        }
        let tlsField = listener.field("tls")
        let tls = tlsField.flatMap { decodeTLS($0) }
        guard let name, let address, tlsField == nil || tls != nil else { return nil }
        return ListenerConfiguration(name: name, address: address, tls: tls)
    }

    private mutating func decodeTLS(_ field: JSONField) -> TLSListenerConfiguration? {
        guard let tls = object(field, keys: ConfigurationKeys.tls) else { return nil }
        let certificates = decodeCertificates(required(tls, "certificates"))
        var minVersion = TLSMinimumVersion.tls12
        if let versionField = tls.field("min_version"), let text = string(versionField) {
            if let version = TLSMinimumVersion(rawValue: text) {
                minVersion = version
            } else {
                let known = TLSMinimumVersion.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                report(versionField.path, "unknown TLS version \"\(text)\" (expected \(known))")
            }
        }
        let ciphers = nonEmptyString(tls.field("ciphers"))
        let cipherSuites = nonEmptyString(tls.field("ciphersuites"))
        let sessionTickets = bool(tls.field("session_tickets")) ?? true
        let handshakeTimeout = duration(tls.field("handshake_timeout")) ?? .seconds(10)
        guard let certificates else { return nil }
        return TLSListenerConfiguration(
            certificates: certificates,
            minVersion: minVersion,
            ciphers: ciphers,
            cipherSuites: cipherSuites,
            sessionTickets: sessionTickets,
            handshakeTimeout: handshakeTimeout
        )
    }

    private mutating func decodeCertificates(_ field: JSONField?) -> [CertificateConfiguration]? {
        guard let elements = array(field), let field else { return nil }
        if elements.isEmpty {
            report(field.path, "must contain at least one certificate")
            return nil
        }
        var seen = CertificateNames()
        let certificates = elements.map { decodeCertificate($0, seen: &seen) }
        return certificates.contains(where: { $0 == nil }) ? nil : certificates.compactMap { $0 }
    }

    /// Names already used by the certificates of one listener.
    private struct CertificateNames {
        var names: [String: JSONPath] = [:]
        /// SNI must pick exactly one certificate per server name.
        var serverNames: [String: (certificate: String, path: JSONPath)] = [:]
    }

    private mutating func decodeCertificate(_ field: JSONField, seen: inout CertificateNames)
        -> CertificateConfiguration?
    {
        guard let certificate = object(field, keys: ConfigurationKeys.certificate) else { return nil }
        let name = labelName(required(certificate, "name"))
        if let name, let nameField = certificate.field("name") {
            if let first = seen.names[name] {
                report(nameField.path, "duplicate certificate name \"\(name)\" (also \(first))")
            } else {
                seen.names[name] = certificate.path
            }
        }
        let certificatePath = nonEmptyString(required(certificate, "certificate")).map(resolveFilePath)
        let keyPath = nonEmptyString(required(certificate, "key")).map(resolveFilePath)
        var serverNames: [String] = []
        var serverNamesValid = true
        if let elements = array(certificate.field("server_names")) {
            for element in elements {
                guard let text = string(element) else {
                    serverNamesValid = false
                    continue
                }
                guard HostSyntax.isHostPattern(Substring(text)) else {
                    report(
                        element.path,
                        "invalid server name \"\(text)\" (expected a host name, optionally starting with \"*.\")"
                    )
                    serverNamesValid = false
                    continue
                }
                let lowercased = text.lowercased()
                guard !serverNames.contains(lowercased) else { continue }
                if let first = seen.serverNames[lowercased] {
                    report(
                        element.path,
                        "server name \"\(lowercased)\" is also served by certificate "
                            + "\"\(first.certificate)\" (\(first.path))"
                    )
                    serverNamesValid = false
                } else {
                    seen.serverNames[lowercased] = (name ?? "", certificate.path)
                }
                serverNames.append(lowercased)
            }
        } else if certificate.field("server_names") != nil {
            serverNamesValid = false
        }
        let generateIfMissing = bool(certificate.field("generate_if_missing")) ?? false
        guard let name, let certificatePath, let keyPath, serverNamesValid else { return nil }
        return CertificateConfiguration(
            name: name,
            certificatePath: certificatePath,
            keyPath: keyPath,
            serverNames: serverNames,
            generateIfMissing: generateIfMissing
        )
    }

    // MARK: Routes

    private mutating func decodeRoutes(_ field: JSONField?) -> [RouteConfiguration]? {
        guard let elements = array(field) else { return nil }
        let routes = elements.map { decodeRoute($0) }
        return routes.contains(where: { $0 == nil }) ? nil : routes.compactMap { $0 }
    }

    private mutating func decodeRoute(_ field: JSONField) -> RouteConfiguration? {
        guard let route = object(field, keys: ConfigurationKeys.route) else { return nil }
        let name = labelName(required(route, "name"))
        if let name, let nameField = route.field("name") {
            if let first = routeNames[name] {
                report(nameField.path, "duplicate route name \"\(name)\" (also \(first))")
            } else {
                routeNames[name] = route.path
            }
        }
        let match = required(route, "match").flatMap { decodeMatch($0) }
        let action = decodeRouteAction(route, match: match)
        let rateLimits = decodeRouteRateLimits(route)
        let compression = route.field("compression").map { decodeCompression($0) } ?? .some(nil)
        let maxBodyField = route.field("max_body_bytes")
        let maxBodyBytes = integer(maxBodyField, minimum: 0)
        let decompression =
            route.field("request_decompression").map { decodeRequestDecompression($0) } ?? .some(nil)
        let validationField = route.field("validation")
        let validation = validationField.flatMap { decodeValidation($0, match: match) }
        let authField = route.field("auth")
        let auth = authField.flatMap { decodeRouteAuth($0) }
        if let rateLimits, authField == nil {
            checkIdentityRateLimits(rateLimits.names, route: route)
        }
        let cors = decodeCORS(route.field("cors"))
        guard let name, let match, let action, let rateLimits, let compression,
            maxBodyField == nil || maxBodyBytes != nil, let decompression, validationField == nil || validation != nil,
            authField == nil || auth != nil, let cors
        else { return nil }
        let decoded = RouteConfiguration(
            name: name, match: match, action: action, rateLimits: rateLimits.names,
            rateLimitHeaders: rateLimits.headers, compression: compression, maxBodyBytes: maxBodyBytes,
            requestDecompression: decompression, validation: validation, auth: auth, cors: cors)
        checkConflicts(decoded, at: route.path)
        decodedRoutes.append((route.path, decoded))
        return decoded
    }

    /// A policy keyed by `identity` counts by who authenticated: a route without `auth` has nobody.
    private mutating func checkIdentityRateLimits(_ names: [String], route: JSONObjectView) {
        for name in names where identityRateLimits.contains(name) {
            if route.field("rate_limits") != nil {
                report(
                    route.path.appending(key: "rate_limits"),
                    "policy \"\(name)\" counts by identity, which needs \"auth\" on the route")
            } else {
                report(
                    route.path,
                    "default_rate_limits policy \"\(name)\" counts by identity, which needs \"auth\" on the route "
                        + "(or give the route its own \"rate_limits\")")
            }
        }
    }

    /// The built-in handler of a route.
    mutating func decodeHandler(_ handlerField: JSONField) -> BuiltInHandlerName? {
        guard let text = string(handlerField) else { return nil }
        guard let handler = BuiltInHandlerName(rawValue: text) else {
            let known = BuiltInHandlerName.allCases.map(\.rawValue).joined(separator: ", ")
            report(handlerField.path, "unknown handler \"\(text)\" (known: \(known))")
            return nil
        }
        return handler
    }

    private mutating func decodeMatch(_ field: JSONField) -> RouteMatchConfiguration? {
        guard let match = object(field, keys: ConfigurationKeys.match) else { return nil }
        var pattern: PathPattern?
        switch (match.field("path"), match.field("prefix")) {
        case (nil, nil):
            report(match.path, "one of \"path\" or \"prefix\" is required")
        case (.some, .some):
            report(match.path, "\"path\" and \"prefix\" are exclusive; use one of them")
        case (let pathField?, nil):
            if let text = string(pathField) {
                if let problem = PathPattern.validateExact(text) {
                    report(pathField.path, problem.message)
                } else {
                    pattern = .exact(text)
                }
            }
        case (nil, let prefixField?):
            if let text = string(prefixField) {
                if let problem = PathPattern.validatePrefix(text) {
                    report(prefixField.path, problem.message)
                } else {
                    pattern = .prefix(text)
                }
            }
        }
        let methodsField = match.field("methods")
        let methods = methodsField.flatMap { decodeMethods($0) }
        let hostField = match.field("host")
        var host: String?
        if let hostField, let text = string(hostField) {
            if HostSyntax.isHostPattern(Substring(text)) {
                host = text.lowercased()
            } else if text.contains(":") && !HostSyntax.isIPv6Literal(Substring(text)) {
                report(hostField.path, "must be a host name without a port, got \"\(text)\"")
            } else {
                report(
                    hostField.path,
                    "invalid host \"\(text)\" (expected a host name, optionally starting with \"*.\")"
                )
            }
        }
        guard let pattern, methodsField == nil || methods != nil, hostField == nil || host != nil else {
            return nil
        }
        return RouteMatchConfiguration(path: pattern, methods: methods, host: host)
    }

    private mutating func decodeMethods(_ field: JSONField) -> [String]? {
        guard let elements = array(field) else { return nil }
        if elements.isEmpty {
            report(field.path, "must not be empty (leave \"methods\" out to match every method)")
            return nil
        }
        var methods: [String] = []
        var allValid = true
        for element in elements {
            guard let method = string(element) else {
                allValid = false
                continue
            }
            guard !method.isEmpty, method.unicodeScalars.allSatisfy(Self.isTokenCharacter) else {
                report(element.path, "invalid method \"\(method)\" (expected an HTTP method token such as \"GET\")")
                allValid = false
                continue
            }
            guard method == method.uppercased() else {
                report(
                    element.path,
                    "method \"\(method)\" must be uppercase (did you mean \"\(method.uppercased())\"?)"
                )
                allValid = false
                continue
            }
            if !methods.contains(method) {
                methods.append(method)
            }
        }
        return allValid ? methods : nil
    }

    /// RFC 9110 `tchar`.
    static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return false }
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9":
            return true
        default:
            return "!#$%&'*+-.^_`|~".unicodeScalars.contains(scalar)
        }
    }

    /// Two routes conflict when a request could match both equally: same host,
    /// same path shape and at least one method in common.
    private mutating func checkConflicts(_ route: RouteConfiguration, at path: JSONPath) {
        for earlier in decodedRoutes {
            let other = earlier.route
            guard other.match.host == route.match.host,
                other.match.path.matchingShape == route.match.path.matchingShape
            else { continue }
            let overlap: String
            switch (route.match.methods, other.match.methods) {
            case (nil, nil):
                overlap = "every method"
            case (let methods?, nil), (nil, let methods?):
                overlap = methods.joined(separator: ", ")
            case (let mine?, let theirs?):
                let common = mine.filter(theirs.contains)
                guard !common.isEmpty else { continue }
                overlap = common.joined(separator: ", ")
            }
            let kind: String
            switch route.match.path {
            case .exact: kind = "path"
            case .prefix: kind = "prefix"
            }
            var message =
                "conflicts with \(earlier.path) (\"\(other.name)\"): "
                + "both match \(overlap) on \(kind) \"\(route.match.path.template)\""
            if let host = route.match.host {
                message += " for host \"\(host)\""
            }
            report(path.appending(key: "match"), message)
            return
        }
    }

    // MARK: File paths

    /// Relative paths are relative to the configuration file's directory, so a
    /// config works the same whatever the working directory of the gateway.
    private func resolveFilePath(_ path: String) -> String {
        FilePaths.resolve(path, against: baseDirectory)
    }
}

// MARK: Typed accessors

extension ConfigurationDecoder {
    /// The member, or nil after reporting `required`.
    mutating func required(_ object: JSONObjectView, _ key: String) -> JSONField? {
        guard let field = object.field(key) else {
            report(object.path.appending(key: key), "required")
            return nil
        }
        return field
    }

    /// Checks the value is an object without unknown or duplicate keys. Unknown and
    /// duplicate keys are reported but the known members are still returned, so their
    /// problems are found in the same pass.
    mutating func object(_ field: JSONField, keys: [String]) -> JSONObjectView? {
        guard case .object(let members) = field.value else {
            report(field.path, "expected an object")
            return nil
        }
        var known: [String: JSONValue] = [:]
        for member in members {
            let memberPath = field.path.appending(key: member.key)
            if !keys.contains(member.key) {
                report(memberPath, "unknown key" + KeySuggestion.hint(for: member.key, among: keys))
            } else if known[member.key] != nil {
                report(memberPath, "duplicate key")
            } else {
                known[member.key] = member.value
            }
        }
        return JSONObjectView(path: field.path, members: known)
    }

    mutating func array(_ field: JSONField?) -> [JSONField]? {
        guard let field else { return nil }
        guard case .array(let elements) = field.value else {
            report(field.path, "expected an array")
            return nil
        }
        return elements.enumerated().map { JSONField(value: $1, path: field.path.appending(index: $0)) }
    }

    mutating func string(_ field: JSONField?) -> String? {
        guard let field else { return nil }
        guard case .string(let text) = field.value else {
            report(field.path, "expected a string")
            return nil
        }
        return text
    }

    mutating func nonEmptyString(_ field: JSONField?) -> String? {
        guard let field, let text = string(field) else { return nil }
        guard !text.isEmpty else {
            report(field.path, "must not be empty")
            return nil
        }
        return text
    }

    /// A name that ends up as a log field or Prometheus label value.
    mutating func labelName(_ field: JSONField?) -> String? {
        guard let field, let text = nonEmptyString(field) else { return nil }
        let allowed = text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
        guard allowed else {
            report(field.path, "invalid name \"\(text)\" (use only letters, digits, \"_\", \".\" and \"-\")")
            return nil
        }
        return text
    }

    mutating func bool(_ field: JSONField?) -> Bool? {
        guard let field else { return nil }
        guard case .bool(let value) = field.value else {
            report(field.path, "expected a boolean (true or false)")
            return nil
        }
        return value
    }

    mutating func integer(_ field: JSONField?, minimum: Int) -> Int? {
        guard let field else { return nil }
        guard case .number(let text) = field.value, let value = Int(text) else {
            if case .number(let text) = field.value, !text.contains(where: { ".eE".contains($0) }) {
                report(field.path, "integer out of range")
            } else {
                report(field.path, "expected an integer")
            }
            return nil
        }
        guard value >= minimum else {
            report(field.path, minimum == 0 ? "must not be negative" : "must be at least \(minimum)")
            return nil
        }
        return value
    }

    mutating func duration(_ field: JSONField?) -> Duration? {
        guard let field else { return nil }
        guard case .string(let text) = field.value else {
            report(field.path, "expected a duration string such as \"10s\"")
            return nil
        }
        do {
            return try DurationSyntax.parse(text)
        } catch {
            report(field.path, error.message)
            return nil
        }
    }

    mutating func address(_ field: JSONField?) -> SocketAddressConfiguration? {
        guard let field, let text = string(field) else { return nil }
        do {
            return try SocketAddressConfiguration.parse(text)
        } catch {
            report(field.path, error.message)
            return nil
        }
    }
}
