import GatewayAuth
import Testing

@Suite("API key table")
struct APIKeyTableTests {
    let table = APIKeyTable(keys: [
        ("partner-a", Array("a-very-long-key-for-partner-a".utf8)),
        ("partner-b", Array("a-very-long-key-for-partner-b".utf8)),
        ("partner-c", Array("c".utf8)),
    ])

    @Test func identifiesEachKeyAndNothingElse() {
        #expect(table.identify("a-very-long-key-for-partner-a") == 0)
        #expect(table.identify("a-very-long-key-for-partner-b") == 1)
        #expect(table.identify("c") == 2)
        #expect(table.identify("a-very-long-key-for-partner-") == nil, "a prefix")
        #expect(table.identify("a-very-long-key-for-partner-aa") == nil, "longer")
        #expect(table.identify("") == nil)
        #expect(table.identify(Substring("xa-very-long-key-for-partner-a").dropFirst()) == 0, "a slice")
        #expect(table.names == ["partner-a", "partner-b", "partner-c"])
        #expect(APIKeyTable(keys: []).identify("anything") == nil)
    }

    @Test func findsRepeatedKeys() {
        let repeated = APIKeyTable(keys: [("a", [1, 2]), ("b", [3]), ("c", [1, 2]), ("d", [3])])
        #expect(repeated.duplicates.map(\.index) == [2, 3])
        #expect(repeated.duplicates.map(\.earlier) == [0, 1])
        #expect(table.duplicates.isEmpty)
    }
}
