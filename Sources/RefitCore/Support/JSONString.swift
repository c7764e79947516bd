import Foundation

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
        var text = text
        text.makeContiguousUTF8()
        let utf8 = text.utf8
        // Runs of bytes that need no escape are appended whole: a scalar at a time was a visible
        // share of a worker's CPU (audit details and journal payloads are quoted several times per
        // attempt). Every byte that needs an escape is ASCII, or the first of the three bytes of
        // U+2028 / U+2029, so a run always starts and ends on a scalar boundary.
        utf8.withContiguousStorageIfAvailable { bytes in
            var runStart = 0
            var offset = 0
            func flush(to end: Int) {
                guard end > runStart else { return }
                let from = utf8.index(utf8.startIndex, offsetBy: runStart)
                out += text[from..<utf8.index(from, offsetBy: end - runStart)]
            }
            while offset < bytes.count {
                let byte = bytes[offset]
                var length = 1
                let escape: String
                switch byte {
                case UInt8(ascii: "\""): escape = "\\\""
                case UInt8(ascii: "\\"): escape = "\\\\"
                case UInt8(ascii: "\n"): escape = "\\n"
                case UInt8(ascii: "\r"): escape = "\\r"
                case UInt8(ascii: "\t"): escape = "\\t"
                case UInt8(ascii: "<") where forHTML: escape = "\\u003c"
                case UInt8(ascii: ">") where forHTML: escape = "\\u003e"
                case UInt8(ascii: "&") where forHTML: escape = "\\u0026"
                case 0xE2 where forHTML && offset + 2 < bytes.count && bytes[offset + 1] == 0x80
                    && (bytes[offset + 2] == 0xA8 || bytes[offset + 2] == 0xA9):
                    escape = bytes[offset + 2] == 0xA8 ? "\\u2028" : "\\u2029"
                    length = 3
                case 0..<0x20:
                    let hex = String(byte, radix: 16)
                    escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default:
                    offset += 1
                    continue
                }
                flush(to: offset)
                out += escape
                offset += length
                runStart = offset
            }
            flush(to: offset)
        }
        out += "\""
    }
}

extension JSONString {
    /// A JSON object with its keys sorted, from the values a record's detail holds: strings,
    /// booleans, integers, finite doubles, `nil` (or `NSNull`) as `null`, and arrays and
    /// string-keyed dictionaries of those. Nil when a value is of another type, so the caller can
    /// fall back to `JSONSerialization`. Written by hand because it runs several times per attempt
    /// (audit details, journal payloads), where `JSONSerialization` was a visible share of a
    /// worker's CPU.
    public static func object(_ fields: [String: Any?]) -> String? {
        var out = ""
        return append(object: fields, into: &out) ? out : nil
    }

    /// `object(_:)`, or `JSONSerialization`'s sorted-key text for values it does not write
    /// (`"{}"` when neither can): the one writer of stored record details, for every store.
    public static func detail(_ fields: [String: Any?]) -> String {
        if let text = object(fields) { return text }
        var object: [String: Any] = [:]
        for (key, value) in fields { object[key] = value ?? NSNull() }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }

    /// A JSON object of strings with its keys sorted (a journal payload).
    public static func object(_ fields: [String: String]) -> String {
        object(fields, writeValue: { quote($0, into: &$1) })
    }

    /// A JSON object with its keys sorted, from members whose values are already JSON text (each
    /// written by one of these functions): typed nesting without `Any` and its dynamic casts.
    public static func object(rawValues fields: [String: String]) -> String {
        object(fields, writeValue: { $1 += $0 })
    }

    /// A double as a JSON number: whole values below 10^15 without a fraction; nil when it is
    /// not finite (JSON has no NaN or infinity).
    public static func number(_ value: Double) -> String? {
        guard value.isFinite else { return nil }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }

