// libyaml, as the Yams package builds it: the reader composes its events itself (see below).
import CYaml
import RefitCore

/// Reads a YAML definition into RefitCore's positioned `Node` tree, so YAML and JSON files go
/// through the same validation and get the same `file:line:column` messages.
///
/// The reader composes libyaml's events itself rather than through Yams' composer, because a
/// definitions reader must stay bounded and exact on any input:
/// - **YAML 1.2 core schema.** Only `true`/`false`, `null`/`~`, decimal, `0o`/`0x` integers and
///   floats are typed; everything else is a string. YAML 1.1's sexagesimal numbers
///   (`10:00:00` → 36000), `yes`/`no`/`on`/`off` booleans and timestamps would silently turn
///   TimeSpans and names into other values.
/// - **Aliases are bounded.** An alias shares its anchor's values, but whatever walks the tree
///   afterwards sees every copy, so a "billion laughs" file of a few lines would cost gigabytes.
///   Values reached through aliases count against `maximumAliasedValues`, and the alias that
///   crosses it is the error.
/// - **Nesting is bounded** at `JSONReader.maximumDepth`, like JSON.
/// - **Tags are refused.** A custom tag (`!env NAME`) would otherwise be dropped and its operand
///   read as a literal, so a variable's name would become the secret. Refit's own forms
///   (`{env: NAME}`, `{file: PATH}`) do what such tags are meant to do. The standard tags
///   (`!!str`, `!!int`, …) and the non-specific `!` are accepted.
/// - **Syntax errors point at their cause**: an unclosed quote at its opening quote rather than
///   at the end of the file, a duplicate key at its second occurrence.
public enum YAMLReader {
    /// The most values (scalars, sequences and mappings) all aliases of one file may expand to.
    public static let maximumAliasedValues = 10_000
    /// The most values one file may hold, aliases included, as for JSON.
    public static let maximumValues = JSONReader.maximumValues

    /// Parses `text`; the root is nil when the YAML is unreadable, with the error at its cause.
    public static func read(_ text: String, file: String) -> JSONReader.Result {
        YAMLComposer(file: file).compose(text)
    }
}

/// Ends a compose with one diagnostic.
private struct YAMLStop: Error {
    var diagnostic: Diagnostic
}

