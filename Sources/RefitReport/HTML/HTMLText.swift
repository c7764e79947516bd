/// Escaping for everything the report writes: text and attribute values of HTML, and JSON
/// embedded in a `<script type="application/json">` element. Every string from the database
/// (names, error messages, locations) goes through one of these.
enum HTMLText {
    /// Text content or a double-quoted attribute value: `& < > " '` become entities.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// ` name="value"` with the value escaped.
    static func attribute(_ name: String, _ value: String) -> String { " \(name)=\"\(escape(value))\"" }

    /// The text without its URL query (a SAS token or key must never reach a report that is mailed).
    static func withoutQuery(_ text: String) -> String {
        guard let mark = text.firstIndex(of: "?") else { return text }
        return String(text[..<mark])
    }
}
