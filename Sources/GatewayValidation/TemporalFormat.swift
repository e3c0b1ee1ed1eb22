enum TemporalFormat {
    static func dateTime(_ value: JSONValue) -> Result<JSONValue, ConstraintFailure> { .success(value) }
    static func date(_ value: JSONValue) -> Result<JSONValue, ConstraintFailure> { .success(value) }
}
