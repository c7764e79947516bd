/// .NET composite formatting, as `Text.Format` uses it: `{index[,alignment][:format]}` items,
/// `{{` and `}}` for literal braces.
///
/// DateTime items take .NET date/time formats (`DotNetDateFormat`); integer items take `D`/`Dn`,
/// `X`/`Xn` and all-zero custom patterns such as `0000`; string items ignore their format, as
/// in .NET. An item without a format prints `ExpressionValue.text` (ISO 8601 for a DateTime).
public enum CompositeFormat {
    /// One `{…}` item of a composite format string.
    public struct Item: Hashable, Sendable {
        public var index: Int
        public var alignment: Int
        public var format: String?
        /// 0-based position of the `{` in the format string, in characters.
        public var offset: Int
    }

    /// A literal run or an item.
    enum Part: Hashable {
        case literal(String)
        case item(Item)
    }

    public struct FormatError: Error, Hashable, Sendable {
        /// 0-based position in the format string, in characters.
        public var offset: Int
        public var message: String
    }

    /// The items of `format`, or the first syntax error.
    public static func items(in format: String) throws(FormatError) -> [Item] {
        try parse(format).compactMap { if case .item(let item) = $0 { item } else { nil } }
    }

    public static func format(_ format: String, _ args: [ExpressionValue]) throws(FormatError) -> String {
        var out = ""
        for part in try parse(format) {
            switch part {
            case .literal(let text):
                out += text
            case .item(let item):
                guard item.index < args.count else {
                    throw FormatError(offset: item.offset, message: argumentCountMessage(item.index, args.count))
                }
                var text: String
                do {
                    text = try render(args[item.index], item.format)
                } catch {
                    throw FormatError(offset: item.offset, message: "{\(item.index)}: \(error.message)")
                }
                let width = abs(item.alignment)
                if text.count < width {
                    let padding = String(repeating: " ", count: width - text.count)
                    text = item.alignment > 0 ? padding + text : text + padding
                }
                out += text
            }
        }
        return out
    }

    static func argumentCountMessage(_ index: Int, _ count: Int) -> String {
        "Text.Format references {\(index)} but only \(count) value\(count == 1 ? "" : "s") follow\(count == 1 ? "s" : "") the format string"
    }

    /// Formats one value with an item's format string.
    public static func render(_ value: ExpressionValue, _ format: String?) throws(DotNetFormatError) -> String {
        guard let format else { return value.text }
        switch value {
        case .string(let s): return s
        case .dateTime(let instant): return try DotNetDateFormat.format(instant, format)
        case .integer(let n): return try formatInteger(n, format)
        }
    }

    static func formatInteger(_ n: Int64, _ format: String) throws(DotNetFormatError) -> String {
        let chars = Array(format)
        func padded(_ digits: String, _ width: Int) -> String {
            (n < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        if let first = chars.first, "DdXx".contains(first) {
            let rest = String(chars.dropFirst())
            guard rest.isEmpty || (rest.count <= 2 && rest.allSatisfy(\.isASCII) && rest.allSatisfy(\.isNumber)),
                  let width = rest.isEmpty ? 0 : Int(rest) else {
                throw DotNetFormatError(offset: 0, message: "'\(format)' is not an integer format Refit supports (D, Dn, X, Xn or zeros such as 0000)")
            }
            if first == "D" || first == "d" { return padded(String(n.magnitude), width) }
            let hex = String(UInt64(bitPattern: n), radix: 16, uppercase: first == "X")
            return String(repeating: "0", count: max(0, width - hex.count)) + hex
        }
        guard !chars.isEmpty, chars.allSatisfy({ $0 == "0" }) else {
            throw DotNetFormatError(offset: 0, message: "'\(format)' is not an integer format Refit supports (D, Dn, X, Xn or zeros such as 0000)")
        }
        return padded(String(n.magnitude), chars.count)
    }

    static func parse(_ format: String) throws(FormatError) -> [Part] {
        let c = Array(format)
        var parts: [Part] = []
        var literal = ""
        var i = 0
        while i < c.count {
            let ch = c[i]
            if ch == "}" {
                guard i + 1 < c.count, c[i + 1] == "}" else {
                    throw FormatError(offset: i, message: "a lone '}' in a Text.Format string must be written '}}'")
                }
                literal.append("}"); i += 2; continue
            }
            guard ch == "{" else { literal.append(ch); i += 1; continue }
            if i + 1 < c.count, c[i + 1] == "{" { literal.append("{"); i += 2; continue }
            let open = i
            i += 1
            func skipSpaces() { while i < c.count, c[i] == " " { i += 1 } }
            func number() -> Int? {
                var digits = ""
                while i < c.count, c[i].isASCII, c[i].isNumber, digits.count < 6 { digits.append(c[i]); i += 1 }
                return Int(digits)
            }
            guard let index = number() else {
                throw FormatError(offset: open, message: "a '{' in a Text.Format string must start an item like {0} or be written '{{'")
            }
            skipSpaces()
            var alignment = 0
            if i < c.count, c[i] == "," {
                i += 1
                skipSpaces()
                var negative = false
                if i < c.count, c[i] == "-" { negative = true; i += 1 }
                guard let width = number() else {
                    throw FormatError(offset: open, message: "the alignment of item {\(index)} must be a whole number")
                }
                alignment = negative ? -width : width
                skipSpaces()
            }
            var itemFormat: String?
            if i < c.count, c[i] == ":" {
                i += 1
                var text = ""
                while i < c.count, c[i] != "}" {
                    guard c[i] != "{" else {
                        throw FormatError(offset: i, message: "the format of item {\(index)} contains a '{'")
                    }
                    text.append(c[i]); i += 1
                }
                itemFormat = text
            }
            guard i < c.count, c[i] == "}" else {
                throw FormatError(offset: open, message: "item {\(index) in the Text.Format string is not closed with '}'")
            }
            i += 1
            if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
            parts.append(.item(Item(index: index, alignment: alignment, format: itemFormat, offset: open)))
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return parts
    }
}
