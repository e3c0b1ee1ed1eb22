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
        guard case .object(let members) = field.value else {
            report(field.path, "expected an object (upstream name → upstream)")
            return nil
        }
        var upstreams: [UpstreamConfiguration] = []
        var valid = true
        for member in members {
            let path = field.path.appending(key: member.key)
            // The name is a key: check it like a name field, reported at the member.
            let nameIsValid = labelName(JSONField(value: .string(member.key), path: path)) != nil
            if upstreamNames.contains(member.key) {
                report(path, "duplicate key")
                valid = false
                continue
            }
            upstreamNames.insert(member.key)
            guard let upstream = decodeUpstream(name: member.key, JSONField(value: member.value, path: path)),
                nameIsValid
            else {
                valid = false
                continue
            }
            upstreams.append(upstream)
        }
        // Sorted, as the canonical form is: the order in the file means nothing.
        return valid ? upstreams.sorted { $0.name < $1.name } : nil
    }

    private mutating func decodeUpstream(name: String, _ field: JSONField) -> UpstreamConfiguration? {
        guard let upstream = object(field, keys: ConfigurationKeys.upstream) else { return nil }
        let targets = decodeTargets(required(upstream, "targets"))
        var scheme = UpstreamScheme.http
        if let schemeField = upstream.field("scheme"), let text = string(schemeField) {
            if let known = UpstreamScheme(rawValue: text) {
                scheme = known
            } else if text == "https" {
                report(schemeField.path, "HTTPS upstreams are not supported yet (use \"http\")")
            } else {
                report(schemeField.path, "unknown scheme \"\(text)\" (expected \"http\")")
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
        guard let targets else { return nil }
        return UpstreamConfiguration(
            name: name, targets: targets, scheme: scheme, connectTimeout: connectTimeout, idleTimeout: idleTimeout,
            maxConnectionsPerLoop: maxConnections, loadBalancing: loadBalancing)
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
