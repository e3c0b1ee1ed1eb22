public import GatewayConfig
public import NIOHTTP1

/// The routes of one configuration, compiled once into a trie of path segments
/// per host, then matched per request without regexes or allocation beyond the
/// parameter list.
///
/// Precedence: routes for the request's host before routes for any host. Within
/// one host, the path is walked segment by segment, trying a literal segment
/// before a `{param}` (which never matches an empty segment) and backtracking;
/// the deepest match wins, so a whole-path match or a prefix under a literal
/// segment beats a shallower prefix, and a longer prefix a shorter one. The
/// first candidate in that order whose methods include the request's method
/// wins; if candidates matched the path but none the method, the answer is 405
/// with their methods.
public struct RouteTable: Sendable {
    /// What the router needs to know of a route.
    public struct Route: Sendable {
        public var path: PathPattern
        public var methods: HTTPMethodSet
        /// Lowercased host name, optionally starting with `*.`; nil for any host.
        public var host: String?

        public init(path: PathPattern, methods: HTTPMethodSet, host: String?) {
            self.path = path
            self.methods = methods
            self.host = host
        }
    }

    public enum Match {
        /// `parameters` holds the `{param}` values in template order, still percent-encoded.
        case found(route: Int, parameters: [Substring])
        case methodNotAllowed(allowed: HTTPMethodSet)
        case notFound
    }

    private let exactHosts: [String: Trie]
    /// `*.example.com` routes, stored by suffix `.example.com`, longest first.
    private let wildcardHosts: [(suffix: String, trie: Trie)]
    private let anyHost: Trie

    public init(routes: [Route]) {
        var exact: [String: TrieBuilder] = [:]
        var wildcard: [String: TrieBuilder] = [:]
        let any = TrieBuilder()
        for (index, route) in routes.enumerated() {
            let builder: TrieBuilder
            switch route.host {
            case .none:
                builder = any
            case .some(let host) where host.hasPrefix("*."):
                let suffix = String(host.dropFirst())
                builder = wildcard[suffix] ?? TrieBuilder()
                wildcard[suffix] = builder
            case .some(let host):
                builder = exact[host] ?? TrieBuilder()
                exact[host] = builder
            }
            builder.insert(route.path, methods: route.methods, route: index)
        }
        self.exactHosts = exact.mapValues { $0.build() }
        self.wildcardHosts = wildcard.map { ($0.key, $0.value.build()) }.sorted { $0.suffix.count > $1.suffix.count }
        self.anyHost = any.build()
    }

    /// Matches a request. `host` is the Host header as sent (any case, maybe with a port).
    public func match(method: HTTPMethod, host: Substring?, path: Substring) -> Match {
        var allowed: HTTPMethodSet? = nil
        var parameters: [Substring] = []
        if let host, !(self.exactHosts.isEmpty && self.wildcardHosts.isEmpty) {
            for trie in self.tries(forHost: host) {
                if let route = trie.match(method: method, path: path, parameters: &parameters, allowed: &allowed) {
                    return .found(route: route, parameters: parameters)
                }
            }
        }
        if let route = self.anyHost.match(method: method, path: path, parameters: &parameters, allowed: &allowed) {
            return .found(route: route, parameters: parameters)
        }
        if let allowed { return .methodNotAllowed(allowed: allowed) }
        return .notFound
    }

    private func tries(forHost rawHost: Substring) -> [Trie] {
        let host = Self.normalise(host: rawHost)
        var tries: [Trie] = []
        if let trie = self.exactHosts[host] { tries.append(trie) }
        for (suffix, trie) in self.wildcardHosts where host.hasSuffix(suffix) && host.count > suffix.count {
            tries.append(trie)
        }
        return tries
    }

    /// Lowercases and strips the port (`Example.com:8443` → `example.com`, `[::1]:80` → `[::1]`).
    static func normalise(host: Substring) -> String {
        var end = host.endIndex
        if let colon = host.lastIndex(of: ":"), !host[colon...].contains("]") {
            end = colon
        }
        return host[..<end].lowercased()
    }
}

// MARK: - Trie

extension RouteTable {
    /// A route ending at a trie node, with its methods.
    struct Terminal: Sendable {
        var route: Int
        var methods: HTTPMethodSet
    }

    /// A prefix route whose prefix ends inside the segment that follows the node
    /// (`/api` ends with the partial segment `api`; `/api/` with the empty one).
    struct PrefixTerminal: Sendable {
        var partial: String
        var terminal: Terminal
    }

    final class Trie: Sendable {
        let literals: LiteralChildren
        let parameter: Trie?
        let exact: [Terminal]
        /// Longest partial first, so the first match is the longest prefix.
        let prefixes: [PrefixTerminal]

        init(literals: LiteralChildren, parameter: Trie?, exact: [Terminal], prefixes: [PrefixTerminal]) {
            self.literals = literals
            self.parameter = parameter
            self.exact = exact
            self.prefixes = prefixes
        }

