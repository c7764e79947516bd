import RefitCore

/// A strict RFC 8259 JSON reader that keeps the position of every value and key, and reports
/// syntax errors at the exact `line:column` where an editor should put the cursor.
///
/// Foundation's `JSONSerialization` loses positions and stops at the first error. This reader
/// recovers from the slips people actually make in hand-written definitions (a missing or
/// trailing comma, a bad escape, a duplicate key) so one run reports all of them; anything it
/// cannot recover from ends the file's parse with one error.
///
/// Lines are 1-based and end at `\n`, `\r\n` or a lone `\r`; columns are 1-based and count
/// Unicode scalars, a tab counting as one.
public enum JSONReader {
    /// What a parse produced: `root` is nil only when a syntax error made the document
    /// unreadable; `diagnostics` holds every syntax error found (all of severity `.error`).
    public struct Result: Sendable {
        public var root: Node?
        public var diagnostics: [Diagnostic]
        /// When `root` is nil: the values read before the fatal error (objects and arrays cut
        /// short), so a loader can still tell which entity the broken file meant to define.
        public var partialRoot: Node?
        public init(root: Node?, diagnostics: [Diagnostic], partialRoot: Node? = nil) {
            self.root = root; self.diagnostics = diagnostics; self.partialRoot = partialRoot
        }
    }

    /// Nesting limit, so hostile input cannot overflow the stack. Definitions nest under ten
    /// levels; 100 keeps the recursive readers far from the stack limit of any thread they run
    /// on (a reload runs on a Swift concurrency thread, whose stack is much smaller than the
    /// main thread's: 512 levels of objects overflowed it in a debug build).
    public static let maximumDepth = 100

    /// The most values (strings, numbers, objects, arrays, …) one file may hold. A definition
    /// holds a few hundred; the bound keeps the parse of a stray multi-megabyte data file to a
    /// fraction of a second and its memory small.
    public static let maximumValues = 100_000

    /// Parses `text`; positions name `file`.
    public static func read(_ text: String, file: String) -> Result {
        var parser = JSONParser(scalars: Array(text.unicodeScalars), file: file)
        return parser.parseDocument()
    }
}

/// Ends a parse; `partial` is what was read before the error (for naming the entity).
private struct FatalSyntaxError: Error {
    var partial: Node?
}

private struct JSONParser {
    let scalars: [Unicode.Scalar]
    let file: String
    var index = 0
    var line = 1
    var column = 1
    var depth = 0
    var values = 0
    var diagnostics: [Diagnostic] = []

    init(scalars: [Unicode.Scalar], file: String) {
        self.scalars = scalars
        self.file = file
    }

    // MARK: Cursor

    var position: SourcePosition { SourcePosition(file: file, line: line, column: column) }
    var atEnd: Bool { index >= scalars.count }
    var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    mutating func advance() {
        guard index < scalars.count else { return }
        let s = scalars[index]
        index += 1
        if s == "\n" {
            line += 1; column = 1
        } else if s == "\r" {
            // `\r\n` is one line break: the `\n` that follows does the counting.
            if peek != "\n" { line += 1; column = 1 }
        } else {
            column += 1
        }
    }

    mutating func skipWhitespace() {
        while let s = peek, s == " " || s == "\t" || s == "\n" || s == "\r" { advance() }
    }

    mutating func error(_ at: SourcePosition, _ message: String) {
        diagnostics.append(.error(at, message))
    }

    mutating func fatal(_ at: SourcePosition, _ message: String) -> FatalSyntaxError {
        error(at, message)
        return FatalSyntaxError(partial: nil)
    }

    // MARK: Document

    mutating func parseDocument() -> JSONReader.Result {
        if peek == "\u{FEFF}" { index += 1 }  // a UTF-8 byte order mark is not content
        skipWhitespace()
        if atEnd {
            error(position, "the file is empty; expected a JSON object")
            return JSONReader.Result(root: nil, diagnostics: diagnostics)
        }
        do {
            let root = try parseValue()
            skipWhitespace()
            if !atEnd {
                error(position, "unexpected \(describeToken()) after the end of the JSON value; a file holds one value")
            }
            return JSONReader.Result(root: root, diagnostics: diagnostics)
        } catch {
            return JSONReader.Result(root: nil, diagnostics: diagnostics, partialRoot: error.partial)
        }
    }

