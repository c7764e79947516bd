import Foundation

/// Just enough of an HTML reader for the report tests: start tags with their attributes, found
/// by tag name and class. The report's markup is regular (double-quoted attributes, escaped
/// values), and Chromium's `--dump-dom` serializes it the same way.
struct ReportDOM {
    struct Element {
        var tag: String
        var attributes: [String: String]
        /// Where the start tag begins in the page.
        var offset: Int
        var classes: [String] { (attributes["class"] ?? "").split(separator: " ").map(String.init) }
        subscript(name: String) -> String? { attributes[name] }
    }

    let html: String

    /// Start tags named `tag` (any, when nil) whose class list holds `className` (any, when nil).
    func elements(_ tag: String? = nil, class className: String? = nil, in range: Range<String.Index>? = nil) -> [Element] {
        let scope = range.map { String(html[$0]) } ?? html
        let tagPattern = tag.map { NSRegularExpression.escapedPattern(for: $0) } ?? "[a-zA-Z][a-zA-Z0-9-]*"
        guard let regex = try? NSRegularExpression(pattern: "<(\(tagPattern))(\\s[^>]*)?>", options: [.caseInsensitive]),
              let attribute = try? NSRegularExpression(pattern: "([a-zA-Z_:][-a-zA-Z0-9_:.]*)=\"([^\"]*)\"") else { return [] }
        let text = scope as NSString
        return regex.matches(in: scope, range: NSRange(location: 0, length: text.length)).compactMap { match -> Element? in
            let name = text.substring(with: match.range(at: 1)).lowercased()
            var attributes: [String: String] = [:]
            if match.range(at: 2).location != NSNotFound {
                let list = text.substring(with: match.range(at: 2))
                let listText = list as NSString
                for pair in attribute.matches(in: list, range: NSRange(location: 0, length: listText.length)) {
                    attributes[listText.substring(with: pair.range(at: 1)).lowercased()] = Self.unescape(listText.substring(with: pair.range(at: 2)))
                }
            }
            let element = Element(tag: name, attributes: attributes, offset: match.range.location)
            if let className, !element.classes.contains(className) { return nil }
            return element
        }
    }

    /// The `<svg>` element with `attribute="value"` and what it holds, or nil.
    func svg(_ attribute: String, _ value: String) -> Range<String.Index>? {
        guard let start = html.range(of: "\(attribute)=\"\(value)\""),
              let open = html[..<start.lowerBound].range(of: "<svg", options: .backwards),
              let close = html[start.upperBound...].range(of: "</svg>") else { return nil }
        return open.lowerBound..<close.upperBound
    }

    /// Grid cells (`td.cell`).
    var cells: [Element] { elements("td", class: "cell") }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
