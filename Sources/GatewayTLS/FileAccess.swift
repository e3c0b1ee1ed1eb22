#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// File checks done before handing a path to OpenSSL, so errors say why a file cannot be used.
enum FileAccess {
    /// Why a file cannot be read ("No such file or directory"), or nil when it can.
    static func unreadableReason(_ path: String) -> String? {
        if access(path, R_OK) == 0 {
            return nil
        }
        return String(cString: strerror(errno))
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
