import Foundation

/// Reads `gateway.json` into a validated ``GatewayConfiguration``.
///
/// Loading is synchronous file I/O plus parsing: call it off the event loops
/// (at startup, or from the reload task), never on one.
public enum GatewayConfigurationLoader {
    /// Loads and validates the file at `path` (absolute, or relative to the working
    /// directory). Relative certificate and key paths in it are resolved against the
    /// file's directory.
    ///
    /// `${VAR}` and `${VAR:-default}` in string values are replaced from `environment`
    /// (the process environment when nil) before the document is decoded.
    ///
    /// - Throws: every problem found, each with its JSON path; a missing or unreadable
    ///   file is one problem at `(root)`.
    public static func load(
        contentsOf path: String, environment: [String: String]? = nil
    ) throws(ConfigurationError) -> GatewayConfiguration {
        let absolutePath = absolute(path)
        let data: Data
        do {
            data = try readFile(absolutePath)
        } catch {
            throw ConfigurationError(
                file: absolutePath,
                problems: [ConfigurationProblem(path: JSONPath.root.description, message: error.message)]
            )
        }
        let directory = FilePaths.directory(of: absolutePath)
        return try decode(Array(data), baseDirectory: directory, file: absolutePath, environment: environment ?? ProcessInfo.processInfo.environment)
    }

    /// Validates configuration text held in memory, resolving relative file paths
    /// against `baseDirectory` (itself made absolute against the working directory).
    public static func load(
        data: [UInt8], baseDirectory: String, environment: [String: String]? = nil
    ) throws(ConfigurationError) -> GatewayConfiguration {
        try decode(data, baseDirectory: absolute(baseDirectory), file: nil, environment: environment ?? ProcessInfo.processInfo.environment)
    }

    private static func decode(
        _ bytes: [UInt8],
        baseDirectory: String,
        file: String?,
        environment: [String: String]
    ) throws(ConfigurationError) -> GatewayConfiguration {
        var root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw ConfigurationError(
                file: file,
                problems: [ConfigurationProblem(path: JSONPath.root.description, message: error.message)]
            )
        }
        // Substitution problems alone: decoding half-substituted values would only add noise.
        let (substituted, substitutionProblems) = EnvironmentSubstitution.apply(to: root, environment: environment)
        guard substitutionProblems.isEmpty else {
            throw ConfigurationError(file: file, problems: substitutionProblems)
        }
        root = substituted
        var decoder = ConfigurationDecoder(baseDirectory: baseDirectory)
        let configuration = decoder.decodeDocument(root)
        guard let configuration, decoder.problems.isEmpty else {
            // The decoder reports a problem for every nil it returns; the fallback
            // only guards against a bug there turning into an empty error.
            let problems =
                decoder.problems.isEmpty
                ? [ConfigurationProblem(path: JSONPath.root.description, message: "invalid configuration")]
                : decoder.problems
            throw ConfigurationError(file: file, problems: problems)
        }
        return configuration
    }

    // MARK: Files

    private static func absolute(_ path: String) -> String {
        FilePaths.resolve(path, against: FileManager.default.currentDirectoryPath)
    }

    private static func readFile(_ path: String) throws(InvalidValue) -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InvalidValue("cannot read configuration file \"\(path)\": no such file")
        }
        guard !isDirectory.boolValue else {
            throw InvalidValue("cannot read configuration file \"\(path)\": it is a directory")
        }
        guard FileManager.default.isReadableFile(atPath: path),
            let data = FileManager.default.contents(atPath: path)
        else {
            throw InvalidValue("cannot read configuration file \"\(path)\": permission denied or I/O error")
        }
        return data
    }
}
