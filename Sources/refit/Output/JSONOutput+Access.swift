/// Reading values back out of a `JSONOutput` document (the table form of `refit status` and
/// `refit lineage` is rendered from the same document as their JSON, so the two never disagree).
extension JSONOutput {
    subscript(key: String) -> JSONOutput? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    var items: [JSONOutput]? {
        guard case .array(let items) = self else { return nil }
        return items
    }

    var fields: [(String, JSONOutput)]? {
        guard case .object(let fields) = self else { return nil }
        return fields
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// A scalar as text; nil for null, arrays and objects.
    var text: String? {
        switch self {
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): "\(d)"
        case .bool(let b): b ? "true" : "false"
        case .null, .array, .object: nil
        }
    }
}
