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
    /// Reports the first problem `issues(in:tokens:)` would, without checking the template twice:
    /// formatting a token is what validates its format.
    public static func expand(_ template: String, tokens: [PartitionToken], slice: Slice) throws(PartitionedPathError) -> String {
        let scanned = scan(template)
        var out = ""
        var cursor = template.unicodeScalars.startIndex
        let scalars = template.unicodeScalars
        var position = 0
        for reference in scanned.references {
            while position < reference.offset {
                out.unicodeScalars.append(scalars[cursor])
                cursor = scalars.index(after: cursor)
                position += 1
            }
            guard let token = tokens.first(where: { $0.name == reference.name }) else {
                throw PartitionedPathError(offset: reference.offset, message: unknownTokenMessage(reference.name, tokens))
            }
            let date = token.date == .sliceStart ? slice.start : slice.end
            do { out += try DotNetDateFormat.format(date, token.format) } catch {
                throw PartitionedPathError(offset: reference.offset, message: "partition token {\(token.name)} has an invalid format: \(error.message)")
            }
            let length = reference.name.unicodeScalars.count + 2
            cursor = scalars.index(cursor, offsetBy: length)
            position += length
        }
        if let open = scanned.unclosedBrace {
            throw PartitionedPathError(offset: open, message: unclosedBraceMessage(open))
        }
        out.unicodeScalars.append(contentsOf: scalars[cursor...])
        return out
    }

    /// True when an expanded path could leave the folder or container it is meant to live in:
    /// an absolute path (`/x`, `C:`), a `..` segment, a backslash or a NUL character.
    public static func escapesRoot(_ expanded: String) -> Bool {
        if expanded.hasPrefix("/") { return true }
        let scalars = Array(expanded.unicodeScalars)
        if scalars.count >= 2, scalars[1] == ":", scalars[0].isASCII, scalars[0].properties.isAlphabetic {
            return true
        }
        if scalars.contains("\\") || scalars.contains("\u{0}") { return true }
        return expanded.split(separator: "/", omittingEmptySubsequences: false).contains("..")
    }

    // MARK: Scanning

    private static func scan(_ template: String) -> (references: [Reference], unclosedBrace: Int?) {
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

    private static func unclosedBraceMessage(_ open: Int) -> String { "'{' at position \(open + 1) has no closing '}'" }

    private static func unknownTokenMessage(_ name: String, _ tokens: [PartitionToken]) -> String {
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
