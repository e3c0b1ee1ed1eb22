/// Why one scalar value (an address, a duration, a path…) is not acceptable.
/// The walker attaches the JSON path and turns it into a ``ConfigurationProblem``.
struct InvalidValue: Error, Sendable, Equatable {
    var message: String

    init(_ message: String) {
        self.message = message
    }
}
