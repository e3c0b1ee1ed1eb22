import GatewayValidation
import Testing

@Suite struct QueryParametersTests {
    /// Starlette: parse_qsl(query.decode("latin-1"), keep_blank_values=True); get() is the last value.
    @Test(arguments: [
        ("q=hello", "hello"), ("q=", ""), ("q", ""), ("q=a+b", "a b"), ("q=%E2%82%AC", "€"), ("q=%zz", "%zz"),
        ("q=%", "%"), ("q=%4", "%4"), ("q=%FF", "\u{FFFD}"), ("q=%ED%A0%80", "\u{FFFD}\u{FFFD}\u{FFFD}"),
        ("q=%F0%9F%98", "\u{FFFD}"), ("q=one&q=two", "two"), ("q=one&q", ""), ("%71=encoded-name", "encoded-name"),
        ("&&q=x&&", "x"), ("q=a;b", "a;b"), ("q=a=b=c", "a=b=c"), ("q=%2B%26%3D", "+&="), ("q=é", "Ã©"),
    ] as [(String, String)])
    func lastValue(_ query: String, _ expected: String) {
        #expect(QueryParameters.lastValue(named: "q", in: query[...]) == expected)
        #expect(QueryParameters(query[...]).value(named: "q") == expected)
    }

    @Test func absent() {
        #expect(QueryParameters.lastValue(named: "q", in: nil) == nil)
        #expect(QueryParameters.lastValue(named: "q", in: "Q=1&q+=2&q%20=3") == nil)
        #expect(QueryParameters("a=1&b&=c").pairs.map { "\($0.name)=\($0.value)" } == ["a=1", "b=", "=c"])
    }

    @Test func pathDecoding() {
        #expect(PercentDecoding.decode("%34%32") == "42")
        #expect(PercentDecoding.decode("a+b%20c") == "a+b c")
        #expect(PercentDecoding.decode("%D9%A4%D9%A2") == "٤٢")
    }
}

@Suite struct LaxCoercionTests {
    /// pydantic 2 `TypeAdapter(int).validate_python(str)`.
    @Test(arguments: [
        ("42", "42"), (" 42", "42"), ("42\n", "42"), ("+42", "42"), ("-0", "0"), ("00042", "42"), ("1_000", "1000"),
        ("4.0", "4"), ("4.00", "4"), ("1_0.0", "10"), ("-4.0", "-4"), ("\u{A0}42", "42"), ("\u{3000}42", "42"),
        ("99999999999999999999", "99999999999999999999"), ("-9223372036854775809", "-9223372036854775809"),
    ] as [(String, String)])
    func integerFromString(_ text: String, _ expected: String) throws {
        let value = try LaxCoercion.integer(fromString: text[...]).get()
        switch value {
        case .small(let i): #expect(String(i) == expected)
        case .large(let digits): #expect(digits == expected)
        }
    }

    @Test(arguments: [
        "abc", "4.2", "4.", ".0", "1e3", "0x10", "0b1", "1__0", "_1", "1_", "4.0_0", "+-1", "", " ", "+", "٤٢", "\u{1C}42",
        "\u{200B}42", "inf", "nan",
    ])
    func integerParsingFails(_ text: String) {
        #expect(LaxCoercion.integer(fromString: text[...]) == .failure(.intParsing))
    }

    @Test func integerSizeLimit() {
        let digits = String(repeating: "1", count: 4301)
        #expect(LaxCoercion.integer(fromString: digits[...]) == .failure(.intParsingSize))
        #expect(LaxCoercion.integer(fromString: (" " + digits)[...]) == .failure(.intParsing))
        #expect(LaxCoercion.integer(fromString: ("-" + digits.dropFirst())[...]) == .failure(.intParsingSize))
        #expect((try? LaxCoercion.integer(fromString: ("+" + digits.dropFirst())[...]).get()) != nil)
    }

    /// pydantic 2 `TypeAdapter(float).validate_python(str)`.
    @Test(arguments: [
        ("12.5", 12.5), (" 1.5 ", 1.5), ("1_0.5", 10.5), ("1_.5", 1.5), ("1e_5", 1e5), ("+_1", 1), (".5", 0.5),
        ("5.", 5), ("1E5", 1e5), ("-Infinity", -.infinity), ("iNf", .infinity), ("1e400", .infinity),
    ] as [(String, Double)])
    func floatFromString(_ text: String, _ expected: Double) {
        #expect(LaxCoercion.float(fromString: text[...]) == .success(expected))
    }

    @Test(arguments: ["abc", "", "0x10", "1__0", "_1.5", "1.5_", " 1_0.5 ", "nan(1)", "infinit", ".", "e5", "1e+", "١"])
    func floatParsingFails(_ text: String) {
        #expect(LaxCoercion.float(fromString: text[...]) == .failure(.floatParsing))
    }

