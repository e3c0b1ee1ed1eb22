import GatewayValidation
import NIOCore
import Testing

@Suite struct JSONParserTests {
    let parser = JSONParser()

    func parse(_ text: String) -> Result<JSONDocument, JSONParseError> { self.parser.parse(text) }

    /// Expected messages and positions come from Python 3.11's `json.loads(text.encode())`.
    static let syntaxErrors: [(String, String, Int)] = [
        ("", "Expecting value", 0),
        (" ", "Expecting value", 1),
        ("{", "Expecting property name enclosed in double quotes", 1),
        ("[", "Expecting value", 1),
        ("\"", "Unterminated string starting at", 0),
        ("{\"a\"", "Expecting ':' delimiter", 4),
        ("{\"a\":", "Expecting value", 5),
        ("{\"a\":1", "Expecting ',' delimiter", 6),
        ("{\"a\":1,}", "Expecting property name enclosed in double quotes", 7),
        ("{\"a\" 1}", "Expecting ':' delimiter", 5),
        ("[1,]", "Expecting value", 3),
        ("[1 2]", "Expecting ',' delimiter", 3),
        ("01", "Extra data", 1),
        ("-", "Expecting value", 0),
        ("-x", "Expecting value", 0),
        ("1.", "Extra data", 1),
        ("1e", "Extra data", 1),
        ("1e+", "Extra data", 1),
        ("tru", "Expecting value", 0),
        ("nul", "Expecting value", 0),
        ("\"\\x\"", "Invalid \\escape", 1),
        ("\"\\u12\"", "Invalid \\uXXXX escape", 2),
        ("\"\\u1234", "Invalid \\uXXXX escape", 2),
        ("\"a\tb\"", "Invalid control character at", 2),
        ("\"\u{e9}\u{e9}", "Unterminated string starting at", 0),
        ("[\"\u{e9}\", x]", "Expecting value", 6),
        ("{\"a\":1} x", "Extra data", 8),
        ("\"\\ud800\\u12\"", "Invalid \\uXXXX escape", 8),
        ("[1,2", "Expecting ',' delimiter", 4),
        ("{\"a\":1;\"b\":2}", "Expecting ',' delimiter", 6),
        ("{,}", "Expecting property name enclosed in double quotes", 1),
        ("{\"\u{e9}\":\u{e9}}", "Expecting value", 5),
        ("\"\u{1f600}\" x", "Extra data", 4),
        ("[.5]", "Expecting value", 1),
        ("[+1]", "Expecting value", 1),
        ("[1.5e]", "Expecting ',' delimiter", 4),
        ("{\"a\":\"\\", "Unterminated string starting at", 5),
        ("\"\\ud800", "Invalid \\uXXXX escape", 2),
        ("{\"a\":[1,2,3,}", "Expecting value", 12),
        ("nulll", "Extra data", 4),
        ("[1e5e5]", "Expecting ',' delimiter", 4),
        ("{\"a\"::1}", "Expecting value", 5),
        ("\"\\u00e9\\", "Unterminated string starting at", 0),
        ("\u{feff}\u{feff}{}", "Expecting value", 0),
    ]

    @Test(arguments: Self.syntaxErrors)
    func reportsPythonErrors(_ text: String, _ message: String, _ position: Int) {
        #expect(self.parse(text) == .failure(.syntax(JSONSyntaxError(message: message, position: position))))
    }

    @Test func parsesValidDocuments() throws {
        let doc = try self.parse(#" {"b": [1, -0, 2.50, 1E+2, true, false, null], "a": "x\u00e9\ud83d\ude00\n", "b": {}} "#).get()
        let object = JSONObject([
            "b": .object(JSONObject()),  // duplicate: first position, last value
            "a": .string("xé😀\n"),
        ])
        #expect(doc.value == .object(object))
        #expect(!doc.containsLoneSurrogates)
        let numbers = try self.parse("[1,-0,2.50,1E+2,NaN,-Infinity,123456789012345678901234567890]").get().value
        guard case .array(let values) = numbers else { Issue.record("not an array"); return }
        #expect(values.map { if case .number(let n) = $0 { n } else { JSONNumber(0) } } == [
            JSONNumber(lexeme: "1", isInteger: true), JSONNumber(lexeme: "-0", isInteger: true),
            JSONNumber(lexeme: "2.50", isInteger: false), JSONNumber(lexeme: "1E+2", isInteger: false),
            JSONNumber(lexeme: "NaN", isInteger: false), JSONNumber(lexeme: "-Infinity", isInteger: false),
            JSONNumber(lexeme: "123456789012345678901234567890", isInteger: true),
        ])
    }

    @Test func loneSurrogatesAreFlagged() throws {
        let doc = try self.parse(#"["\ud800", "\udc00\ud800x"]"#).get()
        #expect(doc.containsLoneSurrogates)
        #expect(doc.value == .array([.string("\u{FFFD}"), .string("\u{FFFD}\u{FFFD}x")]))
    }

    @Test func encodingsLikePython() throws {
        func bytes(_ b: [UInt8]) -> Result<JSONDocument, JSONParseError> { b.withUnsafeBytes { self.parser.parse($0) } }
        #expect(try bytes([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)).get().value == .array([.number(JSONNumber(1))]))
        // UTF-16 LE without BOM, detected from the zero bytes.
        #expect(try bytes([0x5B, 0, 0x31, 0, 0x5D, 0]).get().value == .array([.number(JSONNumber(1))]))
        #expect(bytes([0x22, 0xFF, 0x22]) == .failure(.undecodable))  // UnicodeDecodeError
        #expect(bytes([0x22, 0xC3, 0x22]) == .failure(.undecodable))
        // surrogatepass: an encoded surrogate decodes, and is flagged.
        #expect(try bytes([0x22, 0xED, 0xA0, 0x80, 0x22]).get().containsLoneSurrogates)
        // Positions count code points, not bytes.
        #expect(self.parse("[\"éé\", x]") == .failure(.syntax(JSONSyntaxError(message: "Expecting value", position: 7))))
    }

    @Test func limitsLikePython() {
        #expect(self.parse("[" + String(repeating: "1", count: 4301) + "]") == .failure(.undecodable))
        #expect((try? self.parse("[" + String(repeating: "1", count: 4300) + "]").get()) != nil)
        #expect((try? self.parse("[1" + String(repeating: "0", count: 5000) + ".5]").get()) != nil)
        let deep = JSONParser(maximumDepth: 3)
        #expect((try? deep.parse("[[[1]]]").get()) != nil)
        #expect(deep.parse("[[[[1]]]]") == .failure(.undecodable))
    }
}

