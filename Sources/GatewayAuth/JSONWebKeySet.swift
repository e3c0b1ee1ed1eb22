/// A JWKS document (RFC 7517 §5) turned into verification keys, once, when the
/// configuration is loaded or reloaded.
///
/// Keys the gateway has no use for are skipped and listed in `skipped`:
/// encryption keys (`use` other than `sig`), other algorithms (`alg` RS384,
/// PS256, …), other key types and curves. A key it would use but cannot build
/// (bad base64url, an RSA key under 2048 bits, a point off the curve, a short
/// HMAC secret) is an error, as is a set with no usable key at all.
public struct JSONWebKeySet: Sendable {
    public let keys: [JSONWebKey]
    /// One line per key left out, e.g. `keys[2]: kty "OKP" is not supported`.
    public let skipped: [String]

    /// Where in the document a problem is (`keys[1].n`), and what it is; never the key material.
    public struct Problem: Error, CustomStringConvertible, Equatable {
        public var location: String
        public var message: String
        public var description: String { self.location.isEmpty ? self.message : "\(self.location): \(self.message)" }
    }

    public static func parse(_ bytes: [UInt8]) throws(Problem) -> JSONWebKeySet {
        let root: JSONNode
        do {
            root = try JSONNode.parse(bytes)
        } catch {
            let (line, column) = Self.lineAndColumn(of: error.offset, in: bytes)
            throw Problem(location: "", message: "invalid JSON at line \(line), column \(column): \(error.message)")
        }
        guard case .object = root else {
            throw Problem(location: "", message: "expected a JWKS object {\"keys\": [...]}")
        }
        guard let keysNode = root["keys"] else { throw Problem(location: "keys", message: "required") }
        guard case .array(let elements) = keysNode else {
            throw Problem(location: "keys", message: "expected an array, got \(keysNode.typeName)")
        }
        var keys: [JSONWebKey] = []
        var skipped: [String] = []
        for (index, element) in elements.enumerated() {
            let location = "keys[\(index)]"
            switch try Self.key(element, at: location) {
            case .key(let key): keys.append(key)
            case .skipped(let reason): skipped.append("\(location): \(reason)")
            }
        }
        guard !keys.isEmpty else {
            let supported = JWTAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
            let detail = skipped.isEmpty ? "" : " (" + skipped.joined(separator: "; ") + ")"
            throw Problem(location: "keys", message: "no key the gateway can use for \(supported)\(detail)")
        }
        return JSONWebKeySet(keys: keys, skipped: skipped)
    }

    private enum Entry {
        case key(JSONWebKey)
        case skipped(String)
    }

    private static func key(_ node: JSONNode, at location: String) throws(Problem) -> Entry {
        guard case .object = node else { throw Problem(location: location, message: "expected an object") }
        func string(_ member: String, required: Bool) throws(Problem) -> String? {
            guard let value = node[member] else {
                if required { throw Problem(location: "\(location).\(member)", message: "required") }
                return nil
            }
            guard case .string(let text) = value else {
                throw Problem(location: "\(location).\(member)", message: "expected a string, got \(value.typeName)")
            }
            return text
        }
        func bytes(_ member: String) throws(Problem) -> [UInt8] {
            let text = try string(member, required: true)!
            guard let decoded = Base64URL.decode(text), !decoded.isEmpty else {
                throw Problem(location: "\(location).\(member)", message: "not base64url without padding")
            }
            return decoded
        }
        let type = try string("kty", required: true)!
        let id = try string("kid", required: false)
        if let use = try string("use", required: false), use != "sig" {
            return .skipped("\"use\": \"\(use)\" is not for signatures")
        }
        var algorithm: JWTAlgorithm?
        if let name = try string("alg", required: false) {
            guard let known = JWTAlgorithm(rawValue: name) else {
                return .skipped("alg \"\(name)\" is not supported")
            }
            algorithm = known
        }
        let build: () throws(JSONWebKey.BuildError) -> JSONWebKey
        switch type {
        case "RSA":
            let (n, e) = (try bytes("n"), try bytes("e"))
            build = { () throws(JSONWebKey.BuildError) in
                try JSONWebKey.rsa(id: id, algorithm: algorithm, modulus: n, exponent: e)
            }
        case "EC":
            let curve = try string("crv", required: true)!
            guard curve == "P-256" else { return .skipped("curve \"\(curve)\" is not supported (only P-256)") }
            let (x, y) = (try bytes("x"), try bytes("y"))
            build = { () throws(JSONWebKey.BuildError) in
                try JSONWebKey.ecP256(id: id, algorithm: algorithm, x: x, y: y)
            }
        case "oct":
            let k = try bytes("k")
            build = { () throws(JSONWebKey.BuildError) in
                try JSONWebKey.symmetric(id: id, algorithm: algorithm, secret: k)
            }
        default:
            return .skipped("kty \"\(type)\" is not supported")
        }
        if let algorithm, algorithm.keyType.jwkType != type {
            throw Problem(
                location: "\(location).alg", message: "\"\(algorithm.rawValue)\" cannot be used with kty \"\(type)\"")
        }
        do throws(JSONWebKey.BuildError) {
            return .key(try build())
        } catch {
            throw Problem(location: error.member.map { "\(location).\($0)" } ?? location, message: error.message)
        }
    }

    static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}
