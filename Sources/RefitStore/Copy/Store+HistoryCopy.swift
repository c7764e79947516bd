import RefitCore

extension Store {
    /// Every table's rows (`CopyTable.all`), read in one read transaction so they are one
    /// consistent snapshot even while a worker writes.
    public func readHistory() throws -> [CopyRows] {
        try database.withConnection { c in
            try c.execute("BEGIN DEFERRED")
            do {
                let history = try CopyTable.all.map { table in
                    CopyRows(table: table, rows: try SQLiteCopyWriter(connection: c).rows(of: table))
                }
                try c.execute("COMMIT")
                return history
            } catch {
                _ = try? c.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Merges `history` into this database in one transaction (see `HistoryMerge`), then
    /// verifies the audit chain before committing: a refusal or a chain that would not verify
    /// rolls everything back.
    public func copyIn(_ history: [CopyRows]) throws -> CopySummary {
        try database.transaction { c in
            let tallies = try HistoryMerge.apply(history, to: SQLiteCopyWriter(connection: c))
            if let broken = try c.verifyEventChain() { throw CopyRefusal.brokenChain(eventID: broken) }
            let tail = try c.query("SELECT count(*) AS n, (SELECT hash FROM events ORDER BY id DESC LIMIT 1) AS tail FROM events").first
            return CopySummary(tallies: tallies, events: tail?.int("n") ?? 0, tailHash: tail?.string("tail") ?? AuditEvent.genesisHash)
        }
    }
}

/// `CopyWriter` on one SQLite connection: times are ISO 8601 text, and the runs' claim order is
/// their rowid (written explicitly, so `refit history` orders them as the source did).
struct SQLiteCopyWriter: CopyWriter {
    let connection: SQLiteConnection

    private static func expression(_ column: CopyTable.Column) -> String {
        column.kind == .claimOrder ? "rowid" : CopyTable.quoted(column.name)
    }

    func rows(of table: CopyTable) throws -> [[CopyValue]] {
        let columns = table.columns.map(Self.expression).joined(separator: ", ")
        let order = table.order.compactMap { name in table.columns.first { $0.name == name } }.map(Self.expression)
            .joined(separator: ", ")
        let statement = try connection.prepare("SELECT \(columns) FROM \(CopyTable.quoted(table.name)) ORDER BY \(order)")
        var rows: [[CopyValue]] = []
        while try statement.step() {
            let row = statement.row()
            rows.append(try table.columns.enumerated().map { index, column in
                try Self.value(row[index] ?? .null, column, table: table.name)
            })
        }
        return rows
    }

    func insert(_ rows: [[CopyValue]], into table: CopyTable) throws {
        let columns = table.columns.map(Self.expression).joined(separator: ", ")
        let marks = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
        let sql = "INSERT INTO \(CopyTable.quoted(table.name)) (\(columns)) VALUES (\(marks))"
        for row in rows {
            do {
                try connection.execute(sql, row.map { value in
                    switch value {
                    case .null: .null
                    case .integer(let v): .integer(v)
                    case .text(let v): .text(v)
                    case .time(let v): .text(v.iso8601)
                    }
                })
            } catch let error as StoreError where error.code == .constraint {
                throw CopyRefusal.collidingRow(table: table.name, key: table.describeKey(of: row))
            }
        }
    }

    private static func value(_ value: SQLiteValue, _ column: CopyTable.Column, table: String) throws -> CopyValue {
        switch value {
        case .null:
            return .null
        case .integer(let v):
            return .integer(v)
        case .text(let v) where column.kind == .time:
            guard let instant = Instant.parse(v) else {
                throw StoreError(.corrupt, "The \(table).\(column.name) column holds a time that is not ISO 8601; the database cannot be copied.")
            }
            return .time(instant)
        case .text(let v):
            return .text(v)
        case .real, .blob:
            throw StoreError(.corrupt, "The \(table).\(column.name) column holds a value of an unexpected type; the database cannot be copied.")
        }
    }
}
