/// A JSON document as Python's `json.loads` sees it: integers keep their exact digits
/// (Python ints are unbounded), object keys keep their order, and the last duplicate key wins.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON number with the integer/float distinction Python makes (`1` is an `int`, `1.0` and `1e2`
/// are `float`s) and the lexeme it was read from.
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible {
    /// The literal as it appeared in the document (`-0`, `1E+2`, `NaN`, `-Infinity`), or a
    /// canonical form for numbers made by coercion.
    public let lexeme: String
    /// `true` for a Python `int` (no fraction, no exponent), `false` for a Python `float`.
    public let isInteger: Bool

    public init(lexeme: String, isInteger: Bool) {
        self.lexeme = lexeme
        self.isInteger = isInteger
    }

    /// A Python float; written as `repr(float)` does.
    public init(_ value: Double) {
        self.lexeme = PythonFloat.repr(value)
        self.isInteger = false
    }

    /// A Python int.
    public init(_ value: Int) {
        self.lexeme = String(value)
        self.isInteger = true
    }

    /// The value as a Python float would hold it (`float(lexeme)`); ±infinity when out of range.
    public var doubleValue: Double {
        Double(self.lexeme) ?? .nan
    }

    public var description: String { self.lexeme }
}

/// The members of a JSON object in document order. Like a Python `dict` built from pairs, a
/// duplicate key keeps the position of its first occurrence and the value of its last.
public struct JSONObject: Sendable, Equatable {
    public private(set) var keys: [String]
    public private(set) var values: [JSONValue]

    public init() {
        self.keys = []
        self.values = []
    }

    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        self.init()
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { self.keys.count }
    public var isEmpty: Bool { self.keys.isEmpty }

    public func index(forKey key: String) -> Int? {
        self.keys.firstIndex(of: key)
    }

    public subscript(key: String) -> JSONValue? {
        get { self.index(forKey: key).map { self.values[$0] } }
        set {
            if let index = self.index(forKey: key) {
                if let newValue {
                    self.values[index] = newValue
                } else {
                    self.keys.remove(at: index)
                    self.values.remove(at: index)
                }
            } else if let newValue {
                self.keys.append(key)
                self.values.append(newValue)
            }
        }
    }

    /// Appends without looking for a duplicate; the caller knows `key` is new.
    mutating func appendUnique(key: String, value: JSONValue) {
        self.keys.append(key)
        self.values.append(value)
    }

    mutating func replaceValue(at index: Int, with value: JSONValue) {
        self.values[index] = value
    }

    public var pairs: Zip2Sequence<[String], [JSONValue]> { zip(self.keys, self.values) }
}
