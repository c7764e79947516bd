import RefitCore
import Yams

/// Reads a YAML definition into RefitCore's positioned `Node` tree, so YAML and JSON files go
/// through the same validation and get the same `file:line:column` messages.
public enum YAMLReader {
    /// Parses `text`; the root is nil when the YAML is unreadable, with the syntax error at its mark.
    public static func read(_ text: String, file: String) -> JSONReader.Result {
        do {
            guard let root = try Yams.compose(yaml: text) else {
                return JSONReader.Result(root: nil, diagnostics: [.error(SourcePosition(file: file, line: 1, column: 1),
                                                                         "the file is empty; expected a mapping with name and properties")])
            }
            var diagnostics: [Diagnostic] = []
            let node = convert(root, file: file, diagnostics: &diagnostics)
            return JSONReader.Result(root: diagnostics.isEmpty ? node : nil, diagnostics: diagnostics)
        } catch let error as YamlError {
            return JSONReader.Result(root: nil, diagnostics: [diagnostic(for: error, text: text, file: file)])
        } catch {
            return JSONReader.Result(root: nil, diagnostics: [.error(SourcePosition(file: file, line: 1, column: 1),
                                                                     "cannot read the YAML: \(error)")])
        }
    }

    static func position(_ mark: Mark?, file: String) -> SourcePosition {
        SourcePosition(file: file, line: max(1, mark?.line ?? 1), column: max(1, mark?.column ?? 1))
    }

    static func convert(_ node: Yams.Node, file: String, diagnostics: inout [Diagnostic]) -> RefitCore.Node {
        let at = position(node.mark, file: file)
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return RefitCore.Node(.null, at: at)
            case .bool: return RefitCore.Node(.bool(node.bool ?? false), at: at)
            case .int, .float: return RefitCore.Node(.number(scalar.string), at: at)
            default:
                let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
                let start = SourcePosition(file: file, line: at.line, column: at.column + (quoted ? 1 : 0))
                return RefitCore.Node(.string(scalar.string), at: at, textLayout: .init(start: start))
            }
        case .sequence(let sequence):
            return RefitCore.Node(.array(sequence.map { convert($0, file: file, diagnostics: &diagnostics) }), at: at)
        case .mapping(let mapping):
            var members: [RefitCore.Node.Member] = []
            for (key, value) in mapping {
                let keyPosition = position(key.mark, file: file)
                guard case .scalar(let keyScalar) = key else {
                    diagnostics.append(.error(keyPosition, "mapping keys must be plain strings"))
                    continue
                }
                members.append(.init(key: keyScalar.string, keyPosition: keyPosition,
                                     value: convert(value, file: file, diagnostics: &diagnostics)))
            }
            return RefitCore.Node(.object(members), at: at)
        case .alias(let alias):
            diagnostics.append(.error(position(alias.mark, file: file), "YAML aliases are not supported in definitions"))
            return RefitCore.Node(.null, at: at)
        }
    }

    static func diagnostic(for error: YamlError, text: String, file: String) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _):
            return .error(position(mark, file: file), "YAML syntax error: \(problem)\(describe(context))")
        case .composer(let context, let problem, let mark, _):
            if context?.text == "expected a single document in the stream" {
                return .error(position(mark, file: file), "a file holds one definition; this is a second YAML document")
            }
            return .error(position(mark, file: file), "YAML syntax error: \(problem)\(describe(context))")
        case .reader(let problem, let offset, _, _):
            return .error(position(ofCharacterOffset: offset ?? 0, in: text, file: file), "cannot read the YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            let first = context.mark
            let second = secondOccurrence(of: key, after: first, in: text)
            return .error(second.map { SourcePosition(file: file, line: $0.line, column: $0.column) } ?? position(first, file: file),
                          "duplicate key \"\(key)\" (first at line \(first.line), column \(first.column))")
        default:
            return .error(SourcePosition(file: file, line: 1, column: 1), "cannot read the YAML: \(error)")
        }
    }

    static func describe(_ context: YamlError.Context?) -> String {
        guard let context else { return "" }
        return " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
    }

    /// Yams reports a duplicate key at its first occurrence; editors want the second. In block
    /// style the duplicate starts a later line at the same column.
    static func secondOccurrence(of key: String, after first: Mark, in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line <= lines.count else { return nil }
        for index in first.line..<lines.count {
            let scalars = Array(lines[index].unicodeScalars)
            guard scalars.count >= first.column else { continue }
            let leading = scalars[..<(first.column - 1)]
            if !leading.allSatisfy({ $0 == " " || $0 == "-" }) { continue }
            var rest = String(String.UnicodeScalarView(scalars[(first.column - 1)...]))
            for quote in ["\"", "'"] where rest.hasPrefix(quote) && rest.dropFirst().hasPrefix(key + quote) {
                rest = key + rest.dropFirst(key.count + 2)
            }
            if rest.hasPrefix(key), rest.dropFirst(key.count).drop(while: { $0 == " " }).hasPrefix(":") {
                return (index + 1, first.column)
            }
        }
        return nil
    }

    static func position(ofCharacterOffset offset: Int, in text: String, file: String) -> SourcePosition {
        var line = 1, column = 1, count = 0
        for character in text {
            if count == offset { break }
            if character == "\n" || character == "\r\n" { line += 1; column = 1 } else { column += character.unicodeScalars.count }
            count += 1
        }
        return SourcePosition(file: file, line: line, column: column)
    }
}
