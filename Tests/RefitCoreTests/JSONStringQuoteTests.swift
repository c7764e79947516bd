import Foundation
import Testing
import RefitCore

/// `JSONString.quote` appends runs of bytes that need no escape whole; these tests hold it to a
/// scalar-at-a-time writer of the same rules, and to `JSONSerialization` reading the result back.
@Suite("JSON string quoting")
struct JSONStringQuoteTests {
    /// The rules, one scalar at a time.
    static func expected(_ text: String, forHTML: Bool) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<" where forHTML: out += "\\u003c"
            case ">" where forHTML: out += "\\u003e"
            case "&" where forHTML: out += "\\u0026"
            case "\u{2028}" where forHTML: out += "\\u2028"
            case "\u{2029}" where forHTML: out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static let pieces = ["", "a", "plain text", "\"", "\\", "\n", "\r\n", "\t", "\u{0}", "\u{1}", "\u{1f}", "\u{7f}",
                         "<", ">", "&", "</script>", "\u{2028}", "\u{2029}", "\u{2027}", "\u{202a}", "é", "e\u{301}",
                         "日本", "🇫🇷", "👩‍👩‍👧", "\u{e2}", "\u{80}", "x\u{2028}", "{\"k\":\"v\"}"]

    @Test("agrees with the scalar-at-a-time rules on every pair and triple of awkward pieces")
    func agreesWithTheRules() {
        var samples: [String] = []
        for a in Self.pieces {
            for b in Self.pieces {
                samples.append(a + b)
                for c in ["", "z", "\"", "\u{2029}"] { samples.append(a + c + b) }
            }
        }
        for text in samples {
            for forHTML in [false, true] {
                #expect(JSONString.quote(text, forHTML: forHTML) == Self.expected(text, forHTML: forHTML),
                        "\(text.debugDescription) forHTML: \(forHTML)")
            }
        }
    }

    @Test("appends to what is already there, and reads back as the same string")
    func appendsAndRoundTrips() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(Self.pieces.joined().unicodeScalars)
        for _ in 0..<300 {
            var text = ""
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                text.unicodeScalars.append(alphabet.randomElement(using: &generator)!)
            }
            var out = "prefix:"
            JSONString.quote(text, forHTML: Bool.random(using: &generator), into: &out)
            // Compared as bytes: a leading combining mark joins the quote into one Character.
            #expect(out.utf8.starts(with: "prefix:\"".utf8))
            let literal = String(decoding: out.utf8.dropFirst("prefix:".utf8.count), as: UTF8.self)
            let decoded = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
            #expect(decoded == [text], "\(text.debugDescription)")
        }
        // A bridged (non-native) string takes the same path.
        let bridged = NSString(string: "a\"b\u{2028}c") as String
        #expect(JSONString.quote(bridged, forHTML: true) == "\"a\\\"b\\u2028c\"")
    }

    @Test("typed objects and arrays: keys sorted, raw members written as they are, nesting reads back")
    func typedObjectsAndArrays() throws {
        #expect(JSONString.object(["b": "2", "a": "x\"y"]) == "{\"a\":\"x\\\"y\",\"b\":\"2\"}")
        #expect(JSONString.object([String: String]()) == "{}")
        #expect(JSONString.array([]) == "[]")
        #expect(JSONString.array(["a", "\n"]) == "[\"a\",\"\\n\"]")
        let nested = JSONString.object(rawValues: ["z": JSONString.array(["q"]), "m": JSONString.object(["k": "v"]), "n": "1.5"])
        #expect(nested == "{\"m\":{\"k\":\"v\"},\"n\":1.5,\"z\":[\"q\"]}")
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(nested.utf8)) as? [String: Any])
        #expect(decoded["m"] as? [String: String] == ["k": "v"] && decoded["z"] as? [String] == ["q"])
    }
}