    // MARK: Values

    mutating func parseValue() throws(FatalSyntaxError) -> Node {
        skipWhitespace()
        guard let s = peek else { throw fatal(position, "unexpected end of file; expected a value") }
        values += 1
        if values > JSONReader.maximumValues {
            throw fatal(position, "the file holds more than \(JSONReader.maximumValues) values; a definition holds a few hundred")
        }
        switch s {
        case "{": return try parseObject()
        case "[": return try parseArray()
        case "\"": return try parseString()
        case "-", "0"..."9": return parseNumber()
        case "t", "f", "n": return try parseLiteral()
        case "'": throw fatal(position, "strings must be enclosed in double quotes, not single quotes")
        case "/": throw fatal(position, "JSON does not allow comments")
        case "}", "]", ",", ":": throw fatal(position, "expected a value before '\(Character(s))'")
        case let s where isBareWordStart(s): return try parseLiteral()
        default: throw fatal(position, "unexpected \(describeToken()); expected a value (string, number, object, array, true, false or null)")
        }
    }

    mutating func enter(_ start: SourcePosition) throws(FatalSyntaxError) {
        depth += 1
        if depth > JSONReader.maximumDepth {
            throw fatal(start, "values are nested more than \(JSONReader.maximumDepth) levels deep")
        }
    }

    mutating func parseObject() throws(FatalSyntaxError) -> Node {
        let start = position
        try enter(start)
        defer { depth -= 1 }
        var members: [Node.Member] = []
        var pendingKey: (key: String, position: SourcePosition)?
        do {
            return try parseObjectBody(start: start, members: &members, pendingKey: &pendingKey)
        } catch {
            if let pendingKey, let value = error.partial, !members.contains(where: { $0.key == pendingKey.key }) {
                members.append(Node.Member(key: pendingKey.key, keyPosition: pendingKey.position, value: value))
            }
            throw FatalSyntaxError(partial: Node(.object(members), at: start))
        }
    }

    mutating func parseObjectBody(start: SourcePosition, members: inout [Node.Member],
                                  pendingKey: inout (key: String, position: SourcePosition)?) throws(FatalSyntaxError) -> Node {
        advance()  // {
        var seen: [String: SourcePosition] = [:]
        skipWhitespace()
        if peek == "}" { advance(); return Node(.object([]), at: start) }
        while true {
            skipWhitespace()
            guard let s = peek else {
                throw fatal(position, "unexpected end of file inside the object that starts at line \(start.line), column \(start.column)")
            }
            guard s == "\"" else {
                if isBareWordStart(s) {
                    throw fatal(position, "object keys must be strings in double quotes")
                }
                throw fatal(position, "unexpected \(describeToken()); expected a string key")
            }
            let keyPosition = position
            let keyNode = try parseString()
            let key = keyNode.string ?? ""
            skipWhitespace()
            guard peek == ":" else {
                if atEnd {
                    throw fatal(position, "unexpected end of file; expected ':' after key \"\(key)\"")
                }
                throw fatal(position, "expected ':' after key \"\(key)\", found \(describeToken())")
            }
            advance()
            pendingKey = (key, keyPosition)
            let value = try parseValue()
            pendingKey = nil
            if let first = seen[key] {
                error(keyPosition, "duplicate key \"\(key)\" (first at line \(first.line), column \(first.column))")
            } else {
                seen[key] = keyPosition
                members.append(Node.Member(key: key, keyPosition: keyPosition, value: value))
            }
            skipWhitespace()
            switch peek {
            case ",":
                let comma = position
                advance()
                skipWhitespace()
                if peek == "}" {
                    error(comma, "trailing comma before '}'")
                    advance()
                    return Node(.object(members), at: start)
                }
            case "}":
                advance()
                return Node(.object(members), at: start)
            case "\"":
                // The common slip: a new member without the comma. Report and read on.
                error(position, "missing ',' before this member")
            case nil:
                throw fatal(position, "unexpected end of file inside the object that starts at line \(start.line), column \(start.column); expected ',' or '}'")
            default:
                throw fatal(position, "expected ',' or '}' after an object member, found \(describeToken())")
            }
        }
    }

