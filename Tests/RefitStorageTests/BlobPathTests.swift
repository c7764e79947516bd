import Foundation
import RefitStorage
import Testing

/// Percent-encoding of blob paths and query values, against Foundation's encoder with the same
/// allowed set (RFC 3986 unreserved characters, and `/` in paths).
@Suite("Blob path encoding")
struct BlobPathTests {
    static func expected(_ text: String, allowing extra: String) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        allowed.insert(charactersIn: extra)
        return text.addingPercentEncoding(withAllowedCharacters: allowed)!
    }

    @Test("paths keep slashes, query values do not, everything else is %XX of its UTF-8 bytes")
    func agreesWithFoundation() {
        var samples = ["", "a", "raw/2026/12/06/slice.csv", "a b", "100%", "x+y=z&w", "é/日本/🇫🇷", "~._-", "?#[]@!$'()*,;",
                       "k2Qm+/Zz==", "\u{0}\u{7f}", "a//b/"]
        let alphabet = Array("aZ9-._~/ %+=&?#é日🇫\u{1}".unicodeScalars)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var text = ""
            for _ in 0..<Int.random(in: 0...12, using: &generator) {
                text.unicodeScalars.append(alphabet.randomElement(using: &generator)!)
            }
            samples.append(text)
        }
        for text in samples {
            #expect(BlobPath.encode(text) == Self.expected(text, allowing: "/"), "\(text.debugDescription)")
            #expect(BlobPath.encodeQueryValue(text) == Self.expected(text, allowing: ""), "\(text.debugDescription)")
        }
    }
}