        /// `path` must start with "/". Returns the matched route, or nil; records
        /// the methods of routes that matched the path but not the method in `allowed`.
        func match(
            method: HTTPMethod,
            path: Substring,
            parameters: inout [Substring],
            allowed: inout HTTPMethodSet?
        ) -> Int? {
            let rest = path.utf8.index(after: path.startIndex)
            return self.match(method: method, path: path, from: rest, parameters: &parameters, allowed: &allowed)
        }

        /// `from` is the start of the next segment (just after a "/").
        private func match(
            method: HTTPMethod,
            path: Substring,
            from start: Substring.Index,
            parameters: inout [Substring],
            allowed: inout HTTPMethodSet?
        ) -> Int? {
            let utf8 = path.utf8
            let end = utf8[start...].firstIndex(of: UInt8(ascii: "/")) ?? utf8.endIndex
            let segment = path[start..<end]
            let isLast = end == utf8.endIndex

            if isLast {
                if let route = Self.pick(self.literals[segment]?.exact, method: method, allowed: &allowed) {
                    return route
                }
                if !segment.isEmpty, let parameter = self.parameter,
                    let route = Self.pick(parameter.exact, method: method, allowed: &allowed)
                {
                    parameters.append(segment)
                    return route
                }
            } else {
                let next = utf8.index(after: end)
                if let child = self.literals[segment],
                    let route = child.match(
                        method: method, path: path, from: next, parameters: &parameters, allowed: &allowed)
                {
                    return route
                }
                if !segment.isEmpty, let parameter = self.parameter {
                    let count = parameters.count
                    parameters.append(segment)
                    if let route = parameter.match(
                        method: method, path: path, from: next, parameters: &parameters, allowed: &allowed)
                    {
                        return route
                    }
                    parameters.removeSubrange(count...)
                }
            }
            // Prefix routes ending here: the rest of the path must start with their partial segment.
            let rest = path[start...]
            for prefix in self.prefixes where rest.utf8.starts(with: prefix.partial.utf8) {
                if prefix.terminal.methods.contains(method) {
                    return prefix.terminal.route
                }
                allowed = Self.union(allowed, prefix.terminal.methods)
            }
            return nil
        }

        private static func pick(_ terminals: [Terminal]?, method: HTTPMethod, allowed: inout HTTPMethodSet?) -> Int? {
            guard let terminals else { return nil }
            for terminal in terminals {
                if terminal.methods.contains(method) { return terminal.route }
                allowed = Self.union(allowed, terminal.methods)
            }
            return nil
        }

        private static func union(_ set: HTTPMethodSet?, _ other: HTTPMethodSet) -> HTTPMethodSet {
            var result = set ?? HTTPMethodSet([])
            result.formUnion(other)
            return result
        }
    }

    /// Mutable while routes are added, then frozen into a `Trie`.
    final class TrieBuilder {
        var literals: [String: TrieBuilder] = [:]
        var parameter: TrieBuilder?
        var exact: [Terminal] = []
        var prefixes: [PrefixTerminal] = []

        func insert(_ pattern: PathPattern, methods: HTTPMethodSet, route: Int) {
            let terminal = Terminal(route: route, methods: methods)
            switch pattern {
            case .exact(let path):
                var node = self
                for segment in path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
                    node = node.child(for: segment)
                }
                node.exact.append(terminal)
            case .prefix(let prefix):
                var segments = prefix.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
                let partial = segments.popLast() ?? ""
                var node = self
                for segment in segments {
                    node = node.child(for: segment)
                }
                node.prefixes.append(PrefixTerminal(partial: String(partial), terminal: terminal))
            }
        }

        private func child(for segment: Substring) -> TrieBuilder {
            if segment.first == "{" && segment.last == "}" {
                let child = self.parameter ?? TrieBuilder()
                self.parameter = child
                return child
            }
            let key = String(segment)
            let child = self.literals[key] ?? TrieBuilder()
            self.literals[key] = child
            return child
        }

        func build() -> Trie {
            Trie(
                literals: LiteralChildren(self.literals.map { ($0.key, $0.value.build()) }),
                parameter: self.parameter?.build(),
                exact: self.exact,
                prefixes: self.prefixes.sorted { $0.partial.count > $1.partial.count }
            )
        }
    }

    /// A trie node's literal children. A node has a few (the usual case): a segment is
    /// compared byte for byte with each, which is cheaper than hashing it; past
    /// `linearLimit` children a dictionary finds it.
    struct LiteralChildren: Sendable {
        static let linearLimit = 8
        private let keys: [String]
        private let nodes: [Trie]
        private let index: [Substring: Int]?

        init(_ children: [(String, Trie)]) {
            let sorted = children.sorted { $0.0 < $1.0 }
            self.keys = sorted.map(\.0)
            self.nodes = sorted.map(\.1)
            self.index =
                sorted.count > Self.linearLimit
                ? Dictionary(uniqueKeysWithValues: sorted.enumerated().map { (Substring($0.element.0), $0.offset) })
                : nil
        }

        subscript(segment: Substring) -> Trie? {
            if let index = self.index {
                return index[segment].map { self.nodes[$0] }
            }
            let bytes = segment.utf8
            for position in self.keys.indices {
                let key = self.keys[position].utf8
                if key.count == bytes.count && key.elementsEqual(bytes) { return self.nodes[position] }
            }
            return nil
        }
    }
}
