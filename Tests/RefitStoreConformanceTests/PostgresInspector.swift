import Foundation
import RefitCore
import RefitPostgres

/// `StoreInspector` over the PostgreSQL store's database.
struct PostgresInspector: StoreInspector {
    let store: PostgresSchedulingStore
    /// Keeps the test's database until the test ends.
    let database: PostgresTestDatabase

    func setPaused(_ pipeline: String, _ paused: Bool, now: Instant) throws {
        try store.setPaused(pipeline, paused: paused, now: now)
    }

    func runs() throws -> [RunSnapshot] {
        try query(where: "TRUE", [])
    }

    func runs(windowID: Int64) throws -> [RunSnapshot] {
        try query(where: "window_id = $1", [.integer(windowID)])
    }

    func run(id: String) throws -> RunSnapshot? {
        try query(where: "run_id = $1", [.text(id)]).first
    }

    func slices(datasets: [String]) throws -> [SliceRecord] {
        try store.database.readNow { c in
            try c.query("""
                SELECT id, dataset, slice_start, slice_end, state, substate, fingerprint, check_count, next_check_at, message, updated_at,
                       changed_at
                FROM slices WHERE dataset = ANY(string_to_array($1, chr(31))) ORDER BY slice_start, dataset
                """, [.text(datasets.joined(separator: "\u{1F}"))]).compactMap { row -> SliceRecord? in
                guard let id = row.int64("id"), let dataset = row.string("dataset"), let start = row.instant("slice_start"),
                      let end = row.instant("slice_end"), let status = row.string("state").flatMap(WindowStatus.init(rawValue:))
                else { return nil }
                return SliceRecord(id: id, dataset: dataset, slice: Slice(start: start, end: end), status: status,
                                   substate: row.string("substate").flatMap(WindowSubstate.init(rawValue:)),
                                   fingerprint: row.string("fingerprint").flatMap {
                                       try? JSONDecoder().decode(DataFingerprint.self, from: Data($0.utf8))
                                   },
                                   checkCount: row.int("check_count") ?? 0, nextCheckAt: row.instant("next_check_at"),
                                   message: row.string("message"), updatedAt: row.instant("updated_at"),
                                   changedAt: row.instant("changed_at"))
            }
        }
    }

    func eventKinds(runID: String) throws -> [String] {
        try store.database.readNow { c in
            try c.query("SELECT kind FROM events WHERE run_id = $1 ORDER BY id", [.text(runID)]).compactMap { $0.string("kind") }
        }
    }

    private func query(where condition: String, _ parameters: [PostgresValue]) throws -> [RunSnapshot] {
        try store.database.readNow { c in
            try c.query("""
                SELECT run_id, window_id, attempt, "trigger", status, substatus, error_class, error_message, external_job_id,
                       worker_id, ended_at
                FROM runs WHERE \(condition) ORDER BY started_at, seq
                """, parameters).map { row in
                RunSnapshot(runID: row.string("run_id") ?? "", windowID: row.int64("window_id") ?? 0, attempt: row.int("attempt") ?? 0,
                            trigger: row.string("trigger").flatMap(RunTrigger.init(rawValue:)),
                            status: row.string("status").flatMap(RunStatus.init(rawValue:)),
                            substatus: row.string("substatus").flatMap(WindowSubstate.init(rawValue:)),
                            errorClass: row.string("error_class").flatMap(RunErrorClass.init(rawValue:)),
                            errorMessage: row.string("error_message"), externalJobID: row.string("external_job_id"),
                            workerID: row.string("worker_id") ?? "", ended: row.string("ended_at") != nil)
            }
        }
    }
}