@Suite struct JSONWriterTests {
    func written(_ value: JSONValue, rejectsReplacement: Bool = false) -> String? {
        guard let buffer = try? JSONWriter(rejectsReplacementCharacter: rejectsReplacement).bytes(value) else {
            return nil
        }
        return String(buffer: buffer)
    }

    /// `repr(float)` from Python 3.11.
    @Test(arguments: [
        (10.0, "10.0"), (1e16, "1e+16"), (1e15, "1000000000000000.0"), (1e-05, "1e-05"), (0.0001, "0.0001"),
        (0.1, "0.1"), (-0.0, "-0.0"), (1e300, "1e+300"), (Double.leastNonzeroMagnitude, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (123456789012345678.0, "1.2345678901234568e+17"),
        (9007199254740993.0, "9007199254740992.0"), (12345678.9, "12345678.9"), (1.5e-07, "1.5e-07"),
        (2.5e16, "2.5e+16"), (0.30000000000000004, "0.30000000000000004"), (1e22, "1e+22"), (100.0, "100.0"),
        (3.14, "3.14"), (0.0, "0.0"), (-2.5e-5, "-2.5e-05"),
    ] as [(Double, String)])
    func floatRepr(_ value: Double, _ expected: String) {
        #expect(PythonFloat.repr(value) == expected)
        #expect(self.written(.number(JSONNumber(value))) == expected)
    }

    @Test func numbersAsPythonWritesThem() {
        #expect(self.written(.number(JSONNumber(lexeme: "-0", isInteger: true))) == "0")
        #expect(self.written(.number(JSONNumber(lexeme: "2.50", isInteger: false))) == "2.5")
        #expect(self.written(.number(JSONNumber(lexeme: "1E+2", isInteger: false))) == "100.0")
        #expect(self.written(.number(JSONNumber(lexeme: "NaN", isInteger: false))) == nil)
        #expect(self.written(.number(JSONNumber(lexeme: "1e400", isInteger: false))) == nil)
    }

    @Test func escapesLikeEnsureAsciiFalse() {
        // json.dumps(..., ensure_ascii=False) from Python 3.11.
        let text = "a\"\\\n\r\t\u{8}\u{C}\u{0}\u{1}\u{1F}\u{7F}é\u{2028}😀/"
        #expect(self.written(.string(text)) == "\"a\\\"\\\\\\n\\r\\t\\b\\f\\u0000\\u0001\\u001f\u{7F}é\u{2028}😀/\"")
        #expect(self.written(.string("a\u{FFFD}"), rejectsReplacement: true) == nil)
        #expect(self.written(.string("a\u{FFFD}")) == "\"a\u{FFFD}\"")
    }

    @Test func compactSeparatorsAndOrder() {
        let value = JSONValue.object(JSONObject(["z": .array([.null, .bool(true)]), "a": .object(JSONObject())]))
        #expect(self.written(value) == #"{"z":[null,true],"a":{}}"#)
    }

    @Test func validationErrorBody() throws {
        var buffer = ByteBuffer()
        try ValidationErrorBody.write(
            [
                ValidationIssue(
                    type: "int_parsing", loc: ["path", "item_id"],
                    msg: "Input should be a valid integer, unable to parse string as an integer", input: .string("x")),
                .jsonInvalid(JSONSyntaxError(message: "Expecting value", position: 3)),
                .missing(at: ["body"]),
                ValidationIssue(type: "t", loc: [], msg: "m", input: nil),
            ],
            into: &buffer
        )
        #expect(
            String(buffer: buffer)
                == #"{"detail":[{"type":"int_parsing","loc":["path","item_id"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"},"#
                + #"{"type":"json_invalid","loc":["body",3],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}},"#
                + #"{"type":"missing","loc":["body"],"msg":"Field required","input":null},{"type":"t","loc":[],"msg":"m"}]}"#
        )
    }
}
