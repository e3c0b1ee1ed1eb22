import GatewayConfig

/// Where relative paths in in-memory test documents resolve.
let testBaseDirectory = "/etc/gateway"

/// The smallest valid document: one plain HTTP listener on an ephemeral port, no routes.
let minimalDocument = #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": []}"#

func load(_ json: String, baseDirectory: String = testBaseDirectory) throws(ConfigurationError)
    -> GatewayConfiguration
{
    try GatewayConfigurationLoader.load(data: Array(json.utf8), baseDirectory: baseDirectory)
}

/// The problems reported for `json` as `path: message` lines; empty when it loads.
func problems(of json: String, baseDirectory: String = testBaseDirectory) -> [String] {
    do {
        _ = try load(json, baseDirectory: baseDirectory)
        return []
    } catch {
        return error.problems.map(\.description)
    }
}

/// A document with the minimal listener and the given routes (JSON array elements).
func document(routes: String) -> String {
    #"{"listeners": [{"name": "web", "address": "127.0.0.1:0"}], "routes": [\#(routes)]}"#
}

/// A document with one listener whose `tls` object is given.
func document(tls: String) -> String {
    #"{"listeners": [{"name": "web", "address": "127.0.0.1:0", "tls": \#(tls)}], "routes": []}"#
}
