/// A JSON string literal, the one escaper every JSON writer in Refit uses: quotes, backslashes
/// and control characters escaped; with `forHTML`, also `<`, `>`, `&` and the two line
/// separators, so the literal is safe inside an HTML `<script>` element.
public enum JSONString {
    public static func quote(_ text: String, forHTML: Bool = false) -> String {
        var out = ""
        quote(text, forHTML: forHTML, into: &out)
        return out
    }

    public static func quote(_ text: String, forHTML: Bool = false, into out: inout String) {
        out += "\""
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
        out += "\""
    }
}
