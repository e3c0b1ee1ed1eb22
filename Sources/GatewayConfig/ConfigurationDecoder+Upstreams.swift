// The proxy part of gateway.json: the top-level `upstreams` object and the
// route keys that send a request to one of them. Same conventions as
// ConfigurationDecoder.swift: every problem is reported with its JSON path, and
// nil is returned only after reporting.

extension ConfigurationDecoder {

    /// Header fields that frame the message or belong to one connection: a rule
    /// changing them would break the exchange, so the file may not name them.
    static let headersRulesMayNotChange: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "content-length",
    ]

    // MARK: Upstreams

    mutating func decodeUpstreams(_ field: JSONField) -> [UpstreamConfiguration]? {
        decodeNamedDefinitions(
            field, expected: "expected an object (upstream name → upstream)", names: \.upstreamNames, nameOf: \.name
        ) { decoder, name, value in decoder.decodeUpstream(name: name, value) }
    }

    private mutating func decodeUpstream(name: String, _ field: JSONField) -> UpstreamConfiguration? {
        guard let upstream = object(field, keys: ConfigurationKeys.upstream) else { return nil }
        let targets = decodeTargets(required(upstream, "targets"))
        var scheme = UpstreamScheme.http
        var schemeValid = true
        if let schemeField = upstream.field("scheme") {
            if let text = string(schemeField) {
                if let known = UpstreamScheme(rawValue: text) {
                    scheme = known
                } else {
                    report(schemeField.path, "unknown scheme \"\(text)\" (expected \"http\" or \"https\")")
                    schemeValid = false
                }
            } else {
                schemeValid = false
            }
        }
        var tls: UpstreamTLSConfiguration?
        var tlsValid = true
        if let tlsField = upstream.field("tls") {
            if scheme == .https {
                tls = decodeUpstreamTLS(tlsField)
                tlsValid = tls != nil
            } else if schemeValid {
                report(tlsField.path, "only applies to an upstream with \"scheme\": \"https\"")
                tlsValid = false
            }
        }
        let connectTimeout = duration(upstream.field("connect_timeout")) ?? UpstreamConfiguration.defaultConnectTimeout
        let idleTimeout = duration(upstream.field("idle_timeout")) ?? UpstreamConfiguration.defaultIdleTimeout
        let maxConnections =
            integer(upstream.field("max_connections_per_loop"), minimum: 1)
            ?? UpstreamConfiguration.defaultMaxConnectionsPerLoop
        var loadBalancing = LoadBalancingAlgorithm.roundRobin
        if let algorithmField = upstream.field("load_balancing"), let text = string(algorithmField) {
            if let algorithm = LoadBalancingAlgorithm(rawValue: text) {
                loadBalancing = algorithm
            } else {
                let known = LoadBalancingAlgorithm.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                report(algorithmField.path, "unknown load balancing \"\(text)\" (expected \(known))")
            }
        }
        var healthCheck: HealthCheckConfiguration?
        var outlierDetection: OutlierDetectionConfiguration?
        var retries: RetryConfiguration?
        var policiesValid = true
        if let field = upstream.field("health_check") {
            healthCheck = decodeHealthCheck(field)
            policiesValid = policiesValid && healthCheck != nil
        }
        if let field = upstream.field("outlier_detection") {
            outlierDetection = decodeOutlierDetection(field)
            policiesValid = policiesValid && outlierDetection != nil
        }
        if let field = upstream.field("retries") {
            retries = decodeRetries(field)
            policiesValid = policiesValid && retries != nil
        }
        var hashOn = HashKeySource.clientIP
        var hashValid = true
        let hashField = upstream.field("hash_on")
        let headerField = upstream.field("hash_header")
        if loadBalancing != .consistentHash {
            for field in [hashField, headerField].compactMap({ $0 }) {
                report(field.path, "only applies with \"load_balancing\": \"consistent_hash\"")
                hashValid = false
            }
        } else {
            switch hashField.map({ string($0) }) {
            case .none, .some("client_ip"?):
                if let headerField {
                    report(headerField.path, "only applies with \"hash_on\": \"header\"")
                    hashValid = false
                }
            case .some("header"?):
                if let headerField, let name = string(headerField) {
                    if name.isEmpty || !name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }) {
                        report(headerField.path, "invalid header name \"\(name)\"")
                        hashValid = false
                    } else {
                        hashOn = .header(name)
                    }
                } else if headerField == nil {
                    report(upstream.path.appending(key: "hash_header"), "required with \"hash_on\": \"header\"")
                    hashValid = false
                } else {
                    hashValid = false
                }
            case .some(let other?):
                report(hashField!.path, "unknown hash key \"\(other)\" (expected \"client_ip\" or \"header\")")
                hashValid = false
            case .some(nil):
                hashValid = false
            }
        }
        guard let targets, policiesValid, tlsValid, hashValid else { return nil }
        return UpstreamConfiguration(
            name: name, targets: targets, scheme: scheme, connectTimeout: connectTimeout, idleTimeout: idleTimeout,
            maxConnectionsPerLoop: maxConnections, loadBalancing: loadBalancing, healthCheck: healthCheck,
            outlierDetection: outlierDetection, retries: retries, tls: tls, hashOn: hashOn)
    }

    /// Every key optional: `"tls": {}` verifies against the system's roots and the target's host.
    private mutating func decodeUpstreamTLS(_ field: JSONField) -> UpstreamTLSConfiguration? {
        guard let tls = object(field, keys: ConfigurationKeys.upstreamTLS) else { return nil }
        let problemsBefore = problems.count
        var result = UpstreamTLSConfiguration()
        if let caField = tls.field("ca_file"), let text = string(caField) {
            if text.isEmpty {
                report(caField.path, "must not be empty (leave \"ca_file\" out to trust the system's roots)")
            } else {
                result.caFile = FilePaths.resolve(text, against: baseDirectory)
            }
        }
        if let verifyField = tls.field("verify"), let value = bool(verifyField) { result.verify = value }
        if let nameField = tls.field("server_name"), let text = string(nameField) {
            if HostSyntax.isHostName(Substring(text)) || HostSyntax.isIPv4Literal(Substring(text))
                || HostSyntax.isIPv6Literal(Substring(text))
            {
                result.serverName = text
            } else {
                report(nameField.path, "invalid server name \"\(text)\" (expected a host name such as \"api.example.com\")")
            }
        }
        return problems.count == problemsBefore ? result : nil
    }

    // MARK: Health checks, outlier detection, retries

    /// Every key optional: `"health_check": {}` checks `GET /` with the defaults.
    private mutating func decodeHealthCheck(_ field: JSONField) -> HealthCheckConfiguration? {
        guard let check = object(field, keys: ConfigurationKeys.healthCheck) else { return nil }
        let problemsBefore = problems.count
        var result = HealthCheckConfiguration()
        if let pathField = check.field("path"), let text = string(pathField) {
            if let problem = Self.healthCheckPathProblem(text) {
                report(pathField.path, problem)
            } else {
                result.path = text
            }
        }
        if let interval = duration(check.field("interval")) { result.interval = interval }
        let timeoutField = check.field("timeout")
        if let timeout = duration(timeoutField) { result.timeout = timeout }
        if let timeoutField, result.timeout > result.interval {
            report(
                timeoutField.path,
                "must not be longer than the interval (\(DurationSyntax.render(result.interval)))")
        } else if timeoutField == nil {
            // The default timeout shrinks to a shorter interval.
            result.timeout = min(result.timeout, result.interval)
        }
        if let value = integer(check.field("healthy_threshold"), minimum: 1) { result.healthyThreshold = value }
        if let value = integer(check.field("unhealthy_threshold"), minimum: 1) { result.unhealthyThreshold = value }
        if let statusField = check.field("expected_status"), let text = string(statusField) {
            if let ranges = StatusRanges.parse(text) {
                result.expectedStatus = ranges
            } else {
                report(
                    statusField.path,
                    "invalid status list \"\(text)\" (expected codes or ranges in 100-599, e.g. \"200-399\" or \"200,204\")")
            }
        }
        return problems.count == problemsBefore ? result : nil
    }

    private static func healthCheckPathProblem(_ text: String) -> String? {
        guard text.hasPrefix("/") else { return "must start with \"/\", got \"\(text)\"" }
        if text.contains("#") { return "must not contain a fragment (\"#\"), got \"\(text)\"" }
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value >= 0x7F }) {
            return "must not contain spaces, control or non-ASCII characters, got \"\(text)\""
        }
        return nil
    }

    private mutating func decodeOutlierDetection(_ field: JSONField) -> OutlierDetectionConfiguration? {
        guard let detection = object(field, keys: ConfigurationKeys.outlierDetection) else { return nil }
        let problemsBefore = problems.count
        var result = OutlierDetectionConfiguration()
        if let value = integer(detection.field("consecutive_failures"), minimum: 1) {
            result.consecutiveFailures = value
        }
        if let value = duration(detection.field("ejection_time")) { result.ejectionTime = value }
        let maxField = detection.field("max_ejection_time")
        if let value = duration(maxField) { result.maxEjectionTime = value }
        if let maxField, result.maxEjectionTime < result.ejectionTime, problems.count == problemsBefore {
            report(
                maxField.path,
                "must not be shorter than ejection_time (\(DurationSyntax.render(result.ejectionTime)))")
        } else if maxField == nil, result.maxEjectionTime < result.ejectionTime {
            // A long ejection_time alone raises the cap with it.
            result.maxEjectionTime = result.ejectionTime
        }
        return problems.count == problemsBefore ? result : nil
    }

    private mutating func decodeRetries(_ field: JSONField) -> RetryConfiguration? {
        guard let retries = object(field, keys: ConfigurationKeys.retries) else { return nil }
        let problemsBefore = problems.count
        var result = RetryConfiguration()
        if let value = integer(retries.field("attempts"), minimum: 1) { result.attempts = value }
        if let onField = retries.field("on"), let elements = array(onField) {
            if elements.isEmpty { report(onField.path, "must name at least one condition") }
            var conditions = RetryConditions()
            for element in elements {
                guard let text = string(element) else { continue }
                switch text {
                case RetryConditions.connectFailureName: conditions.connectFailure = true
                case RetryConditions.resetName: conditions.reset = true
                default:
                    if text.count == 3, text.allSatisfy(\.isASCII), let code = Int(text), (400...599).contains(code) {
                        conditions.statuses.insert(code)
                    } else {
                        report(
                            element.path,
                            "unknown retry condition \"\(text)\" (expected \"connect-failure\", \"reset\" or a status code 400-599 such as \"503\")"
                        )
                    }
                }
            }
            result.on = conditions
        }
        if let budgetField = retries.field("budget_percent"), let value = integer(budgetField, minimum: 0) {
            if value > 100 {
                report(budgetField.path, "must be at most 100")
            } else {
                result.budgetPercent = value
            }
        }
        if let value = integer(retries.field("min_retries_per_second"), minimum: 0) {
            result.minRetriesPerSecond = value
        }
        return problems.count == problemsBefore ? result : nil
    }

    private mutating func decodeTargets(_ field: JSONField?) -> [UpstreamTargetConfiguration]? {
        guard let elements = array(field), let field else { return nil }
        if elements.isEmpty {
            report(field.path, "must contain at least one target")
            return nil
        }
        var seen: [SocketAddressConfiguration: JSONPath] = [:]
        var targets: [UpstreamTargetConfiguration] = []
        var valid = true
        for element in elements {
            guard let target = object(element, keys: ConfigurationKeys.target) else {
                valid = false
                continue
            }
            let addressField = required(target, "address")
            let address = address(addressField)
            let weight = integer(target.field("weight"), minimum: 1) ?? 1
            guard let address, let addressField else {
                valid = false
                continue
            }
            if address.port == 0 {
                report(addressField.path, "port 0 cannot be connected to; give the target's port")
                valid = false
            } else if let first = seen[address] {
                report(addressField.path, "duplicate target \"\(address)\" (also \(first))")
                valid = false
            } else {
                seen[address] = element.path
            }
            targets.append(UpstreamTargetConfiguration(address: address, weight: weight))
        }
        return valid ? targets : nil
    }

    // MARK: Routes

    /// Exactly one of `handler` or `upstream`; the proxy keys only with `upstream`.
    mutating func decodeRouteAction(_ route: JSONObjectView, match: RouteMatchConfiguration?) -> RouteAction? {
        let handlerField = route.field("handler")
        let upstreamField = route.field("upstream")
        switch (handlerField, upstreamField) {
        case (nil, nil):
            report(route.path, "one of \"handler\" or \"upstream\" is required")
            return nil
        case (.some, .some):
            report(route.path, "\"handler\" and \"upstream\" are exclusive; use one of them")
            return nil
        case (let handlerField?, nil):
            for key in ConfigurationKeys.routeProxyOnly {
                if let field = route.field(key) {
                    report(field.path, "only applies to a route with \"upstream\"")
                }
            }
            return decodeHandler(handlerField).map { .handler($0) }
        case (nil, let upstreamField?):
            return decodeRouteProxy(route, upstreamField: upstreamField, match: match).map { .upstream($0) }
        }
    }

    private mutating func decodeRouteProxy(
        _ route: JSONObjectView, upstreamField: JSONField, match: RouteMatchConfiguration?
    ) -> RouteProxyConfiguration? {
        var upstream: String?
        if let name = string(upstreamField) {
            if upstreamNames.contains(name) {
                upstream = name
            } else {
                let known = upstreamNames.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                report(
                    upstreamField.path,
                    "unknown upstream \"\(name)\""
                        + (known.isEmpty ? " (no upstreams are defined)" : " (known: \(known))"))
            }
        }
        var rewrite = PathRewrite.none
        var rewriteValid = true
        let stripField = route.field("strip_prefix")
        let rewriteField = route.field("rewrite")
        let strip = bool(stripField)
        if stripField != nil && strip == nil { rewriteValid = false }
        if strip == true, let stripField {
            if rewriteField != nil {
                report(stripField.path, "\"strip_prefix\" and \"rewrite\" are exclusive; use one of them")
                rewriteValid = false
            } else if case .exact = match?.path {
                report(stripField.path, "needs a \"prefix\" match (use \"rewrite\" to replace a whole path)")
                rewriteValid = false
            } else {
                rewrite = .stripPrefix
            }
        }
        if let rewriteField, rewriteValid {
            if let text = string(rewriteField) {
                if let problem = Self.rewriteProblem(text) {
                    report(rewriteField.path, problem)
                    rewriteValid = false
                } else {
                    rewrite = .replace(text)
                }
            } else {
                rewriteValid = false
            }
        }
        let timeoutField = route.field("request_timeout")
        let requestTimeout = duration(timeoutField)
        var requestHeaders = HeaderRules()
        var responseHeaders = HeaderRules()
        var headersValid = true
        if let headersField = route.field("headers") {
            if let headers = object(headersField, keys: ConfigurationKeys.headers) {
                if let field = headers.field("request") {
                    if let rules = decodeHeaderRules(field) { requestHeaders = rules } else { headersValid = false }
                }
                if let field = headers.field("response") {
                    if let rules = decodeHeaderRules(field) { responseHeaders = rules } else { headersValid = false }
                }
            } else {
                headersValid = false
            }
        }
        guard let upstream, rewriteValid, headersValid, timeoutField == nil || requestTimeout != nil else {
            return nil
        }
        return RouteProxyConfiguration(
            upstream: upstream, pathRewrite: rewrite,
            requestTimeout: requestTimeout ?? RouteProxyConfiguration.defaultRequestTimeout,
            requestHeaders: requestHeaders, responseHeaders: responseHeaders)
    }

    private static func rewriteProblem(_ text: String) -> String? {
        guard text.hasPrefix("/") else { return "must start with \"/\", got \"\(text)\"" }
        if text.contains("?") || text.contains("#") {
            return "must not contain a query or fragment (\"?\" or \"#\"), got \"\(text)\""
        }
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            return "must not contain spaces or control characters, got \"\(text)\""
        }
        return nil
    }

    // MARK: Header rules

    private mutating func decodeHeaderRules(_ field: JSONField) -> HeaderRules? {
        guard let rules = object(field, keys: ConfigurationKeys.headerRules) else { return nil }
        var valid = true
        func fields(_ key: String) -> [HeaderField] {
            guard let mapField = rules.field(key) else { return [] }
            guard case .object(let members) = mapField.value else {
                report(mapField.path, "expected an object (header name → value)")
                valid = false
                return []
            }
            var result: [HeaderField] = []
            var named: [String: JSONPath] = [:]
            for member in members {
                let path = mapField.path.appending(key: member.key)
                guard let name = headerName(member.key, at: path),
                    let value = headerValue(JSONField(value: member.value, path: path))
                else {
                    valid = false
                    continue
                }
                if let first = named[name] {
                    report(path, "header \"\(name)\" appears twice (also \(first))")
                    valid = false
                    continue
                }
                named[name] = path
                result.append(HeaderField(name: name, value: value))
            }
            // Names are distinct, so order means nothing: sorted, as the canonical form is.
            return result.sorted { $0.name < $1.name }
        }
        let set = fields("set")
        let add = fields("add")
        var remove: [String] = []
        if let elements = array(rules.field("remove")) {
            for element in elements {
                guard let text = string(element), let name = headerName(text, at: element.path) else {
                    valid = false
                    continue
                }
                if !remove.contains(name) { remove.append(name) }
            }
        } else if rules.field("remove") != nil {
            valid = false
        }
        return valid ? HeaderRules(set: set, add: add, remove: remove.sorted()) : nil
    }

    /// A field name as a lowercased token; framing and per-connection fields are refused.
    private mutating func headerName(_ text: String, at path: JSONPath) -> String? {
        guard !text.isEmpty, text.unicodeScalars.allSatisfy(Self.isTokenCharacter) else {
            report(path, "invalid header name \"\(text)\" (expected a token such as \"X-Api-Version\")")
            return nil
        }
        let name = text.lowercased()
        guard !Self.headersRulesMayNotChange.contains(name) else {
            report(path, "header \"\(name)\" is managed by the gateway and cannot be changed")
            return nil
        }
        return name
    }

    private mutating func headerValue(_ field: JSONField) -> String? {
        guard let text = string(field) else { return nil }
        guard !text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) else {
            report(field.path, "a header value cannot contain control characters (CR, LF, NUL, …)")
            return nil
        }
        return text
    }
}
