// A JSON document as a tree that keeps what the configuration walker needs and
// Foundation's JSONSerialization loses: member order (problems are reported in
// document order), duplicate keys, booleans distinct from numbers, and the raw
// text of numbers (so "16384" is an integer and "1e3" is not).

/// One JSON value. Objects keep their members in document order, duplicates included.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number exactly as written in the document, e.g. `-12`, `1.5e3`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])
}

struct JSONMember: Sendable, Equatable {
    var key: String
    var value: JSONValue
}
