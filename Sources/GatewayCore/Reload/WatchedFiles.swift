import Foundation
import GatewayConfig

/// The files a configuration depends on: the file itself, every certificate and key it names,
/// the routes' validation schema files, the API key and JWKS files of `api_keys` and `jwks`,
/// and the `tls.ca_file` of `https` upstreams.
enum WatchedFiles {
    static func paths(file: String, configuration: GatewayConfiguration?) -> [String] {
        var paths = [file]
        for listener in configuration?.listeners ?? [] {
            for certificate in listener.tls?.certificates ?? [] {
                paths += [certificate.certificatePath, certificate.keyPath]
            }
        }
        for route in configuration?.routes ?? [] {
            if let file = route.validation?.body?.file { paths.append(file) }
        }
        for key in configuration?.apiKeys ?? [] {
            if case .file(let path) = key.source { paths.append(path) }
        }
        paths += (configuration?.jwks ?? []).map(\.file)
        for upstream in configuration?.upstreams ?? [] where upstream.scheme == .https {
            if let caFile = upstream.tls?.caFile { paths.append(caFile) }
        }
        return paths
    }

    /// Their directories, both as named and with symbolic links resolved.
    static func directories(file: String, configuration: GatewayConfiguration?) -> Set<String> {
        var directories: Set<String> = []
        for path in paths(file: file, configuration: configuration) {
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            directories.insert((absolute as NSString).deletingLastPathComponent)
            let resolved = (absolute as NSString).resolvingSymlinksInPath
            directories.insert((resolved as NSString).deletingLastPathComponent)
        }
        return directories
    }

    /// A hash of the files' bytes (a missing file hashes as missing); equal within one process only.
    /// Every byte counts: Foundation's `Data` hashes only its length and first 80 bytes, so a
    /// regenerated JWKS (or an edit that keeps a file's size) would look unchanged.
    static func hash(_ paths: [String]) -> Int {
        var hasher = Hasher()
        for path in paths {
            hasher.combine(path)
            hasher.combine(fileAt: path)
        }
        return hasher.finalize()
    }
}

extension Hasher {
    /// Every byte of the file at `path`, or a marker when it cannot be read.
    mutating func combine(fileAt path: String) {
        guard let data = FileManager.default.contents(atPath: path) else {
            self.combine(-1)
            return
        }
        self.combine(data.count)
        data.withUnsafeBytes { self.combine(bytes: $0) }
    }
}
