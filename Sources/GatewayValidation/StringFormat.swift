/// `format` values and the pydantic type each stands for.
enum StringFormat: String, Sendable, CaseIterable {
    /// `uuid.UUID`.
    case uuid
    /// `datetime.datetime` (lax: ISO 8601 text, a date alone, or Unix seconds/milliseconds).
    case dateTime = "date-time"
    /// `datetime.date` (lax: ISO 8601 date, a datetime at midnight, or a Unix timestamp at midnight).
    case date
    /// `pydantic.EmailStr` (the `email-validator` package, without DNS checks).
    case email

    /// A JSON value; success carries the value as pydantic serialises it.
    func validate(_ value: JSONValue) -> Result<JSONValue, ConstraintFailure> {
        switch self {
        case .uuid:
            guard case .string(let text) = value else { return .failure(UUIDFormat.typeFailure) }
            return UUIDFormat.parse(text[...]).map(JSONValue.string)
        case .dateTime:
            return TemporalFormat.dateTime(value)
        case .date:
            return TemporalFormat.date(value)
        case .email:
            guard case .string(let text) = value else { return .failure(ConstraintFailure(.stringType)) }
            return EmailFormat.validate(text[...]).map(JSONValue.string)
        }
    }

    /// A parameter's text.
    func validate(text: Substring) -> Result<JSONValue, ConstraintFailure> {
        switch self {
        case .uuid: return UUIDFormat.parse(text).map(JSONValue.string)
        case .dateTime, .date: return self.validate(.string(String(text)))
        case .email: return EmailFormat.validate(text).map(JSONValue.string)
        }
    }
}