    @Test func floatFromJSON() {
        #expect(LaxCoercion.float(from: .number(JSONNumber(lexeme: "10", isInteger: true))) == .success(10))
        #expect(LaxCoercion.float(from: .number(JSONNumber(lexeme: "-0", isInteger: true))).map(\.sign) == .success(.plus))
        #expect(LaxCoercion.float(from: .number(JSONNumber(lexeme: "-0.0", isInteger: false))).map(\.sign) == .success(.minus))
        #expect(LaxCoercion.float(from: .bool(true)) == .success(1))
        #expect(LaxCoercion.float(from: .string("12.5")) == .success(12.5))
        let huge = JSONNumber(lexeme: "1" + String(repeating: "0", count: 400), isInteger: true)
        #expect(LaxCoercion.float(from: .number(huge)) == .failure(.floatType))
        #expect(LaxCoercion.float(from: .null) == .failure(.floatType))
        #expect(LaxCoercion.float(from: .array([])) == .failure(.floatType))
    }

    @Test func stringIntegerBoolFromJSON() {
        #expect(LaxCoercion.string(from: .number(JSONNumber(1))) == .failure(.stringType))
        #expect(LaxCoercion.string(from: .bool(true)) == .failure(.stringType))
        #expect(LaxCoercion.integer(from: .number(JSONNumber(4.0))) == .success(.small(4)))
        #expect(LaxCoercion.integer(from: .number(JSONNumber(4.5))) == .failure(.intFromFloat))
        #expect(LaxCoercion.integer(from: .number(JSONNumber(lexeme: "NaN", isInteger: false))) == .failure(.finiteNumber))
        #expect(LaxCoercion.integer(from: .number(JSONNumber(1e20))) == .failure(.intParsingSize))
        #expect(LaxCoercion.integer(from: .null) == .failure(.intType))
        #expect(LaxCoercion.bool(fromString: "YES") == .success(true))
        #expect(LaxCoercion.bool(fromString: " true") == .failure(.boolParsing))
        #expect(LaxCoercion.bool(from: .number(JSONNumber(2))) == .failure(.boolParsing))
        #expect(LaxCoercion.bool(from: .number(JSONNumber(1.5))) == .failure(.boolType))
        #expect(LaxCoercion.bool(from: .null) == .failure(.boolType))
    }
}

@Suite struct SchemaTests {
    static let item = ObjectSchema(properties: [
        .required("name", .string), .optional("description", .string), .required("price", .number),
        .optional("tax", .number),
    ])

    @Test func validatesLikeAModel() throws {
        var issues: [ValidationIssue] = []
        let body = try JSONParser().parse(#"{"price":10,"name":"a","x":1}"#).get().value
        let result = Self.item.validate(body, at: ["body"], issues: &issues)
        #expect(issues.isEmpty)
        #expect(result?.keys == ["name", "description", "price", "tax"])
        #expect(result?["price"] == .number(JSONNumber(10.0)))
    }

    @Test func reportsEveryIssueInFieldOrder() throws {
        var issues: [ValidationIssue] = []
        let body = try JSONParser().parse(#"{"tax":"t","description":3}"#).get().value
        #expect(Self.item.validate(body, at: ["body"], issues: &issues) == nil)
        #expect(issues.map(\.type) == ["missing", "string_type", "missing", "float_parsing"])
        #expect(issues[0].input == body)
        issues = []
        #expect(Self.item.validate(.array([]), at: ["body"], issues: &issues) == nil)
        #expect(issues == [ValidationIssue(
            type: "model_attributes_type", loc: ["body"],
            msg: "Input should be a valid dictionary or object to extract fields from", input: .array([]))])
    }

    @Test func parameters() {
        var issues: [ValidationIssue] = []
        let id = ParameterSchema(name: "item_id", location: .path, type: .integer)
        #expect(id.validate("42", issues: &issues) == .number(JSONNumber(42)))
        #expect(id.validate("x", issues: &issues) == nil)
        #expect(id.validate(nil, issues: &issues) == nil)
        let q = ParameterSchema(name: "q", location: .query, type: .string, requirement: .defaultValue(.null))
        #expect(q.validate(nil, issues: &issues) == .null)
        #expect(issues.map(\.type) == ["int_parsing", "missing"])
        #expect(issues[1].loc == ["path", "item_id"])
    }

    @Test func jsonContentTypes() {
        for ct in ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", " application/json ",
                   "application/vnd.api+json", "application/json ;x=y"] {
            #expect(RequestBody.isJSON(ct[...]), "\(ct)")
        }
        for ct in ["", "text/plain", "text/json", "application/x-json", "application/ json", "application /json",
                   "application/json, text/plain", "application/json/x", "application", "*/*"] {
            #expect(!RequestBody.isJSON(ct[...]), "\(ct)")
        }
    }
}
