import Foundation
import ArgumentParser

/// Renders rows as RFC 4180 CSV: a header line, fields quoted when they hold a comma, quote or
/// line break, CRLF-free (one `\n` per row, as Unix tools expect).
enum CSVOutput {
    static func render(header: [String], rows: [[String]]) -> String {
        ([header] + rows).map(line).joined(separator: "\n")
    }

    /// One row, without its line break (for output streamed row by row).
    static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") }

    static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// `--format table|json|csv` for the history-style listings.
enum ListingFormat: String, CaseIterable, ExpressibleByArgument {
    case table, json, csv
}

/// One listing row as ordered named fields: the JSON object, the CSV row and the table row.
struct ListingRow: Sendable {
    var fields: [(String, JSONOutput)]

    static func text(_ value: JSONOutput) -> String {
        switch value {
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): "\(d)"
        case .bool(let b): b ? "true" : "false"
        case .null: ""
        case .array, .object: value.render()
        }
    }

    static func print(_ rows: [ListingRow], format: ListingFormat, header: [String], table: [String]) {
        switch format {
        case .json:
            Swift.print(JSONOutput.array(rows.map { .object($0.fields) }).render())
        case .csv:
            Swift.print(CSVOutput.render(header: header, rows: rows.map { row in
                header.map { key in text(row.fields.first { $0.0 == key }?.1 ?? .null) }
            }))
        case .table:
            Swift.print(TableOutput.render(header: table.map { $0.uppercased() }, rows: rows.map { row in
                table.map { key in
                    let value = text(row.fields.first { $0.0 == key }?.1 ?? .null)
                    return value.isEmpty ? "-" : value
                }
            }))
        }
    }
}

extension JSONOutput {
    static func orNull(_ value: String?) -> JSONOutput { value.map { .string($0) } ?? .null }
}
