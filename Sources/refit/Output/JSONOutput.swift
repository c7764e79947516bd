import RefitCore

/// A JSON value with ordered object keys, for stable, readable `--format json` output.
enum JSONOutput: Sendable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case null
    case array([JSONOutput])
    case object([(String, JSONOutput)])

    /// Pretty-printed with two-space indentation, one key per line.
    func render(indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent)
        let inner = String(repeating: " ", count: indent + 2)
        switch self {
        case .string(let s): return JSONOutput.quote(s)
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? "\(d)" : "null"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items):
            guard !items.isEmpty else { return "[]" }
            return "[\n" + items.map { inner + $0.render(indent: indent + 2) }.joined(separator: ",\n") + "\n\(pad)]"
        case .object(let fields):
            guard !fields.isEmpty else { return "{}" }
            return "{\n" + fields.map { "\(inner)\(JSONOutput.quote($0.0)): \($0.1.render(indent: indent + 2))" }
                .joined(separator: ",\n") + "\n\(pad)}"
        }
    }

    /// On one line without spaces (JSON Lines, log records).
    func renderCompact() -> String {
        switch self {
        case .array(let items): return "[" + items.map { $0.renderCompact() }.joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.map { JSONOutput.quote($0.0) + ":" + $0.1.renderCompact() }.joined(separator: ",") + "}"
        default: return render()
        }
    }

    static func quote(_ s: String) -> String { JSONString.quote(s) }
}

/// Renders rows as an aligned plain-text table with a header line.
enum TableOutput {
    static func render(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
