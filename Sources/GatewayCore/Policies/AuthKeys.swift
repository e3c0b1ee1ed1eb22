import Foundation
import GatewayAuth
import GatewayConfig

/// The keys of one configuration, read and built once when it is compiled
/// (start, reload, `gateway check`), never per request: the API key table and
/// each named JWKS with its OpenSSL keys. Files are read here, so a reload
/// (which the file watcher starts when one of them changes) picks up new keys.
struct AuthKeys: Sendable {
    let apiKeys: APIKeyTable
    /// Each `jwks` entry by name.
    let keySets: [String: JSONWebKeySet]
    /// A hash of each key file's bytes by the JSON path that names it, so a
    /// reload can say which files changed although the configuration did not.
    let fileHashes: [String: Int]

    static let empty = AuthKeys(apiKeys: APIKeyTable(keys: []), keySets: [:], fileHashes: [:])

    /// Reads every key file and JWKS of `configuration`; every problem comes
    /// back with the JSON path of what named the file.
    static func load(_ configuration: GatewayConfiguration) -> (AuthKeys, [ConfigurationProblem]) {
        if configuration.apiKeys.isEmpty && configuration.jwks.isEmpty { return (.empty, []) }
        var problems: [ConfigurationProblem] = []
        var fileHashes: [String: Int] = [:]
        var keys: [(name: String, key: [UInt8])] = []
        var keyPaths: [String] = []
        for entry in configuration.apiKeys {
            let path = Self.path("api_keys", entry.name)
            switch entry.source {
            case .inline(let key):
                keys.append((entry.name, Array(key.utf8)))
                keyPaths.append(path)
            case .file(let file):
                let filePath = path + ".file"
                guard let bytes = Self.read(file, at: filePath, into: &problems) else { continue }
                fileHashes[filePath] = bytes.hashValue
                let key = Array(Self.trimmingWhitespace(bytes))
                if let problem = APIKeyConfiguration.problem(with: key) {
                    problems.append(ConfigurationProblem(path: filePath, message: "\"\(file)\": \(problem)"))
                    continue
                }
                keys.append((entry.name, key))
                keyPaths.append(path)
            }
        }
        let table = APIKeyTable(keys: keys)
        for duplicate in table.duplicates {
            // Two names for one key would make the identity ambiguous.
            problems.append(
                ConfigurationProblem(
                    path: keyPaths[duplicate.index],
                    message: "the same key as \(keyPaths[duplicate.earlier]); each name needs its own key"))
        }
        var keySets: [String: JSONWebKeySet] = [:]
        for entry in configuration.jwks {
            let filePath = Self.path("jwks", entry.name) + ".file"
            guard let bytes = Self.read(entry.file, at: filePath, into: &problems) else { continue }
            fileHashes[filePath] = bytes.hashValue
            do {
                keySets[entry.name] = try JSONWebKeySet.parse(bytes)
            } catch {
                problems.append(ConfigurationProblem(path: filePath, message: "\"\(entry.file)\": \(error)"))
            }
        }
        return (AuthKeys(apiKeys: table, keySets: keySets, fileHashes: fileHashes), problems)
    }

    /// `api_keys.partner-a`, or `api_keys["a.b"]` for a name with a dot (as the decoder writes paths).
    static func path(_ section: String, _ name: String) -> String {
        name.contains(".") ? "\(section)[\"\(name)\"]" : "\(section).\(name)"
    }

    private static func read(_ file: String, at path: String, into problems: inout [ConfigurationProblem]) -> [UInt8]? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue,
            let data = FileManager.default.contents(atPath: file)
        else {
            let reason = FileManager.default.fileExists(atPath: file) ? "not a readable file" : "no such file"
            problems.append(ConfigurationProblem(path: path, message: "cannot read \"\(file)\": \(reason)"))
            return nil
        }
        return Array(data)
    }

    private static func trimmingWhitespace(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return [] }
        let last = bytes.lastIndex(where: { !isSpace($0) })!
        return bytes[first...last]
    }

    /// JSON paths of key files whose bytes differ from `previous`'s (a reload's report).
    func changedFiles(since previous: AuthKeys) -> [String] {
        self.fileHashes.keys.sorted().filter { path in
            previous.fileHashes[path].map { $0 != self.fileHashes[path] } ?? false
        }
    }
}
