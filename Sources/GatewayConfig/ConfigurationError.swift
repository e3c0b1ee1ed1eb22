/// Everything wrong with a configuration file, found in one pass.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file that was loaded, or `nil` when the configuration came from memory.
    public let file: String?
    /// In document order; never empty.
    public let problems: [ConfigurationProblem]

    public init(file: String?, problems: [ConfigurationProblem]) {
        self.file = file
        self.problems = problems
    }

    /// One problem per line, `path: message`.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}

/// One thing wrong with a configuration, at one place.
public struct ConfigurationProblem: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Where in the document, e.g. `listeners[0].tls.certificates[1].key`; `(root)` for the document itself.
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`
    public var description: String {
        "\(path): \(message)"
    }
}
