// Path arithmetic for configuration files, by hand so it behaves the same on
// Linux and macOS (NSString's helpers differ, e.g. around /private on macOS).

enum FilePaths {
    /// `path` made absolute against `directory` (itself absolute), with `.`, `..`
    /// and repeated slashes removed. Symbolic links are left alone.
    static func resolve(_ path: String, against directory: String) -> String {
        let joined = path.hasPrefix("/") ? path : directory + "/" + path
        var components: [Substring] = []
        for component in joined.split(separator: "/") {
            switch component {
            case ".":
                continue
            case "..":
                _ = components.popLast()
            default:
                components.append(component)
            }
        }
        return "/" + components.joined(separator: "/")
    }

    /// The directory part of an absolute, normalised path: `/etc/gateway.json` → `/etc`.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