    mutating func parseArray() throws(FatalSyntaxError) -> Node {
        let start = position
        try enter(start)
        defer { depth -= 1 }
        var elements: [Node] = []
        do {
            return try parseArrayBody(start: start, elements: &elements)
        } catch {
            if let value = error.partial { elements.append(value) }
            throw FatalSyntaxError(partial: Node(.array(elements), at: start))
        }
    }

    mutating func parseArrayBody(start: SourcePosition, elements: inout [Node]) throws(FatalSyntaxError) -> Node {
        advance()  // [
        skipWhitespace()
        if peek == "]" { advance(); return Node(.array([]), at: start) }
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            switch peek {
            case ",":
                let comma = position
                advance()
                skipWhitespace()
                if peek == "]" {
                    error(comma, "trailing comma before ']'")
                    advance()
                    return Node(.array(elements), at: start)
                }
            case "]":
                advance()
                return Node(.array(elements), at: start)
            case let s? where startsValue(s):
                error(position, "missing ',' before this element")
            case nil:
                throw fatal(position, "unexpected end of file inside the array that starts at line \(start.line), column \(start.column); expected ',' or ']'")
            default:
                throw fatal(position, "expected ',' or ']' after an array element, found \(describeToken())")
            }
        }
    }

    mutating func parseString() throws(FatalSyntaxError) -> Node {
        let start = position
        advance()  // opening quote
        let contentStart = position
        var text = String.UnicodeScalarView()
        var columns: [Int] = []
        var escaped = false
        while true {
            guard let s = peek else {
                throw fatal(start, "unterminated string: missing closing '\"'")
            }
            if s == "\"" { advance(); break }
            if s == "\n" || s == "\r" {
                throw fatal(start, "unterminated string: missing closing '\"' before the end of the line")
            }
            let here = position
            if s == "\\" {
                escaped = true
                advance()
                guard let e = peek else { throw fatal(start, "unterminated string: missing closing '\"'") }
                switch e {
                case "\"", "\\", "/": text.append(e); advance()
                case "b": text.append("\u{08}"); advance()
                case "f": text.append("\u{0C}"); advance()
                case "n": text.append("\n"); advance()
                case "r": text.append("\r"); advance()
                case "t": text.append("\t"); advance()
                case "u":
                    advance()
                    text.append(readUnicodeEscape(backslash: here))
                case "\n", "\r":
                    throw fatal(start, "unterminated string: missing closing '\"' before the end of the line")
                default:
                    error(here, "invalid escape '\\\(Character(e))' in a string; valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
                    text.append(e); advance()
                }
                columns.append(here.column)
                continue
            }
            if s.value < 0x20 {
                error(here, "control character U+\(hex4(s.value)) must be escaped in a string")
            }
            text.append(s)
            columns.append(here.column)
            advance()
        }
        let layout = Node.TextLayout(start: contentStart, columns: escaped ? columns : nil)
        return Node(.string(String(text)), at: start, textLayout: layout)
    }

    /// Reads `XXXX` (and a following `\uXXXX` low surrogate) after `\u`.
    mutating func readUnicodeEscape(backslash: SourcePosition) -> Unicode.Scalar {
        guard let high = readHex4() else {
            error(backslash, "invalid \\u escape: expected four hexadecimal digits")
            return "\u{FFFD}"
        }
        if (0xD800...0xDBFF).contains(high) {
            if peek == "\\", index + 1 < scalars.count, scalars[index + 1] == "u" {
                let save = (index, line, column)
                advance(); advance()
                if let low = readHex4(), (0xDC00...0xDFFF).contains(low) {
                    let value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                    return Unicode.Scalar(value) ?? "\u{FFFD}"
                }
                (index, line, column) = save
            }
            error(backslash, "invalid \\u escape: high surrogate \\u\(hex4(high)) without a low surrogate")
            return "\u{FFFD}"
        }
        if (0xDC00...0xDFFF).contains(high) {
            error(backslash, "invalid \\u escape: low surrogate \\u\(hex4(high)) without a high surrogate")
            return "\u{FFFD}"
        }
        return Unicode.Scalar(high) ?? "\u{FFFD}"
    }

    mutating func readHex4() -> UInt32? {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let s = peek, let digit = hexValue(s) else { return nil }
            value = value * 16 + digit
            advance()
        }
        return value
    }

    func hexValue(_ s: Unicode.Scalar) -> UInt32? {
        switch s {
        case "0"..."9": return s.value - 48
        case "a"..."f": return s.value - 87
        case "A"..."F": return s.value - 55
        default: return nil
        }
    }

    func hex4(_ v: UInt32) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    mutating func parseNumber() -> Node {
        let start = position
        var literal = String.UnicodeScalarView()
        while let s = peek, s == "-" || s == "+" || s == "." || s == "e" || s == "E" || ("0"..."9").contains(s) {
            literal.append(s)
            advance()
        }
        let text = String(literal)
        if !JSONParser.isValidNumber(text) {
            // The text is not echoed: an unquoted secret can look like a number.
            error(start, "invalid number (JSON numbers look like 12, -3, 0.5 or 1e3)")
        }
        return Node(.number(text), at: start)
    }

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    static func isValidNumber(_ text: String) -> Bool {
        var s = Substring(text).unicodeScalars[...]
        func digits() -> Int {
            var n = 0
            while let c = s.first, ("0"..."9").contains(c) { s = s.dropFirst(); n += 1 }
            return n
        }
        if s.first == "-" { s = s.dropFirst() }
        guard let first = s.first else { return false }
        if first == "0" {
            s = s.dropFirst()
        } else if digits() == 0 {
            return false
        }
        if s.first == "." {
            s = s.dropFirst()
            guard digits() > 0 else { return false }
        }
        if s.first == "e" || s.first == "E" {
            s = s.dropFirst()
            if s.first == "+" || s.first == "-" { s = s.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return s.isEmpty
    }

    func startsValue(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "{", "[", "\"", "-", "t", "f", "n": return true
        default: return ("0"..."9").contains(s)
        }
    }

    func isBareWordStart(_ s: Unicode.Scalar) -> Bool {
        s == "_" || s == "$" || s.properties.isAlphabetic
    }

    mutating func parseLiteral() throws(FatalSyntaxError) -> Node {
        let start = position
        let word = bareWord()
        switch word {
        case "true": skip(word); return Node(.bool(true), at: start)
        case "false": skip(word); return Node(.bool(false), at: start)
        case "null": skip(word); return Node(.null, at: start)
        default:
            throw fatal(start, "unexpected \(describe(word: word)); expected a value (strings need double quotes; literals are true, false and null)")
        }
    }

    func bareWord() -> String {
        var view = String.UnicodeScalarView()
        var i = index
        while i < scalars.count, isBareWordStart(scalars[i]) || ("0"..."9").contains(scalars[i]) {
            view.append(scalars[i]); i += 1
        }
        return String(view)
    }

    mutating func skip(_ word: String) {
        for _ in word.unicodeScalars { advance() }
    }

    /// Unquoted text is echoed only when it is a well-known literal typo (`True`, `None`, ...):
    /// anything else may be an unquoted secret, which must never reach a message.
    func describe(word: String) -> String {
        let known: Set<String> = ["true", "false", "null", "none", "nil", "undefined", "nan", "infinity", "yes", "no"]
        return known.contains(word.lowercased()) ? "'\(word)'" : "unquoted text"
    }

    /// The token at the cursor, quoted for a message.
    func describeToken() -> String {
        guard let s = peek else { return "end of file" }
        if isBareWordStart(s) { return describe(word: bareWord()) }
        if s.value < 0x20 || s.value == 0x7F { return "control character U+\(hex4(s.value))" }
        return "'\(Character(s))'"
    }
}
