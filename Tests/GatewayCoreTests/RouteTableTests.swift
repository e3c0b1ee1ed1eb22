import GatewayConfig
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("Route table")
struct RouteTableTests {
    private func table(_ routes: [(PathPattern, [String]?, String?)]) -> RouteTable {
        RouteTable(
            routes: routes.map { RouteTable.Route(path: $0.0, methods: $0.1.map { HTTPMethodSet($0) } ?? .any, host: $0.2) })
    }

    private func route(_ match: RouteTable.Match) -> Int? {
        if case .found(let route, _) = match { return route }
        return nil
    }

    /// A node with few literal children compares them; one with many looks them up by hash.
    @Test(arguments: [3, RouteTable.LiteralChildren.linearLimit + 5])
    func manyLiteralChildren(_ count: Int) {
        let table = self.table((0..<count).map { (.exact("/r\($0)/x"), ["GET"], nil) })
        for index in 0..<count {
            #expect(self.route(table.match(method: .GET, host: nil, path: "/r\(index)/x")) == index)
        }
        #expect(self.route(table.match(method: .GET, host: nil, path: "/r\(count)/x")) == nil)
        #expect(self.route(table.match(method: .GET, host: nil, path: "/r/x")) == nil)
    }

    @Test func exactPathsAndParameters() {
        let table = self.table([
            (.exact("/items/{item_id}"), ["GET", "PUT"], nil),
            (.exact("/items/"), ["POST"], nil),
            (.exact("/items/special"), ["GET"], nil),
        ])
        guard case .found(0, let parameters) = table.match(method: .GET, host: nil, path: "/items/42") else {
            Issue.record("expected route 0")
            return
        }
        #expect(parameters == ["42"])
        #expect(self.route(table.match(method: .POST, host: nil, path: "/items/")) == 1)
        #expect(self.route(table.match(method: .GET, host: nil, path: "/items/special")) == 2)
        // A literal that does not allow the method falls back to the parameter route.
        #expect(self.route(table.match(method: .PUT, host: nil, path: "/items/special")) == 0)
        #expect(self.route(table.match(method: .GET, host: nil, path: "/items")) == nil)
        // A parameter never matches an empty segment: POST's /items/ is the only candidate.
        guard case .methodNotAllowed(let allowed) = table.match(method: .GET, host: nil, path: "/items/") else {
            Issue.record("expected 405 for GET /items/")
            return
        }
        #expect(allowed.names == ["POST"])
        #expect(self.route(table.match(method: .GET, host: nil, path: "/items/42/x")) == nil)
    }

    @Test func methodNotAllowedListsTheMethods() {
        let table = self.table([(.exact("/items/{id}"), ["GET", "PUT"], nil), (.exact("/items/"), ["POST"], nil)])
        guard case .methodNotAllowed(let allowed) = table.match(method: .DELETE, host: nil, path: "/items/1") else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed.names == ["GET", "PUT"])
        guard case .notFound = table.match(method: .GET, host: nil, path: "/nothing") else {
            Issue.record("expected 404")
            return
        }
    }

    @Test func literalBeatsParameterWithBacktracking() {
        let table = self.table([
            (.exact("/users/me/settings"), nil, nil),
            (.exact("/users/{id}/profile"), nil, nil),
        ])
        #expect(self.route(table.match(method: .GET, host: nil, path: "/users/me/settings")) == 0)
        guard case .found(1, let parameters) = table.match(method: .GET, host: nil, path: "/users/me/profile") else {
            Issue.record("expected backtracking into the parameter route")
            return
        }
        #expect(parameters == ["me"])
    }

    @Test func prefixesLongestFirstAndExactBeforePrefix() {
        let table = self.table([
            (.prefix("/api/"), nil, nil),
            (.prefix("/api/v2/"), nil, nil),
            (.exact("/api/health"), ["GET"], nil),
            (.prefix("/static"), nil, nil),
        ])
        #expect(self.route(table.match(method: .GET, host: nil, path: "/api/users")) == 0)
        #expect(self.route(table.match(method: .GET, host: nil, path: "/api/v2/users/7")) == 1)
        #expect(self.route(table.match(method: .GET, host: nil, path: "/api/health")) == 2)
        #expect(self.route(table.match(method: .POST, host: nil, path: "/api/health")) == 0)
        #expect(self.route(table.match(method: .GET, host: nil, path: "/api/")) == 0)
        #expect(self.route(table.match(method: .GET, host: nil, path: "/api")) == nil)
        #expect(self.route(table.match(method: .GET, host: nil, path: "/statics/x")) == 3)
        #expect(self.route(table.match(method: .GET, host: nil, path: "/")) == nil)
    }

    @Test func hostsBeforeAnyHost() {
        let table = self.table([
            (.prefix("/"), nil, nil),
            (.prefix("/"), nil, "api.example.com"),
            (.prefix("/"), nil, "*.example.org"),
        ])
        #expect(self.route(table.match(method: .GET, host: "API.example.com:8443", path: "/x")) == 1)
        #expect(self.route(table.match(method: .GET, host: "www.example.org", path: "/x")) == 2)
        #expect(self.route(table.match(method: .GET, host: "example.org", path: "/x")) == 0)
        #expect(self.route(table.match(method: .GET, host: nil, path: "/x")) == 0)
    }

    @Test func requestTargets() throws {
        let target = try #require(RequestTarget("/items/42?q=hello#frag"))
        #expect(target.path == "/items/42")
        #expect(target.query == "q=hello")
        let absolute = try #require(RequestTarget("https://example.com/items/1?x"))
        #expect(absolute.path == "/items/1")
        #expect(absolute.query == "x")
        #expect(RequestTarget("*") == nil)
        #expect(RequestTarget("/items/%34%32")?.decodedPath == "/items/42")
        #expect(RequestTarget("/a%zz")?.decodedPath == "/a%zz")
    }
}
