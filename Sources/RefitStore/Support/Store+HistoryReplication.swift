import Foundation
import RefitCore

extension Store {
    /// For benchmarks only (`refit-bench`): makes a long finished history out of a short one by
    /// copying the windows, runs, slices and their satellite rows a worker wrote, `copies` times,
    /// each copy moved `span` further into the past. Running a million windows through a worker
    /// takes a quarter of an hour; copying the rows of a real year of them takes seconds, and
    /// every column keeps the value the worker wrote, so the copies are indexed and shaped
    /// exactly like history (only their times differ).
    ///
    /// The copies lie before the pipeline's first window, as history does when a pipeline's
    /// start moves later. Audit events are not copied (their hash chain would break), nor are
    /// deployments (they would have to be monotonic). Returns the number of windows afterwards.
    /// Refuses a history that still has work in progress or waiting, which copying would multiply.
    @discardableResult
    public func replicateFinishedHistory(copies: Int, span: TimeSpan) throws -> Int {
        precondition(copies >= 0 && span.seconds > 0, "copies must be non-negative and span positive")
        return try database.transaction { c in
            let open = try c.query("SELECT count(*) AS n FROM windows WHERE state IN ('Waiting', 'InProgress')")
            guard (open.first?.int("n") ?? 0) == 0 else {
                throw StoreError(.other, "Only a finished history can be replicated: windows are still waiting or in progress.")
            }
            let stride = try c.query("SELECT coalesce(max(id), 0) AS m FROM windows").first?.int("m") ?? 0
            let outputStride = try c.query("SELECT coalesce(max(id), 0) AS m FROM outputs").first?.int("m") ?? 0
            let sliceStride = try c.query("SELECT coalesce(max(id), 0) AS m FROM slices").first?.int("m") ?? 0
            for table in Self.replicatedTables {
                let columns = try c.query("SELECT name FROM pragma_table_info(?)", [.text(table)]).compactMap { $0.string("name") }
                let expressions = columns.map { column -> String in
                    switch column {
                    case "id" where table == "windows", "window_id":
                        return "\(column) + k.n * \(stride)"
                    case "id" where table == "outputs":
                        return "id + k.n * \(outputStride)"
                    case "id" where table == "slices":
                        return "id + k.n * \(sliceStride)"
                    case "run_id", "producer_run_id":
                        return "CASE WHEN \(column) IS NULL THEN NULL ELSE \(column) || '~' || k.n END"
                    case _ where Self.timeColumns.contains(column):
                        return "strftime('%Y-%m-%dT%H:%M:%SZ', \"\(column)\", (-k.n * \(span.seconds)) || ' seconds')"
                    default:
                        return "\"\(column)\""
                    }
                }
                let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                try c.execute("""
                    WITH RECURSIVE k(n) AS (SELECT 1 WHERE \(copies) >= 1 UNION ALL SELECT n + 1 FROM k WHERE n < \(copies))
                    INSERT INTO \(table) (\(list))
                    SELECT \(expressions.joined(separator: ", ")) FROM k CROSS JOIN (SELECT * FROM \(table)) AS \(table)
                    """)
            }
            return try c.query("SELECT count(*) AS n FROM windows").first?.int("n") ?? 0
        }
    }

    /// The tables copied, parents before children (foreign keys).
    private static let replicatedTables = ["windows", "runs", "steps", "outputs", "slices", "window_inputs", "run_inputs"]

    /// Columns holding an ISO-8601 time, moved into the past with each copy.
    private static let timeColumns: Set<String> = [
        "window_start", "window_end", "next_attempt_at", "lease_expires_at", "updated_at", "started_at", "ended_at",
        "created_at", "slice_start", "slice_end", "next_check_at", "changed_at",
    ]
}
