import RefitCore

/// Typed access to a `Node` tree that records a diagnostic, at the offending value, for every
/// missing or ill-typed field instead of stopping at the first.
struct FieldReader {
    var diagnostics: [Diagnostic] = []

    mutating func error(_ at: SourcePosition, _ message: String) { diagnostics.append(.error(at, message)) }
    mutating func warning(_ at: SourcePosition, _ message: String) { diagnostics.append(.warning(at, message)) }

    /// A warning at every key of `object` that is neither `used` nor `ignored` (keys ADF defines
    /// that Refit has no use for), with the nearest known key as a hint. A key already reported
    /// (a misspelt required key is an error at that key) is not reported twice.
    mutating func unknownKeys(_ object: Node, in what: String, used: [String], ignored: [String] = []) {
        guard let members = object.members else { return }
        for member in members where !used.contains(member.key) && !ignored.contains(member.key) {
            if diagnostics.contains(where: { $0.position == member.keyPosition }) { continue }
            let hint = Suggestion.closestKey(to: member.key, among: used + ignored).map { "; did you mean \"\($0)\"?" } ?? ""
            warning(member.keyPosition, "unknown key \"\(member.key)\" in \(what) is ignored\(hint)")
        }
    }

    /// `node` as an object, or an error at it.
    mutating func object(_ node: Node, _ what: String) -> Node? {
        guard node.members != nil else {
            error(node.position, "\(what) must be an object, not \(node.kindDescription)")
            return nil
        }
        return node
    }

    /// The member `key` of `object`, or an error at the object naming what is missing (with a
    /// hint when a member's key is a near miss, e.g. `frequncy`).
    mutating func required(_ object: Node, _ key: String, in what: String) -> Node? {
        if let value = object[key] { return value }
        var message = "\(what) has no \"\(key)\""
        let keys = object.members?.map(\.key) ?? []
        if let near = keys.first(where: { Suggestion.distance($0.lowercased(), key.lowercased()) <= max(1, key.count / 4) }),
           let member = object.member(near) {
            message += "; did you mean \"\(key)\" instead of \"\(near)\"?"
            error(member.keyPosition, message)
            return nil
        }
        error(object.position, message)
        return nil
    }

    mutating func string(_ node: Node, _ what: String) -> String? {
        guard let s = node.string else {
            error(node.position, "\(what) must be a string, not \(node.kindDescription)")
            return nil
        }
        return s
    }

    mutating func nonEmptyString(_ node: Node, _ what: String) -> String? {
        guard let s = string(node, what) else { return nil }
        guard !s.trimmingCharacters().isEmpty else {
            error(node.position, "\(what) must not be empty")
            return nil
        }
        return s
    }

    /// An optional string member: nil when absent (or null), an error when of another type.
    mutating func optionalString(_ object: Node, _ key: String, _ what: String) -> String? {
        guard let node = object[key], !node.isNull else { return nil }
        return string(node, what)
    }

    mutating func bool(_ node: Node, _ what: String) -> Bool? {
        guard let b = node.bool else {
            error(node.position, "\(what) must be true or false, not \(node.kindDescription)")
            return nil
        }
        return b
    }

    /// A whole number written as a number or as a numeric string (ADF samples write
    /// `"interval": "23"`).
    mutating func integer(_ node: Node, _ what: String) -> Int? {
        let text: String
        switch node.value {
        case .number(let n): text = n
        case .string(let s): text = s.trimmingCharacters()
        default:
            error(node.position, "\(what) must be a whole number, not \(node.kindDescription)")
            return nil
        }
        if let v = Int(text) { return v }
        if let d = Double(text), d.isFinite, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        error(node.position, "\(what) must be a whole number, not '\(text)'")
        return nil
    }

    /// A whole number within `range`.
    mutating func integer(_ node: Node, _ what: String, in range: ClosedRange<Int>) -> Int? {
        guard let v = integer(node, what) else { return nil }
        guard range.contains(v) else {
            error(node.position, "\(what) must be between \(range.lowerBound) and \(range.upperBound), not \(v)")
            return nil
        }
        return v
    }

    mutating func double(_ node: Node, _ what: String) -> Double? {
        let text: String
        switch node.value {
        case .number(let n): text = n
        case .string(let s): text = s.trimmingCharacters()
        default:
            error(node.position, "\(what) must be a number, not \(node.kindDescription)")
            return nil
        }
        guard let d = Double(text), d.isFinite else {
            error(node.position, "\(what) must be a number, not '\(text)'")
            return nil
        }
        return d
    }

    /// A .NET TimeSpan (`[-][d.]hh:mm:ss`, docs/SEMANTICS.md D8).
    mutating func timeSpan(_ node: Node, _ what: String, allowNegative: Bool = false) -> TimeSpan? {
        guard let text = string(node, what) else { return nil }
        guard let span = TimeSpan.parse(text) else {
            error(node.position, "\(what) '\(text)' is not a TimeSpan; write [d.]hh:mm:ss, e.g. 1.00:00:00 for one day")
            return nil
        }
        if span.isNegative && !allowNegative {
            error(node.position, "\(what) must not be negative")
            return nil
        }
        return span
    }

    /// An ISO 8601 date or date-time (`2016-02-13`, `2016-02-13T00:00:00Z`, offsets allowed).
    mutating func instant(_ node: Node, _ what: String) -> Instant? {
        guard let text = string(node, what) else { return nil }
        guard let instant = Instant.parse(text) else {
            error(node.position, "\(what) '\(text)' is not an ISO 8601 date-time, e.g. 2016-02-13T00:00:00Z")
            return nil
        }
        return instant
    }

    /// A string enum value. A value that differs only in letter case is accepted with a warning
    /// (ADF's own deserializer ignores case); anything else is an error with a hint.
    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ node: Node, _ what: String, _ type: E.Type) -> E?
    where E.RawValue == String {
        guard let text = string(node, what) else { return nil }
        let names = E.allCases.map(\.rawValue)
        if let exact = E(rawValue: text) { return exact }
        if let folded = E.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) {
            warning(node.position, "\(what) \"\(text)\" should be written \"\(folded.rawValue)\"")
            return folded
        }
        error(node.position, "\(what) \"\(text)\" is not one of \(names.joined(separator: ", "))"
              + Suggestion.hint(for: text, among: names))
        return nil
    }
}