/// A class, not a struct: libyaml keeps a pointer to its parser while reading (its input
/// handler's data), so the parser must stay at one address.
private final class YAMLComposer {
    let file: String
    var parser = yaml_parser_t()
    /// Each anchor's value and how many values it expands to.
    var anchors: [String: (node: Node, size: Int)] = [:]
    var aliasedValues = 0
    var values = 0
    var depth = 0
    var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    func compose(_ text: String) -> JSONReader.Result {
        // A trailing NUL that is not part of the input: libyaml rejects a null input pointer,
        // which an empty array would give.
        var bytes = Array(text.utf8)
        let length = bytes.count
        bytes.append(0)
        // libyaml detects the encoding itself and so skips a UTF-8 byte order mark.
        yaml_parser_initialize(&parser)
        defer { yaml_parser_delete(&parser) }
        return bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, length)
            do throws(YAMLStop) {
                return try composeStream(text)
            } catch {
                return JSONReader.Result(root: nil, diagnostics: diagnostics + [error.diagnostic])
            }
        }
    }

    // MARK: Events

    /// One libyaml event, deleted when released.
    final class Event {
        var event = yaml_event_t()
        deinit { yaml_event_delete(&event) }
        var type: yaml_event_type_t { event.type }
    }

    func next(_ text: String) throws(YAMLStop) -> Event {
        let event = Event()
        guard yaml_parser_parse(&parser, &event.event) == 1 else { throw YAMLStop(diagnostic: syntaxError(text)) }
        return event
    }

    func position(_ mark: yaml_mark_t) -> SourcePosition {
        SourcePosition(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }

    func stop(_ at: SourcePosition, _ message: String) -> YAMLStop {
        YAMLStop(diagnostic: .error(at, message))
    }

    // MARK: Document

    func composeStream(_ text: String) throws(YAMLStop) -> JSONReader.Result {
        _ = try next(text)  // stream start
        let first = try next(text)
        guard first.type == YAML_DOCUMENT_START_EVENT else {
            return JSONReader.Result(root: nil, diagnostics: [.error(SourcePosition(file: file, line: 1, column: 1),
                                                                     "the file is empty; expected a mapping with name and properties")])
        }
        let root = try composeNode(try next(text), text)
        _ = try next(text)  // document end
        let after = try next(text)
        if after.type == YAML_DOCUMENT_START_EVENT {
            throw stop(position(after.event.start_mark), "a file holds one definition; this is a second YAML document")
        }
        // With problems (a bad tag, a duplicate key) the tree still names the entity.
        return JSONReader.Result(root: diagnostics.isEmpty ? root : nil, diagnostics: diagnostics,
                                 partialRoot: diagnostics.isEmpty ? nil : root)
    }

    func count(_ at: SourcePosition) throws(YAMLStop) {
        values += 1
        if values > YAMLReader.maximumValues {
            throw stop(at, "the file holds more than \(YAMLReader.maximumValues) values; a definition holds a few hundred")
        }
    }

    func composeNode(_ event: Event, _ text: String) throws(YAMLStop) -> Node {
        let at = position(event.event.start_mark)
        switch event.type {
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.event.data.alias.anchor) ?? ""
            guard let anchored = anchors[name] else {
                throw stop(at, "the alias *\(name) names no anchor; define &\(name) before it")
            }
            aliasedValues += anchored.size
            values += anchored.size
            if aliasedValues > YAMLReader.maximumAliasedValues || values > YAMLReader.maximumValues {
                throw stop(at, "the alias *\(name) expands the file past \(YAMLReader.maximumAliasedValues) values taken "
                           + "through aliases; definitions may use aliases for small repeated values only")
            }
            return anchored.node
        case YAML_SCALAR_EVENT:
            try count(at)
            let scalar = event.event.data.scalar
            let value = String(decoding: UnsafeBufferPointer(start: scalar.value, count: Int(scalar.length)), as: UTF8.self)
            let node = scalarNode(value, tag: Self.string(scalar.tag), plain: scalar.style == YAML_PLAIN_SCALAR_STYLE,
                                      quoted: scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE || scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE,
                                      at: at)
            register(Self.string(scalar.anchor), node, size: 1)
            return node
        case YAML_SEQUENCE_START_EVENT:
            try count(at)
            checkTag(Self.string(event.event.data.sequence_start.tag), allowed: "tag:yaml.org,2002:seq", at: at)
            let anchor = Self.string(event.event.data.sequence_start.anchor)
            try enter(at)
            defer { depth -= 1 }
            let valuesBefore = values
            var elements: [Node] = []
            while true {
                let child = try next(text)
                if child.type == YAML_SEQUENCE_END_EVENT { break }
                elements.append(try composeNode(child, text))
            }
            let node = Node(.array(elements), at: at)
            register(anchor, node, size: values - valuesBefore + 1)
            return node
        case YAML_MAPPING_START_EVENT:
            try count(at)
            checkTag(Self.string(event.event.data.mapping_start.tag), allowed: "tag:yaml.org,2002:map", at: at)
            let anchor = Self.string(event.event.data.mapping_start.anchor)
            try enter(at)
            defer { depth -= 1 }
            let valuesBefore = values
            var members: [Node.Member] = []
            var seen: [String: SourcePosition] = [:]
            while true {
                let keyEvent = try next(text)
                if keyEvent.type == YAML_MAPPING_END_EVENT { break }
                let keyPosition = position(keyEvent.event.start_mark)
                let isPlainKey = keyEvent.type == YAML_SCALAR_EVENT && keyEvent.event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                let keyNode = try composeNode(keyEvent, text)
                let value = try composeNode(try next(text), text)
                let key: String
                switch keyNode.value {
                case .string(let s): key = s
                case .number(let n): key = n
                case .bool(let b): key = b ? "true" : "false"
                case .null: key = isPlainKey ? "" : "null"
                case .object, .array:
                    diagnostics.append(.error(keyPosition, "mapping keys must be plain strings"))
                    continue
                }
                if key == "<<" && isPlainKey {
                    diagnostics.append(.error(keyPosition, "YAML merge keys (<<) are not supported; write the keys out"))
                    continue
                }
                if let first = seen[key] {
                    diagnostics.append(.error(keyPosition, "duplicate key \"\(key)\" (first at line \(first.line), column \(first.column))"))
                    continue
                }
                seen[key] = keyPosition
                members.append(.init(key: key, keyPosition: keyPosition, value: value))
            }
            let node = Node(.object(members), at: at)
            register(anchor, node, size: values - valuesBefore + 1)
            return node
        default:
            throw stop(at, "unexpected YAML structure")
        }
    }

    func enter(_ at: SourcePosition) throws(YAMLStop) {
        depth += 1
        if depth > JSONReader.maximumDepth {
            throw stop(at, "values are nested more than \(JSONReader.maximumDepth) levels deep")
        }
    }

    func register(_ anchor: String?, _ node: Node, size: Int) {
        guard let anchor else { return }
        anchors[anchor] = (node, size)
    }

    // MARK: Scalars and tags

    static let standardTag = "tag:yaml.org,2002:"

    func tagProblem(_ tag: String) -> String {
        let shown = tag.hasPrefix(Self.standardTag) ? "!!" + tag.dropFirst(Self.standardTag.count) : tag
        switch shown {
        case "!env": return "YAML tag !env is not supported; write {env: NAME} to take the value from an environment variable"
        case "!file": return "YAML tag !file is not supported; write {file: PATH} to take the value from a file"
        default: return "YAML tag \(shown) is not supported; definitions use plain YAML values (and {env: NAME} or {file: PATH} for values kept out of the file)"
        }
    }

    func checkTag(_ tag: String?, allowed: String, at: SourcePosition) {
        guard let tag, tag != "!", tag != allowed else { return }
        diagnostics.append(.error(at, tagProblem(tag)))
    }

    func scalarNode(_ value: String, tag: String?, plain: Bool, quoted: Bool, at: SourcePosition) -> Node {
        func string() -> Node {
            let start = SourcePosition(file: file, line: at.line, column: at.column + (quoted ? 1 : 0))
            return Node(.string(value), at: at, textLayout: .init(start: start))
        }
        switch tag {
        case nil:
            guard plain else { return string() }
            switch CoreSchema.resolve(value) {
            case .null: return Node(.null, at: at)
            case .bool(let b): return Node(.bool(b), at: at)
            case .number: return Node(.number(value), at: at)
            case .string: return string()
            }
        case "!"?, "tag:yaml.org,2002:str"?:
            return string()
        case "tag:yaml.org,2002:int"?, "tag:yaml.org,2002:float"?:
            return Node(.number(value), at: at)
        case "tag:yaml.org,2002:bool"?:
            guard case .bool(let b) = CoreSchema.resolve(value) else {
                diagnostics.append(.error(at, "!!bool needs true or false"))
                return Node(.null, at: at)
            }
            return Node(.bool(b), at: at)
        case "tag:yaml.org,2002:null"?:
            return Node(.null, at: at)
        case let tag?:
            diagnostics.append(.error(at, tagProblem(tag)))
            return Node(.null, at: at)
        }
    }

    // MARK: Syntax errors

    /// One sentence at the cause: libyaml reports an unclosed quote or bracket where the file
    /// ends, with the construct's start as context, so the context is where the cursor goes.
    func syntaxError(_ text: String) -> Diagnostic {
        let problem = parser.problem.map { String(cString: $0) } ?? "unreadable YAML"
        let context = parser.context.map { String(cString: $0) }
        if parser.error == YAML_READER_ERROR {
            return .error(Self.position(ofByteOffset: Int(parser.problem_offset), in: text, file: file),
                          "cannot read the YAML: \(problem)")
        }
        if problem.contains("Maximum nesting level") {
            return .error(position(parser.problem_mark), "values are nested more than \(JSONReader.maximumDepth) levels deep")
        }
        if let context, problem.contains("end of stream") || problem.contains("end of the stream") {
            let construct = context.hasPrefix("while scanning ") ? String(context.dropFirst("while scanning ".count))
                : context.hasPrefix("while parsing ") ? String(context.dropFirst("while parsing ".count)) : context
            let what = construct == "a quoted scalar" ? "this quoted string is never closed"
                : "\(construct) that starts here is never closed"
            return .error(position(parser.context_mark), "YAML syntax error: \(what) (the file ends first)")
        }
        var message = "YAML syntax error: \(problem)"
        if let context {
            let mark = parser.context_mark
            message += " (\(context) at line \(mark.line + 1), column \(mark.column + 1))"
        }
        return .error(position(parser.problem_mark), message)
    }

    static func position(ofByteOffset offset: Int, in text: String, file: String) -> SourcePosition {
        var line = 1, column = 1, bytes = 0
        for scalar in text.unicodeScalars {
            if bytes >= offset { break }
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
            bytes += scalar.utf8.count
        }
        return SourcePosition(file: file, line: line, column: column)
    }
}

