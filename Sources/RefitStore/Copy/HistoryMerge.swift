/// The target side of a copy, inside its one transaction: reads a table's rows and inserts rows
/// (in the order given). A row that a unique constraint refuses is a
/// `CopyRefusal.collidingRow` naming that row's key.
public protocol CopyWriter {
    func rows(of table: CopyTable) throws -> [[CopyValue]]
    func insert(_ rows: [[CopyValue]], into table: CopyTable) throws
}

/// Merges a source history into a target, table by table in dependency order: a row absent from
/// the target is inserted with its ids, a row present and identical is skipped (so a second copy
/// changes nothing), and a row present with other values refuses the whole copy. Rows the target
/// has and the source does not are left alone (the target went on from the source's history).
public enum HistoryMerge {
    public static func apply(_ history: [CopyRows], to writer: some CopyWriter) throws -> [CopyTally] {
        var tallies: [CopyTally] = []
        for part in history {
            let table = part.table
            let keys = table.keyIndices
            var existing: [[CopyValue]: [CopyValue]] = [:]
            for row in try writer.rows(of: table) { existing[keys.map { row[$0] }] = row }
            var missing: [[CopyValue]] = []
            var present = 0
            for row in part.rows {
                guard let found = existing[keys.map { row[$0] }] else {
                    missing.append(row)
                    continue
                }
                guard found == row else { throw CopyRefusal.differentRow(table: table.name, key: table.describeKey(of: row)) }
                present += 1
            }
            if !missing.isEmpty { try writer.insert(missing, into: table) }
            tallies.append(CopyTally(table: table.name, copied: missing.count, alreadyPresent: present))
        }
        return tallies
    }
}
