import RefitCore
import RefitDefinitions
import Testing

@Suite("JSON reader")
struct JSONReaderTests {
    func errors(_ text: String) -> [String] {
        JSONReader.read(text, file: "f.json").diagnostics.map { "\($0.position.line):\($0.position.column) \($0.message)" }
    }

    @Test("positions of values and keys")
    func positions() throws {
        let root = try #require(JSONReader.read("{\n  \"a\": [1, true, null],\n\t\"b\": {\"c\": \"x\"}\n}", file: "f.json").root)
        #expect(root.position == SourcePosition(file: "f.json", line: 1, column: 1))
        let a = try #require(root.member("a"))
        #expect(a.keyPosition.line == 2 && a.keyPosition.column == 3)
        #expect(a.value.position.column == 8)
        #expect(a.value.elements?.map(\.position.column) == [9, 12, 18])
        #expect(a.value.elements?.first?.numberText == "1")
        let b = try #require(root.member("b"))
        #expect(b.keyPosition.line == 3 && b.keyPosition.column == 2)  // a tab counts as one column
        #expect(root["b"]?["c"]?.string == "x")
        #expect(root.members?.map(\.key) == ["a", "b"])
    }

    @Test("columns count Unicode scalars")
    func unicodeColumns() {
        // "é" (one scalar) and "😀" (one scalar, two UTF-16 units) before the error.
        #expect(errors("{\"é😀\": 1 2}") == ["1:10 expected ',' or '}' after an object member, found '2'"])
    }

    @Test("CRLF and lone CR end lines")
    func lineEndings() {
        #expect(errors("{\r\n\"a\": 1,\r\n}") == ["2:7 trailing comma before '}'"])
        #expect(errors("{\r\"a\": x}") == ["2:6 unexpected unquoted text; expected a value (strings need double quotes; literals are true, false and null)"])
    }

    @Test("syntax errors at their exact position", arguments: [
        ("{\"a\": 1 \"b\": 2}", "1:9 missing ',' before this member"),
        ("[1, 2,]", "1:6 trailing comma before ']'"),
        ("[1 2]", "1:4 missing ',' before this element"),
        ("{\"a\": \"abc}", "1:7 unterminated string: missing closing '\"'"),
        ("{\"a\": \"a\\xb\"}", "1:9 invalid escape '\\x' in a string; valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX"),
        ("{\"a\": \"\\u12G4\"}", "1:8 invalid \\u escape: expected four hexadecimal digits"),
        ("{\"a\": \"\\uD800\"}", "1:8 invalid \\u escape: high surrogate \\uD800 without a low surrogate"),
        ("{\"a\": 1, \"a\": 2}", "1:10 duplicate key \"a\" (first at line 1, column 2)"),
        ("{\"a\": 01}", "1:7 invalid number (JSON numbers look like 12, -3, 0.5 or 1e3)"),
        ("{\"a\": 1.}", "1:7 invalid number (JSON numbers look like 12, -3, 0.5 or 1e3)"),
        ("{a: 1}", "1:2 object keys must be strings in double quotes"),
        ("{\"a\": 'x'}", "1:7 strings must be enclosed in double quotes, not single quotes"),
        ("{\"a\" 1}", "1:6 expected ':' after key \"a\", found '1'"),
        ("{\"a\": }", "1:7 expected a value before '}'"),
        ("{\"a\": 1} x", "1:10 unexpected unquoted text after the end of the JSON value; a file holds one value"),
        ("{\"a\": [1, 2", "1:12 unexpected end of file inside the array that starts at line 1, column 7; expected ',' or ']'"),
        ("// c\n{}", "1:1 JSON does not allow comments"),
        ("", "1:1 the file is empty; expected a JSON object"),
        ("{\"a\": True}", "1:7 unexpected 'True'; expected a value (strings need double quotes; literals are true, false and null)"),
        ("{\"a\": \"tab\there\"}", "1:11 control character U+0009 must be escaped in a string"),
    ])
    func syntaxError(_ text: String, _ expected: String) {
        #expect(errors(text) == [expected])
    }

    @Test("recoverable errors keep the tree; fatal ones keep a partial tree")
    func recovery() throws {
        let recovered = JSONReader.read("{\"a\": 1 \"b\": [2,], \"a\": 3}", file: "f")
        #expect(recovered.diagnostics.count == 3)
        #expect(recovered.root?["a"]?.numberText == "1")
        #expect(recovered.root?["b"]?.elements?.count == 1)
        let fatal = JSONReader.read("{\"name\": \"X\", \"properties\": {\"type\": \"AzureBlob\", \"x\": [1, @", file: "f")
        #expect(fatal.root == nil)
        #expect(fatal.partialRoot?["name"]?.string == "X")
        #expect(fatal.partialRoot?["properties"]?["type"]?.string == "AzureBlob")
        #expect(fatal.partialRoot?["properties"]?["x"]?.elements?.count == 1)
    }

    @Test("escapes decode and keep each character's column")
    func escapes() throws {
        let root = try #require(JSONReader.read(#"{"p": "a\u0041\n\/{T}", "s": "\uD83D\uDE00"}"#, file: "f").root)
        let p = try #require(root["p"])
        #expect(p.string == "aA\n/{T}")
        // `{` is the 5th scalar of the content, at column 8 + 1 + 6 + 2 + 2 (the escapes are wider than what they decode to).
        #expect(p.position(ofScalarOffset: 4).column == 19)
        #expect(root["s"]?.string == "😀")
    }

    @Test("unquoted text is never echoed: it may be a secret")
    func unquotedNotEchoed() {
        let messages = errors("{\"apiKey\": Zx9SecretValue}") + errors("{\"apiKey\": 12ab34Secret}") + errors("{\"a\": 1 Zx9SecretValue}")
        #expect(messages.count == 3)
        #expect(messages.allSatisfy { !$0.contains("Zx9SecretValue") && !$0.contains("12ab34Secret") })
    }

    @Test("deep nesting is an error, not a crash")
    func depth() {
        let text = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(errors(text) == ["1:101 values are nested more than 100 levels deep"])
    }
}
