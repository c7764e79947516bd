import Foundation
import RefitPostgres
@testable import RefitStore
import Testing

/// `refit db copy` builds its SQL from `CopyTable.all`: it must name every table and column of
/// both migrated schemas, with the kind of value each holds, or a copy would silently drop data.
/// A migration that adds a table or a column fails here until `CopyTable.all` has it (or
/// `CopyTable.notCopied` names the table, with the reason it is not history).
struct CopySchemaTests {
    /// (table, column, kind) as `CopyTable.all` says, the runs' claim order under its SQLite name.
    private static func expected(sqlite: Bool) -> Set<String> {
        Set(CopyTable.all.flatMap { table in
            table.columns.compactMap { column in
                let kind: String
                switch column.kind {
                case .integer: kind = "integer"
                case .text: kind = "text"
                case .time: kind = sqlite ? "text" : "time"
                case .claimOrder: if sqlite { return nil } else { kind = "integer" }
                }
                return "\(table.name).\(column.name):\(kind)"
            }
        })
    }

    @Test("every SQLite table and column is copied")
    func sqliteSchema() throws {
        let store = try Store.open(path: ":memory:")
        let tables = try store.database.query(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'")
            .compactMap { $0.string("name") }.filter { !CopyTable.notCopied.contains($0) }
        var found: Set<String> = []
        for table in tables {
            for column in try store.database.query("SELECT name, type FROM pragma_table_info(?)", [.text(table)]) {
                found.insert("\(table).\(column.string("name") ?? ""):\((column.string("type") ?? "").lowercased())")
            }
        }
        #expect(found == Self.expected(sqlite: true))
        #expect(Set(tables) == Set(CopyTable.all.map(\.name)))
    }

    @Test("every PostgreSQL table and column is copied")
    func postgresSchema() throws {
        let database = try PostgresTestDatabase()
        let rows = try PostgresConnection(url: database.url).query("""
            SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'
            """)
        let found = Set(rows.filter { !CopyTable.notCopied.contains($0.string("table_name") ?? "") }.map { row in
            let type = row.string("data_type") ?? ""
            let kind = type == "timestamp with time zone" ? "time" : (type == "bigint" ? "integer" : type)
            return "\(row.string("table_name") ?? "").\(row.string("column_name") ?? ""):\(kind)"
        })
        #expect(found == Self.expected(sqlite: false))
    }

    @Test("the tables a copy leaves alone exist in both schemas")
    func notCopiedTablesExist() throws {
        let store = try Store.open(path: ":memory:")
        for table in CopyTable.notCopied {
            #expect(try store.database.query("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ?", [.text(table)]).count == 1)
            #expect(!CopyTable.all.contains { $0.name == table })
        }
        let database = try PostgresTestDatabase()
        let connection = try PostgresConnection(url: database.url)
        for table in CopyTable.notCopied {
            #expect(try connection.query("SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1",
                                         [.text(table)]).count == 1)
        }
    }
}
