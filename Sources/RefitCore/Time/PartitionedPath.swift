/// `{token}` substitution in a dataset's `folderPath` / `fileName` (docs/SEMANTICS.md §2.4).
///
/// ADF has no escape for a literal `{` in these paths, so Refit treats every `{` as the start
/// of a token reference: an unknown name or a missing `}` is an error rather than text.
/// Names are case-sensitive, as ADF's `partitionedBy` names are.
public enum PartitionedPath {
    /// A `{name}` occurrence in a template.
    public struct Reference: Hashable, Sendable {
        public var name: String
        /// 0-based position of the `{` in the template, in Unicode scalars (add it to the
        /// column of the string's first character to point at the reference).
        public var offset: Int
    }

    /// A problem in a template, for the loader's `file:line:column` diagnostics.
    public struct Issue: Hashable, Sendable, CustomStringConvertible {
        /// 0-based position in the template, in Unicode scalars.
        public var offset: Int
        public var message: String
        public var description: String { message }
    }

    /// Every complete `{name}` in `template`, in order.
    public static func tokenReferences(in template: String) -> [(name: String, offset: Int)] {
        scan(template).references.map { ($0.name, $0.offset) }
    }

    /// Every problem `expand` would report for this template and these tokens: unknown token
    /// names, an unclosed `{`, and format strings .NET would reject.
    public static func issues(in template: String, tokens: [PartitionToken]) -> [Issue] {
        let scanned = scan(template)
        var issues: [Issue] = []
        for reference in scanned.references {
            guard let token = tokens.first(where: { $0.name == reference.name }) else {
                issues.append(Issue(offset: reference.offset, message: unknownTokenMessage(reference.name, tokens)))
                continue
            }
            do { try DotNetDateFormat.validate(token.format) } catch {
                issues.append(Issue(offset: reference.offset, message: "partition token {\(token.name)} has an invalid format: \(error.message)"))
            }
        }
        if let open = scanned.unclosedBrace {
            issues.append(Issue(offset: open, message: unclosedBraceMessage(open)))
        }
        return issues
    }

    /// `template` with each `{name}` replaced by its token's date (the slice's start or end)
    /// in the token's .NET format.
    /// Reports the first problem `issues(in:tokens:)` would: an unknown token or an invalid
    /// format, in the order of the references, then an unclosed `{`.
    public static func expand(_ template: String, tokens: [PartitionToken], slice: Slice) throws(PartitionedPathError) -> String {
        try compiled(template, tokens: tokens).expand(slice)
    }

    /// The `Template` of `template` with `tokens`, scanned once per process: an activity expands
    /// the same few dataset paths for every window it runs.
    static func compiled(_ template: String, tokens: [PartitionToken]) -> Template {
        templates.value(for: TemplateKey(template: template, tokens: tokens)) { Template(template, tokens: tokens) }
    }

    private struct TemplateKey: Hashable, Sendable {
        var template: String
        var tokens: [PartitionToken]
    }

    private static let templates = ProcessMemo<TemplateKey, Template>(limit: 256)

    /// A template scanned, and its tokens and formats checked, once: what expands a dataset's
    /// path for each of many slices (a probe of a whole backlog) without reading it again.
    public struct Template: Sendable {
        private enum Piece: Sendable {
            case text(String)
            case token(PartitionToken, DotNetDateFormat.Pattern)
        }

        private let pieces: [Piece]
        /// The template's first problem, thrown by every `expand`.
        private let problem: PartitionedPathError?

