import RefitCore

/// A small JSON value written for the report's embedded data. Strings escape `<`, `>` and `&`
/// as `\u003c`, `\u003e`, `\u0026` (and U+2028/U+2029), so no value can close the
/// `<script type="application/json">` element it sits in or start a comment there.
indirect enum JSONText {
    case string(String)
    case number(Double)
    case int(Int64)
    case bool(Bool)
    case null
    case array([JSONText])
    case object([(String, JSONText)])

    static func orNull(_ text: String?) -> JSONText { text.map(JSONText.string) ?? .null }

    func render() -> String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
        switch self {
        case .string(let text): Self.quote(text, into: &out)
        case .number(let value): out += value.isFinite ? "\(value)" : "null"
        case .int(let value): out += String(value)
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (index, field) in fields.enumerated() {
                if index > 0 { out += "," }
                Self.quote(field.0, into: &out)
                out += ":"
                field.1.write(into: &out)
            }
            out += "}"
        }
    }

    static func quote(_ text: String, into out: inout String) {
        JSONString.quote(text, forHTML: true, into: &out)
    }
}
