import Foundation

/// A parsed CSV file: one header row, then data rows of the same width.
public struct CSVTable: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]

    /// Parses comma-separated text with optional double-quoted fields; blank lines are skipped.
    public init(parsing text: String) throws(TrainingError) {
        var records: [[String]] = []
        var field = ""
        var record: [String] = []
        var inQuotes = false
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        func endRecord() {
            record.append(field)
            field = ""
            if !(record.count == 1 && record[0].trimmingCharacters(in: .whitespaces).isEmpty) {
                records.append(record)
            }
            record = []
        }
        while let c = next() {
            if inQuotes {
                if c == "\"" {
                    if let n = next() {
                        if n == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; pending = n }
                    } else { inQuotes = false }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: inQuotes = true
            case ",": record.append(field); field = ""
            case "\r": continue
            case "\n": endRecord()
            default: field.unicodeScalars.append(c)
            }
        }
        if inQuotes { throw TrainingError("The input CSV has an unterminated quoted field.") }
        if !field.isEmpty || !record.isEmpty { endRecord() }
        guard let header = records.first else { throw TrainingError("The input CSV is empty; a header row is required.") }
        self.header = header.map { $0.trimmingCharacters(in: .whitespaces) }
        self.rows = Array(records.dropFirst())
        for (index, row) in rows.enumerated() where row.count != self.header.count {
            throw TrainingError("Row \(index + 2) of the input CSV has \(row.count) fields; the header has \(self.header.count).")
        }
    }

    /// The numeric values of one column, or a clear error naming the first bad cell.
    public func numericColumn(_ name: String) throws(TrainingError) -> [Double] {
        guard let index = header.firstIndex(of: name) else {
            throw TrainingError("Column '\(name)' is not in the input CSV header.")
        }
        var values: [Double] = []
        values.reserveCapacity(rows.count)
        for (rowIndex, row) in rows.enumerated() {
            let text = row[index].trimmingCharacters(in: .whitespaces)
            guard let value = Double(text), value.isFinite else {
                throw TrainingError("Column '\(name)' has a non-numeric value '\(text.prefix(40))' in row \(rowIndex + 2).")
            }
            values.append(value)
        }
        return values
    }
}

/// Why a training run could not produce a model; becomes the job's `Details` text.
public struct TrainingError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