        public init(_ template: String, tokens: [PartitionToken]) {
            let scanned = PartitionedPath.scan(template)
            let scalars = template.unicodeScalars
            var pieces: [Piece] = []
            var problem: PartitionedPathError?
            var cursor = scalars.startIndex
            var position = 0
            for reference in scanned.references {
                let referenceStart = scalars.index(cursor, offsetBy: reference.offset - position)
                if referenceStart > cursor { pieces.append(.text(String(scalars[cursor..<referenceStart]))) }
                guard let token = tokens.first(where: { $0.name == reference.name }) else {
                    problem = PartitionedPathError(offset: reference.offset, message: unknownTokenMessage(reference.name, tokens))
                    break
                }
                // Whether .NET accepts a format does not depend on the date: read once here.
                let pattern: DotNetDateFormat.Pattern
                do { pattern = try DotNetDateFormat.Pattern(token.format) } catch {
                    problem = PartitionedPathError(offset: reference.offset,
                                                   message: "partition token {\(token.name)} has an invalid format: \(error.message)")
                    break
                }
                pieces.append(.token(token, pattern))
                let length = reference.name.unicodeScalars.count + 2
                cursor = scalars.index(referenceStart, offsetBy: length)
                position = reference.offset + length
            }
            if problem == nil, let open = scanned.unclosedBrace {
                problem = PartitionedPathError(offset: open, message: unclosedBraceMessage(open))
            }
            if cursor < scalars.endIndex { pieces.append(.text(String(scalars[cursor...]))) }
            self.pieces = pieces
            self.problem = problem
        }

        public func expand(_ slice: Slice) throws(PartitionedPathError) -> String {
            if let problem { throw problem }
            var out = ""
            for piece in pieces {
                switch piece {
                case .text(let text):
                    out += text
                case .token(let token, let pattern):
                    out += pattern.format(token.date == .sliceStart ? slice.start : slice.end)
                }
            }
            return out
        }
    }

    /// True when an expanded path could leave the folder or container it is meant to live in:
    /// an absolute path (`/x`, `C:`), a `..` segment, a backslash or a NUL character.
    public static func escapesRoot(_ expanded: String) -> Bool {
        // One pass over the UTF-8 bytes: '/', ':', the backslash, NUL and '.' are single bytes that
        // never occur inside a multi-byte character.
        let bytes = expanded.utf8
        var index = 0
        var segmentLength = 0
        var segmentDots = 0
        var first: UInt8 = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "/"):
                if index == 0 || (segmentLength == 2 && segmentDots == 2) { return true }
                segmentLength = 0
                segmentDots = 0
            case UInt8(ascii: "\\"), 0:
                return true
            default:
                // `C:` — a drive letter.
                if index == 1, byte == UInt8(ascii: ":"), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first | 0x20) {
                    return true
                }
                if byte == UInt8(ascii: ".") { segmentDots += 1 }
                segmentLength += 1
            }
            if index == 0 { first = byte }
            index += 1
        }
        return segmentLength == 2 && segmentDots == 2
    }

    // MARK: Scanning

    fileprivate static func scan(_ template: String) -> (references: [Reference], unclosedBrace: Int?) {
        var references: [Reference] = []
        var open: Int?
        var name = ""
        for (offset, scalar) in template.unicodeScalars.enumerated() {
            if let start = open {
                if scalar == "}" {
                    references.append(Reference(name: name, offset: start))
                    open = nil
                } else if scalar == "{" {
                    // A second '{' before any '}': the first one is unclosed.
                    return (references, start)
                } else {
                    name.unicodeScalars.append(scalar)
                }
            } else if scalar == "{" {
                open = offset
                name = ""
            }
        }
        return (references, open)
    }

    fileprivate static func unclosedBraceMessage(_ open: Int) -> String { "'{' at position \(open + 1) has no closing '}'" }

    fileprivate static func unknownTokenMessage(_ name: String, _ tokens: [PartitionToken]) -> String {
        let known = tokens.map(\.name)
        if known.isEmpty { return "unknown partition token {\(name)}; the dataset has no partitionedBy entries" }
        return "unknown partition token {\(name)}; partitionedBy defines \(known.joined(separator: ", "))"
    }
}

/// Why a partitioned path cannot be expanded.
public struct PartitionedPathError: Error, Hashable, Sendable, CustomStringConvertible {
    /// 0-based position in the template, in Unicode scalars.
    public var offset: Int
    public var message: String
    public var description: String { message }
}
