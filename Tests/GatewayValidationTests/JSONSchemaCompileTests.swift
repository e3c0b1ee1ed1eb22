import GatewayValidation
import Testing

/// What an operator is told about a schema that does not compile: every problem, with its path
/// inside the schema.
@Suite struct JSONSchemaCompileTests {
    func problems(_ schema: String) throws -> [String] {
        let document = try JSONParser().parse(schema).get().value
        switch JSONSchema.compile(document) {
        case .success: return []
        case .failure(let errors): return errors.problems.map { "\($0.path) | \($0.message)" }
        }
    }

    func compiles(_ schema: String) throws -> JSONSchema {
        try JSONSchema.compile(JSONParser().parse(schema).get().value).get()
    }

    @Test func everyProblemIsReportedWithItsPath() throws {
        let schema = """
            {"type":"object","properties":{
              "qty":{"type":"integer","minimum":"x","maximum":1.5},
              "name":{"type":"string","pattern":"(?=a)","format":"hostname"},
              "tags":{"type":"array","items":[{"type":"string"}]}},
             "required":["qty","missing"],"allOf":[],"additionalProperties":1}
            """
        #expect(
            try self.problems(schema) == [
                "allOf | unsupported keyword",
                "properties.qty.maximum | must be an integer for an integer schema, got 1.5",
                "properties.qty.minimum | must be a number, got \"x\"",
                "properties.name.pattern | is not supported: look-around is not supported",
                "properties.name.format | unknown format \"hostname\" (supported: \"uuid\", \"date-time\", \"date\", \"email\")",
                "properties.tags.items | must be a schema object (tuple items are not supported), got an array",
                "required[1] | names \"missing\", which is not in properties",
                "additionalProperties | must be a boolean or a schema, got 1",
            ])
    }

    @Test(arguments: [
        ("true", " | must be a schema object, got true"),
        (#"{"type":"float"}"#,
         #"type | unknown type "float" (known: "string", "number", "integer", "boolean", "object", "array", "null")"#),
        (#"{"type":["string","integer"]}"#,
         #"type | may list one type and "null" (a union of "string" and "integer" is not supported)"#),
        (#"{"type":[]}"#, "type | must not be empty"),
        (#"{"type":["string",1]}"#, #"type[1] | must be one of "string", "number", "integer", "boolean", "object", "array", "null""#),
        (#"{"type":"integer","minLength":1}"#, #"minLength | does not apply to "type": "integer""#),
        (#"{"minimum":1}"#, #"minimum | needs "type": "number""#),
        (#"{"type":"string","nullable":true}"#, #"nullable | unsupported keyword (write "type": ["…", "null"] instead)"#),
        (#"{"type":"string","minLength":-1}"#, "minLength | must be a non-negative integer, got -1"),
        (#"{"type":"string","maxLength":2.5}"#, "maxLength | must be a non-negative integer, got 2.5"),
        (#"{"type":"array","minItems":"1"}"#, #"minItems | must be a non-negative integer, got "1""#),
        (#"{"type":"number","multipleOf":0}"#, "multipleOf | must be greater than 0, got 0"),
        (#"{"type":"integer","multipleOf":-2}"#, "multipleOf | must be a positive integer up to 10^18, got -2"),
        (#"{"type":"number","maximum":1e400}"#, "maximum | must be a finite number, got 1e400"),
        (#"{"type":"integer","maximum":1e400}"#, "maximum | must be an integer for an integer schema, got 1e400"),
        (#"{"type":"number","minimum":true}"#, "minimum | must be a number, got true"),
        (#"{"type":"string","format":"uuid","maxLength":36}"#, "maxLength | can't be combined with format"),
        (#"{"type":"string","format":7}"#, "format | must be a string, got 7"),
        (#"{"type":"string","pattern":"(a)\\1"}"#, "pattern | is not supported: backreferences are not supported"),
        (#"{"type":"string","pattern":"a(?>b)"}"#, "pattern | is not supported: atomic groups are not supported"),
        (#"{"type":"string","pattern":"a++"}"#, "pattern | is not supported: possessive quantifiers are not supported"),
        (#"{"type":"object","properties":[]}"#, "properties | must be an object of schemas, got an array"),
        (#"{"type":"object","required":"a"}"#, #"required | must be an array of property names, got "a""#),
        (#"{"type":"object","properties":{"a":{}},"required":[1]}"#, "required[0] | must be a string, got 1"),
        (#"{"type":"object","properties":{"a.b":{"type":"x"}}}"#,
         #"properties["a.b"].type | unknown type "x" (known: "string", "number", "integer", "boolean", "object", "array", "null")"#),
        (#"{"enum":"a"}"#, #"enum | must be an array, got "a""#),
        (#"{"enum":[]}"#, "enum | must not be empty"),
        (#"{"const":"a","enum":["a"]}"#, "const | can't be combined with enum"),
        (#"{"enum":[1,2],"maximum":3}"#, "maximum | can't be combined with enum or const"),
        (#"{"enum":[99999999999999999999]}"#, "enum[0] | must fit in 64 bits"),
        (#"{"type":"boolean","const":1}"#, #"const | is not of type "boolean""#),
        (#"{"type":["string","null"],"enum":[1]}"#, #"enum[0] | is not of type "string" or "null""#),
        (#"{"title":1}"#, "title | must be a string, got 1"),
        (#"{"examples":{}}"#, "examples | must be an array, got an object"),
        (#"{"type":"array","items":{"items":{"type":"string"}}}"#, #"items.items | needs "type": "array""#),
        (#"{"type":"array","items":{"type":"array","items":{"type":"string","minimum":0}}}"#,
         #"items.items.minimum | does not apply to "type": "string""#),
    ] as [(String, String)])
    func oneProblem(_ schema: String, _ expected: String) throws {
        #expect(try self.problems(schema) == [expected])
    }

    @Test func enumValuesAreCheckedOneByOne() throws {
        #expect(
            try self.problems(#"{"type":"integer","enum":[1,"a",1.5,{}]}"#) == [
                #"enum[1] | is not of type "integer""#,
                "enum[2] | must be a string, an integer, a boolean or null, got 1.5",
                "enum[3] | must be a string, an integer, a boolean or null, got an object",
            ])
    }

    @Test func anInvalidPatternIsAProblem() throws {
        let found = try self.problems(#"{"type":"string","pattern":"a["}"#)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("pattern | is not a valid regular expression: ") == true)
    }

    @Test func annotationsAndDefaultsAreAccepted() throws {
        let schema = try self.compiles(
            """
            {"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"urn:item","$comment":"c",
             "title":"Item","description":"An item","examples":[{"a":1}],"default":{"a":1},
             "type":"object","properties":{"a":{"type":"integer","default":1,"examples":[1,2]}}}
            """)
        #expect(schema.defaultValue == .object(JSONObject(["a": .number(JSONNumber(1))])))
        #expect(!schema.isParameterSchema)
    }

    @Test(arguments: [
        (#"{"type":"integer"}"#, true), (#"{"type":["string","null"]}"#, true), (#"{"enum":["a"]}"#, true),
        (#"{"type":"string","format":"uuid"}"#, true), (#"{"type":"array","items":{"type":"number"}}"#, true),
        (#"{"type":"array"}"#, false), (#"{"type":"array","items":{"type":"object"}}"#, false),
        (#"{"type":"object"}"#, false), (#"{}"#, false), (#"{"type":"null"}"#, false),
    ] as [(String, Bool)])
    func parameterSchemas(_ schema: String, _ usable: Bool) throws {
        #expect(try self.compiles(schema).isParameterSchema == usable)
    }

    @Test func parametersReturnTheirCoercedValues() throws {
        var issues: [ValidationIssue] = []
        let integer = try self.compiles(#"{"type":"integer","maximum":10}"#)
        #expect(integer.validate(parameterText: " 007 ", at: ["query", "n"], issues: &issues) == .number(JSONNumber(7)))
        let number = try self.compiles(#"{"type":"number"}"#)
        #expect(number.validate(parameterText: "1_5", at: ["query", "n"], issues: &issues) == .number(JSONNumber(15.0)))
        let flag = try self.compiles(#"{"type":"boolean"}"#)
        #expect(flag.validate(parameterText: "Yes", at: ["header", "x"], issues: &issues) == .bool(true))
        let id = try self.compiles(#"{"type":"string","format":"uuid"}"#)
        #expect(
            id.validate(parameterText: "{12345678-1234-1234-1234-1234567890AB}", at: ["path", "id"], issues: &issues)
                == .string("12345678-1234-1234-1234-1234567890ab"))
        let email = try self.compiles(#"{"type":"string","format":"email"}"#)
        #expect(
            email.validate(parameterText: "Jo <Info@Example.COM>", at: ["query", "e"], issues: &issues)
                == .string("info@example.com"))
        let list = try self.compiles(#"{"type":"array","items":{"type":"integer"}}"#)
        #expect(list.isArray)
        #expect(
            list.validate(parameterTexts: ["1", "2"], at: ["query", "n"], issues: &issues)
                == .array([.number(JSONNumber(1)), .number(JSONNumber(2))]))
        #expect(issues.isEmpty)
        #expect(integer.validate(parameterText: "11", at: ["query", "n"], issues: &issues) == nil)
        #expect(issues.map(\.loc) == [["query", "n"]])
    }
}