    /// A JSON array of strings.
    public static func array(_ items: [String]) -> String {
        var out = "["
        for (index, item) in items.enumerated() {
            if index > 0 { out += "," }
            quote(item, into: &out)
        }
        return out + "]"
    }

    private static func object(_ fields: [String: String], writeValue: (String, inout String) -> Void) -> String {
        var out = "{"
        for (index, key) in fields.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            quote(key, into: &out)
            out += ":"
            writeValue(fields[key]!, &out)
        }
        return out + "}"
    }

    private static func append(object fields: [String: Any?], into out: inout String) -> Bool {
        out += "{"
        for (index, key) in fields.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            quote(key, into: &out)
            out += ":"
            guard append(value: fields[key]!, into: &out) else { return false }
        }
        out += "}"
        return true
    }

    private static func append(value: Any?, into out: inout String) -> Bool {
        guard let value else { out += "null"; return true }
        // The common exact types first, by their metadata: a cast that fails (`as? String` of an
        // Int) costs the runtime a search, and each case below it tried one.
        switch ObjectIdentifier(type(of: value)) {
        case ObjectIdentifier(String.self): quote(value as! String, into: &out); return true
        case ObjectIdentifier(Int.self): out += String(value as! Int); return true
        case ObjectIdentifier(Bool.self): out += (value as! Bool) ? "true" : "false"; return true
        default: break
        }
        switch value {
        case let text as String: quote(text, into: &out)
        case let flag as Bool: out += flag ? "true" : "false"
        case let number as Int: out += String(number)
        case let number as Int64: out += String(number)
        case let number as Int32: out += String(number)
        case let number as UInt: out += String(number)
        case let number as Double:
            guard let text = Self.number(number) else { return false }
            out += text
        case let items as [Any?]:
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                guard append(value: item, into: &out) else { return false }
            }
            out += "]"
        case let nested as [String: Any?]:
            return append(object: nested, into: &out)
        case let nested as [String: Any]:
            return append(object: nested.mapValues { Optional($0) }, into: &out)
        case let optional as Optional<Any>:
            // A nil wrapped in `Any` (an optional stored in an array or dictionary of `Any`).
            guard case .some(let wrapped) = optional else { out += "null"; return true }
            return append(value: wrapped, into: &out)
        case is NSNull: out += "null"
        default: return false
        }
        return true
    }
}

extension JSONString {
    /// The two number forms `numberShape(_:)` recognises.
    public enum NumberShape: Sendable { case integer, decimal }

    /// Whether `text` spells a JSON number as Refit writes them: an integer of at most 18 digits
    /// without leading zeros (`-?(0|[1-9][0-9]{0,17})`), or a decimal with digits on both sides
    /// of the point and an optional exponent (`-?(0|[1-9][0-9]*)\.[0-9]+([eE][-+]?[0-9]+)?`).
    /// The JSON log lines type their values with it. Scanned by hand: a log line has several
    /// values, and a regular expression costs far more.
    public static func numberShape(_ text: String) -> NumberShape? {
        var bytes = Array(text.utf8)[...]
        func isDigit(_ byte: UInt8?) -> Bool { byte.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false }
        func digits() -> Int {
            var count = 0
            while isDigit(bytes.first) { bytes.removeFirst(); count += 1 }
            return count
        }
        if bytes.first == UInt8(ascii: "-") { bytes.removeFirst() }
        let leadingZero = bytes.first == UInt8(ascii: "0")
        let whole = digits()
        guard whole > 0, !(leadingZero && whole > 1) else { return nil }
        if bytes.isEmpty { return whole <= 18 ? .integer : nil }
        guard bytes.first == UInt8(ascii: ".") else { return nil }
        bytes.removeFirst()
        guard digits() > 0 else { return nil }
        if let e = bytes.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            bytes.removeFirst()
            if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { bytes.removeFirst() }
            guard digits() > 0 else { return nil }
        }
        return bytes.isEmpty ? .decimal : nil
    }
}
