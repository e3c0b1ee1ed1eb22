import GatewayConfig
import Testing

@Suite("Invalid JSON is reported with line and column")
struct InvalidJSONTests {
    @Test func missingCommaBetweenMembers() {
        let json = """
            {
              "listeners": [
                {"name": "web" "address": "127.0.0.1:0"}
              ],
              "routes": []
            }
            """
        #expect(
            problems(of: json)
                == [
                    "(root): invalid JSON at line 3, column 20: unexpected '\"' after an object member, expected ',' or '}'"
                ]
        )
    }

    @Test(arguments: [
        ("", "(root): invalid JSON at line 1, column 1: the document is empty"),
        ("{", "(root): invalid JSON at line 1, column 2: unexpected end of input inside an object"),
        (#"{"a": 1,}"#, "(root): invalid JSON at line 1, column 9: trailing comma before '}'"),
        ("[1, 2,]", "(root): invalid JSON at line 1, column 7: trailing comma before ']'"),
        ("{\n  // comment\n}", "(root): invalid JSON at line 2, column 3: comments are not allowed in JSON"),
        (
            #"{'a': 1}"#,
            "(root): invalid JSON at line 1, column 2: unexpected ''', expected a member name in double quotes"
        ),
        (
            #"{"a": True}"#,
            #"(root): invalid JSON at line 1, column 7: unexpected "True", expected a value (did you mean "true"?)"#
        ),
        (
            #"{"a": nil}"#,
            #"(root): invalid JSON at line 1, column 7: unexpected "nil", expected a value (did you mean "null"?)"#
        ),
        (
            #"{"a": truthy}"#,
            #"(root): invalid JSON at line 1, column 7: unexpected "truthy", expected a value (strings need double quotes)"#
        ),
        (
            #"{"a": items}"#,
            #"(root): invalid JSON at line 1, column 7: unexpected "items", expected a value (strings need double quotes)"#
        ),
        (#"{"a": 01}"#, "(root): invalid JSON at line 1, column 7: invalid number: leading zeros are not allowed"),
        (
            #"{"a": "x"} {}"#,
            "(root): invalid JSON at line 1, column 12: unexpected content after the end of the document"
        ),
        (
            "{\"a\": \"tab\there\"}",
            #"(root): invalid JSON at line 1, column 11: control character in string (escape it, e.g. "\n")"#
        ),
        (#"{"a": "\q"}"#, #"(root): invalid JSON at line 1, column 8: invalid escape sequence "\q""#),
        (#"{"a": "open}"#, "(root): invalid JSON at line 1, column 7: unterminated string"),
        (
            "{\"é\": 1 2}",
            "(root): invalid JSON at line 1, column 9: unexpected '2' after an object member, expected ',' or '}'"
        ),
    ])
    func syntaxErrors(json: String, expected: String) {
        #expect(problems(of: json) == [expected])
    }

    @Test func stringEscapesAreDecoded() throws {
        let configuration = try load(
            #"{"listeners": [{"name": "w\u0065b", "address": "127.0.0.1:0"}], "routes": [{"name": "a", "match": {"path": "\/caf\u00e9\/\ud83d\ude00"}, "handler": "items"}]}"#
        )
        #expect(configuration.listeners[0].name == "web")
        #expect(configuration.routes[0].match.path == .exact("/café/😀"))
    }

    @Test func byteOrderMarkIsTolerated() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(minimalDocument.utf8)
        let configuration = try GatewayConfigurationLoader.load(data: bytes, baseDirectory: "/")
        #expect(configuration.listeners.count == 1)
    }

    @Test func invalidUTF8IsAnError() {
        let bytes: [UInt8] = Array(#"{"a": ""#.utf8) + [0xFF] + Array(#""}"#.utf8)
        #expect(throws: ConfigurationError.self) {
            try GatewayConfigurationLoader.load(data: bytes, baseDirectory: "/")
        }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let json = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(problems(of: json).first?.contains("nesting deeper than") == true)
    }
}
