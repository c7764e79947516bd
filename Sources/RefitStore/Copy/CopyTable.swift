/// One table of the schema as `refit db copy` moves it: its columns with the kind of value each
/// holds, and the columns that identify a row (to find it in the target). Both stores build
/// their SQL from this one list, so a migration that adds a table or a column adds it here too
/// (`CopySchemaTests` compares the list with the migrated schema).
public struct CopyTable: Sendable, Hashable {
    public struct Column: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case integer
            case text
            /// A time: ISO 8601 text in SQLite, `timestamptz` in PostgreSQL.
            case time
            /// The claim order of runs: SQLite's rowid, PostgreSQL's `seq` column.
            case claimOrder
        }

        public let name: String
        public let kind: Kind
    }

    public let name: String
    public let columns: [Column]
    /// The columns that identify a row.
    public let key: [String]
    /// The order rows are read and inserted in (deployments and events replay in id order).
    public let order: [String]

    init(_ name: String, key: [String], order: [String]? = nil, _ columns: [(String, Column.Kind)]) {
        self.name = name
        self.key = key
        self.order = order ?? key
        self.columns = columns.map { Column(name: $0.0, kind: $0.1) }
    }

    public var columnNames: [String] { columns.map(\.name) }
    /// Positions of the key columns in `columns`.
    public var keyIndices: [Int] { key.compactMap { name in columns.firstIndex { $0.name == name } } }

    /// A row's key for a message: `id=7`, `run_id=…, seq=2`.
    public func describeKey(of row: [CopyValue]) -> String {
        zip(key, keyIndices).map { "\($0)=\(row[$1])" }.joined(separator: ", ")
    }
}

extension CopyTable {
    /// Tables of the schema a copy leaves alone. `workers` is the live registry of worker
    /// processes (who runs now, their last heartbeat), not history: copied, a target would list
    /// the source's workers as running or silent though none of them ever used it, and their
    /// heartbeats (stamped by another clock) would be compared with the target's. Runs keep
    /// naming the worker that ran them (`runs.worker_id`), which is what history needs.
    public static let notCopied: Set<String> = ["workers"]

    /// Every table of the schema (version 9) except `schema_migrations` and `notCopied`, in
    /// dependency order: a row's references are inserted before it.
    public static let all: [CopyTable] = [
        CopyTable("definitions", key: ["id"], [
            ("id", .integer), ("kind", .text), ("name", .text), ("sha256", .text), ("json", .text), ("loaded_at", .time),
        ]),
        CopyTable("pipeline_controls", key: ["pipeline"], [
            ("pipeline", .text), ("paused", .integer), ("reason", .text), ("updated_at", .time),
        ]),
        CopyTable("slices", key: ["id"], [
            ("id", .integer), ("dataset", .text), ("slice_start", .time), ("slice_end", .time), ("state", .text),
            ("substate", .text), ("fingerprint", .text), ("check_count", .integer), ("next_check_at", .time),
            ("message", .text), ("updated_at", .time), ("changed_at", .time), ("changed_fingerprint", .text),
        ]),
        CopyTable("windows", key: ["id"], [
            ("id", .integer), ("pipeline", .text), ("activity", .text), ("window_start", .time), ("window_end", .time),
            ("state", .text), ("substate", .text), ("attempts", .integer), ("long_retry_round", .integer),
            ("next_attempt_at", .time), ("next_trigger", .text), ("priority", .integer), ("lease_owner", .text),
            ("lease_expires_at", .time), ("definition_sha256", .text), ("updated_at", .time), ("missing_inputs", .integer),
        ]),
        CopyTable("watermarks", key: ["pipeline", "activity"], [
            ("pipeline", .text), ("activity", .text), ("materialized_until", .time), ("updated_at", .time),
        ]),
        CopyTable("activity_outputs", key: ["pipeline", "activity", "dataset"], [
            ("pipeline", .text), ("activity", .text), ("dataset", .text),
        ]),
        CopyTable("runs", key: ["run_id"], order: ["seq"], [
            ("run_id", .text), ("seq", .claimOrder), ("window_id", .integer), ("attempt", .integer), ("trigger", .text),
            ("status", .text), ("substatus", .text), ("worker_id", .text), ("started_at", .time), ("ended_at", .time),
            ("error_class", .text), ("error_message", .text), ("external_job_id", .text), ("result", .text),
            ("definition_sha256", .text),
        ]),
        CopyTable("steps", key: ["run_id", "seq"], [
            ("run_id", .text), ("seq", .integer), ("name", .text), ("state", .text), ("intent", .text), ("result", .text),
            ("started_at", .time), ("ended_at", .time),
        ]),
        CopyTable("outputs", key: ["id"], [
            ("id", .integer), ("run_id", .text), ("name", .text), ("location", .text), ("evaluation", .text),
            ("created_at", .time),
        ]),
        CopyTable("deployments", key: ["id"], [
            ("id", .integer), ("endpoint", .text), ("model_location", .text), ("model_window_start", .time),
            ("model_window_end", .time), ("output_id", .integer), ("run_id", .text), ("deployed_at", .time),
            ("replaced_deployment_id", .integer), ("reason", .text), ("forced", .integer),
        ]),
        CopyTable("endpoint_locks", key: ["endpoint"], [
            ("endpoint", .text), ("run_id", .text), ("acquired_at", .time),
        ]),
        CopyTable("window_inputs", key: ["window_id", "dataset", "slice_start"], [
            ("window_id", .integer), ("dataset", .text), ("slice_start", .time), ("slice_end", .time), ("ready", .integer),
        ]),
        CopyTable("run_inputs", key: ["run_id", "dataset", "slice_start"], [
            ("run_id", .text), ("dataset", .text), ("slice_start", .time), ("slice_end", .time), ("fingerprint", .text),
            ("producer_run_id", .text),
        ]),
        CopyTable("cancel_requests", key: ["run_id"], [
            ("run_id", .text), ("requested_at", .time), ("actor", .text), ("reason", .text),
        ]),
        CopyTable("backfills", key: ["id"], [
            ("id", .integer), ("pipeline", .text), ("activities", .text), ("from", .time), ("to", .time), ("mode", .text),
            ("order", .text), ("reason", .text), ("actor", .text), ("created_at", .time),
        ]),
        CopyTable("backfill_windows", key: ["backfill_id", "window_id"], [
            ("backfill_id", .integer), ("window_id", .integer),
        ]),
        // The audit log's times are the text its hashes cover: copied verbatim.
        CopyTable("events", key: ["id"], [
            ("id", .integer), ("at", .text), ("kind", .text), ("pipeline", .text), ("activity", .text),
            ("window_start", .text), ("run_id", .text), ("detail", .text), ("prev_hash", .text), ("hash", .text),
        ]),
    ]

    /// The table's name, or a column's, quoted as an SQL identifier (`"order"`, `"from"`).
    public static func quoted(_ identifier: String) -> String { "\"\(identifier)\"" }
}