/// The YAML 1.2 core schema's plain-scalar resolution (yaml.org/spec/1.2.2 §10.3.2).
enum CoreSchema {
    enum Resolved: Equatable { case null, bool(Bool), number, string }

    static func resolve(_ s: String) -> Resolved {
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN": return .number
        default: break
        }
        let u = Array(s.utf8)
        func digits(_ from: Int, _ allowed: (UInt8) -> Bool) -> Int {
            var i = from
            while i < u.count, allowed(u[i]) { i += 1 }
            return i
        }
        let isDecimal: (UInt8) -> Bool = { $0 >= 48 && $0 <= 57 }
        if u.count > 2, u[0] == UInt8(ascii: "0"), u[1] == UInt8(ascii: "o") {
            return digits(2, { $0 >= 48 && $0 <= 55 }) == u.count ? .number : .string
        }
        if u.count > 2, u[0] == UInt8(ascii: "0"), u[1] == UInt8(ascii: "x") {
            return digits(2, { isDecimal($0) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }) == u.count ? .number : .string
        }
        // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
        var i = 0
        if i < u.count, u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") { i += 1 }
        let intEnd = digits(i, isDecimal)
        var sawDigits = intEnd > i
        i = intEnd
        if i < u.count, u[i] == UInt8(ascii: ".") {
            let fractionEnd = digits(i + 1, isDecimal)
            sawDigits = sawDigits || fractionEnd > i + 1
            i = fractionEnd
        }
        guard sawDigits else { return .string }
        if i < u.count, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") {
            i += 1
            if i < u.count, u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") { i += 1 }
            let exponentEnd = digits(i, isDecimal)
            guard exponentEnd > i else { return .string }
            i = exponentEnd
        }
        return i == u.count ? .number : .string
    }
}
