/// The keys each object of `gateway.json` accepts, as the decoder checks them.
///
/// Public so that `gateway.schema.json` can be tested against the decoder: every
/// object of the schema must list exactly these keys (`SchemaDriftTests`).
public enum ConfigurationKeys {
    public static let document = [
        "$schema", "listeners", "admin", "http", "access_log", "log", "shutdown", "reload", "event_loops", "upstreams",
        "trusted_proxies", "rate_limits", "default_rate_limits", "rate_limit_store", "api_keys", "jwks", "routes",
        "openapi",
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
    public static let log = ["level"]
    public static let shutdown = ["drain_timeout"]
    public static let reload = ["watch", "debounce"]
    public static let route = [
        "name", "match", "handler", "upstream", "strip_prefix", "rewrite", "request_timeout", "headers",
        "rate_limits", "rate_limit_headers", "compression", "max_body_bytes", "request_decompression",
        "validation", "auth", "cors",
    ]
    /// Route keys that only apply with `upstream`.
    static let routeProxyOnly = ["strip_prefix", "rewrite", "request_timeout", "headers"]
    public static let upstream = [
        "targets", "scheme", "connect_timeout", "idle_timeout", "max_connections_per_loop", "load_balancing",
        "hash_on", "hash_header",
        "health_check", "outlier_detection", "retries", "tls",
    ]
    public static let upstreamTLS = ["ca_file", "verify", "server_name"]
    public static let target = ["address", "weight"]
    public static let healthCheck = [
        "path", "interval", "timeout", "healthy_threshold", "unhealthy_threshold", "expected_status",
    ]
    public static let outlierDetection = ["consecutive_failures", "ejection_time", "max_ejection_time"]
    public static let retries = ["attempts", "on", "budget_percent", "min_retries_per_second"]
    public static let headers = ["request", "response"]
    public static let headerRules = ["set", "add", "remove"]
    public static let match = ["path", "prefix", "methods", "host"]
    /// `compression` as an object (it may also be `true` or `false`).
    public static let compression = ["gzip", "min_size", "level", "types"]
    /// `request_decompression` as an object (it may also be `true` or `false`).
    public static let requestDecompression = ["max_bytes", "max_ratio"]
    public static let validation = ["path", "query", "headers", "required", "body"]
    /// `validation.required`: the query and header parameters that must be present.
    public static let validationRequired = ["query", "headers"]
    /// `validation.body` naming a schema file instead of holding the schema.
    public static let validationBodyFile = ["file"]
    public static let cors = [
        "allow_origins", "allow_methods", "allow_headers", "expose_headers", "allow_credentials", "max_age",
    ]
    public static let openAPI = ["enabled", "path", "docs_path", "title", "version", "description"]
    public static let rateLimitPolicy = ["limit", "burst", "key", "store"]
    /// `key` as an object: `{"header": "X-API-Key"}`.
    public static let rateLimitKey = ["header"]
    public static let rateLimitStore = ["memory", "redis"]
    public static let memoryStore = ["max_keys"]
    public static let redisStore = ["url", "timeout", "failure_mode"]
    /// An `api_keys` value as an object (it may also be the key itself).
    public static let apiKeyFile = ["file"]
    public static let jwks = ["file"]
    public static let routeAuth = ["api_key", "jwt", "realm", "hide_credentials"]
    public static let apiKeyAuth = ["header", "query", "allow"]
    public static let jwtAuth = [
        "jwks", "algorithms", "issuer", "audience", "clock_skew", "require", "max_token_bytes",
    ]

    /// Every object by where it sits in the document: `""` for the top level,
    /// `[]` for "each element of", `{}` for "each value of" (objects keyed by name).
    public static let byLocation: [String: [String]] = [
        "": document,
        "listeners[]": listener,
        "listeners[].tls": tls,
        "listeners[].tls.certificates[]": certificate,
        "admin": admin,
        "http": http,
        "access_log": accessLog,
        "log": log,
        "shutdown": shutdown,
        "reload": reload,
        "routes[]": route,
        "routes[].match": match,
        "routes[].compression": compression,
        "routes[].request_decompression": requestDecompression,
        "routes[].validation": validation,
        "routes[].validation.required": validationRequired,
        "routes[].validation.body": validationBodyFile,
        "routes[].cors": cors,
        "openapi": openAPI,
        "routes[].headers": headers,
        "routes[].headers.request": headerRules,
        "routes[].headers.response": headerRules,
        "upstreams{}": upstream,
        "upstreams{}.targets[]": target,
        "rate_limits{}": rateLimitPolicy,
        "rate_limits{}.key": rateLimitKey,
        "rate_limit_store": rateLimitStore,
        "rate_limit_store.memory": memoryStore,
        "rate_limit_store.redis": redisStore,
        "upstreams{}.health_check": healthCheck,
        "upstreams{}.outlier_detection": outlierDetection,
        "upstreams{}.retries": retries,
        "upstreams{}.tls": upstreamTLS,
        "api_keys{}": apiKeyFile,
        "jwks{}": jwks,
        "routes[].auth": routeAuth,
        "routes[].auth.api_key": apiKeyAuth,
        "routes[].auth.jwt": jwtAuth,
    ]
}
