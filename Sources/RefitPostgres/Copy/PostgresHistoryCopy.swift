import RefitCore
import RefitStore

/// `refit db copy` on PostgreSQL: reading a whole history, and merging one in.
public enum PostgresHistoryCopy {
    /// The schema version the database is at: 0 for an empty database, nil when it holds tables
    /// but is not a Refit database.
    public static func schemaVersion(_ database: PostgresDatabase) throws -> Int? {
        try database.readNow { c in
            if try c.query("SELECT to_regclass('schema_migrations') AS t").first?.string("t") == nil {
                let tables = try c.query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema()").first?.int("n") ?? 0
                return tables == 0 ? 0 : nil
            }
            return try PostgresMigrator.applied(c).map(\.version).max() ?? 0
        }
    }

    /// Applies pending migrations (refusing a database from a newer Refit), as opening a store does.
    public static func migrate(_ database: PostgresDatabase) throws {
        try PostgresMigrator().migrate(database)
    }

    /// Every table's rows, read in one repeatable-read transaction: one consistent snapshot
    /// while workers on other hosts go on writing.
    public static func readHistory(_ database: PostgresDatabase) throws -> [CopyRows] {
        try database.readNow { c in
            try c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                let history = try CopyTable.all.map { CopyRows(table: $0, rows: try PostgresCopyWriter(connection: c).rows(of: $0)) }
                try c.execute("COMMIT")
                return history
            } catch {
                _ = try? c.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Merges `history` in one transaction (see `HistoryMerge`), moves the id sequences past the
    /// copied ids, and verifies the audit chain before committing.
    public static func copyIn(_ history: [CopyRows], to database: PostgresDatabase) throws -> CopySummary {
        try database.writeNow { c in
            // Workers appending events wait until the copy commits, so the chain stays one line.
            try c.advisoryLock("refit:events")
            let tallies = try HistoryMerge.apply(history, to: PostgresCopyWriter(connection: c))
            for (table, column) in serialColumns where tallies.contains(where: { $0.table == table && $0.copied > 0 }) {
                // Constant identifiers from the schema; the sequence only ever moves forward.
                try c.execute("""
                    SELECT setval(s, m) FROM (SELECT pg_get_serial_sequence('\(table)', '\(column)')::regclass AS s,
                                                     (SELECT max(\(column)) FROM \(table)) AS m) AS x
                    WHERE m IS NOT NULL AND m > coalesce(pg_sequence_last_value(s), 0)
                    """)
            }
            let (count, tail, broken) = try verifyChain(c)
            if let broken { throw CopyRefusal.brokenChain(eventID: broken) }
            return CopySummary(tallies: tallies, events: count, tailHash: tail)
        }
    }

    /// The columns filled from a sequence (`bigserial`), as (table, column).
    static let serialColumns = [
        ("definitions", "id"), ("slices", "id"), ("windows", "id"), ("runs", "seq"), ("outputs", "id"),
        ("deployments", "id"), ("backfills", "id"),
    ]

    /// Walks the audit log in id order as `verifyEventChain` does on SQLite: (events, tail hash,
    /// the first event that does not verify).
    static func verifyChain(_ c: PostgresConnection) throws -> (Int, String, Int64?) {
        let rows = try c.query("SELECT id, at, kind, pipeline, activity, window_start, run_id, detail, prev_hash, hash FROM events ORDER BY id")
        var previous = AuditEvent.genesisHash
        for row in rows {
            let id = row.int64("id") ?? 0
            let prevHash = row.string("prev_hash") ?? ""
            let expected = AuditEvent.chainHash(id: id, at: row.string("at") ?? "", kind: row.string("kind") ?? "",
                                                pipeline: row.string("pipeline"), activity: row.string("activity"),
                                                windowStart: row.string("window_start"), runID: row.string("run_id"),
                                                detail: row.string("detail") ?? "", prevHash: prevHash)
            guard prevHash == previous, row.string("hash") == expected else { return (rows.count, previous, id) }
            previous = expected
        }
        return (rows.count, previous, nil)
    }
}

/// `CopyWriter` on one PostgreSQL connection: times are `timestamptz`, read back as instants.
struct PostgresCopyWriter: CopyWriter {
    let connection: PostgresConnection

    func rows(of table: CopyTable) throws -> [[CopyValue]] {
        let columns = table.columnNames.map(CopyTable.quoted).joined(separator: ", ")
        let order = table.order.map(CopyTable.quoted).joined(separator: ", ")
        return try connection.query("SELECT \(columns) FROM \(CopyTable.quoted(table.name)) ORDER BY \(order)").map { row in
            try zip(table.columns, row.values).map { column, text in
                guard let text else { return .null }
                switch column.kind {
                case .text:
                    return .text(text)
                case .integer, .claimOrder:
                    guard let value = Int64(text) else { throw Self.unexpected(table, column) }
                    return .integer(value)
                case .time:
                    guard let value = PostgresRow.instant(text) else { throw Self.unexpected(table, column) }
                    return .time(value)
                }
            }
        }
    }

    /// Rows per INSERT: a few thousand parameters a statement saves a round trip per row.
    static let parameterBudget = 4000

    /// Inserts in multi-row statements. A batch a unique constraint refuses is undone to its
    /// savepoint and inserted row by row, to name the row that collides.
    func insert(_ rows: [[CopyValue]], into table: CopyTable) throws {
        let perStatement = max(1, Self.parameterBudget / table.columns.count)
        var start = 0
        while start < rows.count {
            let batch = rows[start..<min(rows.count, start + perStatement)]
            start += batch.count
            try connection.execute("SAVEPOINT refit_copy")
            do {
                try insert(batch, table)
            } catch let error as StoreError where error.code == .constraint {
                try connection.execute("ROLLBACK TO SAVEPOINT refit_copy")
                for row in batch {
                    do {
                        try insert([row], table)
                    } catch let error as StoreError where error.code == .constraint {
                        throw CopyRefusal.collidingRow(table: table.name, key: table.describeKey(of: row))
                    }
                }
            }
            try connection.execute("RELEASE SAVEPOINT refit_copy")
        }
    }

    private func insert(_ rows: ArraySlice<[CopyValue]>, _ table: CopyTable) throws {
        let columns = table.columnNames.map(CopyTable.quoted).joined(separator: ", ")
        let width = table.columns.count
        let tuples = (0..<rows.count).map { row in
            "(" + (1...width).map { "$\(row * width + $0)" }.joined(separator: ", ") + ")"
        }
        let values: [PostgresValue] = rows.flatMap { row in
            row.map { value in
                switch value {
                case .null: .null
                case .integer(let v): .integer(v)
                case .text(let v): .text(v)
                case .time(let v): .timestamp(v)
                }
            }
        }
        try connection.execute("INSERT INTO \(CopyTable.quoted(table.name)) (\(columns)) VALUES \(tuples.joined(separator: ", "))", values)
    }

    private static func unexpected(_ table: CopyTable, _ column: CopyTable.Column) -> StoreError {
        StoreError(.corrupt, "The \(table.name).\(column.name) column holds a value of an unexpected form; the database cannot be copied.")
    }
}
