/// The rows of one table in the neutral form that moves between stores: values in the order of
/// `table.columns`.
public struct CopyRows: Sendable {
    public let table: CopyTable
    public let rows: [[CopyValue]]

    public init(table: CopyTable, rows: [[CopyValue]]) {
        self.table = table
        self.rows = rows
    }
}

/// What a copy did to one table.
public struct CopyTally: Sendable, Hashable {
    public let table: String
    public let copied: Int
    public let alreadyPresent: Int
}

/// What a copy did, and the target's audit chain afterwards (verified before committing).
public struct CopySummary: Sendable, Hashable {
    public let tallies: [CopyTally]
    public let events: Int
    public let tailHash: String

    public init(tallies: [CopyTally], events: Int, tailHash: String) {
        self.tallies = tallies
        self.events = events
        self.tailHash = tailHash
    }

    public var copied: Int { tallies.reduce(0) { $0 + $1.copied } }
}

/// Why a copy was refused; nothing was written.
public enum CopyRefusal: Error, Sendable, Hashable {
    /// The target holds a row with this key whose values differ from the source's.
    case differentRow(table: String, key: String)
    /// A source row collides with a different target row on another unique column.
    case collidingRow(table: String, key: String)
    /// The target's audit chain would not verify after the copy, from this event on.
    case brokenChain(eventID: Int64)
}
