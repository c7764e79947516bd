/// The target side of a copy, inside its one transaction: reads a table's rows and inserts one.
public protocol CopyWriter {
    func rows(of table: CopyTable) throws -> [[CopyValue]]
    func insert(_ row: [CopyValue], into table: CopyTable) throws
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
            var copied = 0, present = 0
            for row in part.rows {
                let key = keys.map { row[$0] }
                if let found = existing[key] {
                    guard found == row else {
                        throw CopyRefusal.differentRow(table: table.name, key: describe(key, table))
                    }
                    present += 1
                    continue
                }
                do {
                    try writer.insert(row, into: table)
                } catch let error as StoreError where error.code == .constraint {
                    throw CopyRefusal.collidingRow(table: table.name, key: describe(key, table))
                }
                copied += 1
            }
            tallies.append(CopyTally(table: table.name, copied: copied, alreadyPresent: present))
        }
        return tallies
    }

    private static func describe(_ key: [CopyValue], _ table: CopyTable) -> String {
        zip(table.key, key).map { "\($0)=\($1)" }.joined(separator: ", ")
    }
}
