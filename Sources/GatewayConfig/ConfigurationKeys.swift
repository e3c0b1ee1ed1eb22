/// The keys each object of `gateway.json` accepts, as the decoder checks them.
///
/// Public so that `gateway.schema.json` can be tested against the decoder: every
/// object of the schema must list exactly these keys (`SchemaDriftTests`).
public enum ConfigurationKeys {
    public static let document = [
        "$schema", "listeners", "admin", "http", "access_log", "shutdown", "reload", "event_loops", "routes",
    ]
    public static let listener = ["name", "address", "tls"]
    public static let tls = [
        "certificates", "min_version", "ciphers", "ciphersuites", "session_tickets", "handshake_timeout",
    ]
    public static let certificate = ["name", "certificate", "key", "server_names", "generate_if_missing"]
    public static let admin = ["address"]
    public static let http = [
        "max_header_bytes", "max_body_bytes", "idle_timeout", "request_head_timeout", "body_timeout",
    ]
    public static let accessLog = ["enabled"]
    public static let shutdown = ["drain_timeout"]
    public static let reload = ["watch", "debounce"]
    public static let route = ["name", "match", "handler"]
    public static let match = ["path", "prefix", "methods", "host"]

    /// Every object by where it sits in the document: `""` for the top level,
    /// `[]` for "each element of".
    public static let byLocation: [String: [String]] = [
        "": document,
        "listeners[]": listener,
        "listeners[].tls": tls,
        "listeners[].tls.certificates[]": certificate,
        "admin": admin,
        "http": http,
        "access_log": accessLog,
        "shutdown": shutdown,
        "reload": reload,
        "routes[]": route,
        "routes[].match": match,
    ]
}
