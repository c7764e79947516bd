import Foundation

/// One result row, detached from the statement so it can outlive it and cross threads.
public struct Row: Sendable, Hashable {
    /// Column names in select order.
    public let columns: [String]
    /// Values in select order.
    public let values: [SQLiteValue]

    public init(columns: [String], values: [SQLiteValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value at a column index, or nil when out of range.
    public subscript(index: Int) -> SQLiteValue? {
        values.indices.contains(index) ? values[index] : nil
    }

    /// The value of the first column with this name, or nil when there is none.
    public subscript(column: String) -> SQLiteValue? {
        columns.firstIndex(of: column).map { values[$0] }
    }

    // Typed reads by column name: nil when the column is missing, NULL, or of another type.
    /// The column as a 64-bit integer.
    public func int64(_ column: String) -> Int64? { self[column]?.int64Value }
    /// The column as an `Int`.
    public func int(_ column: String) -> Int? { self[column]?.intValue }
    /// The column as a double (integers convert).
    public func double(_ column: String) -> Double? { self[column]?.doubleValue }
    /// The column as text.
    public func string(_ column: String) -> String? { self[column]?.stringValue }
    /// The column as bytes (blobs, or text as UTF-8).
    public func data(_ column: String) -> Data? { self[column]?.dataValue }
}
