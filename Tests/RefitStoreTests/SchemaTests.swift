import Foundation
@testable import RefitStore
import Testing

/// The schema's own guards: state names, time format, foreign keys, lease pairing, monotonic
/// deployments. These protect the data even from a buggy caller.
struct SchemaTests {
    static let sha = String(repeating: "ab", count: 32)

    static func seeded() throws -> Store {
        let store = try Store.open(path: ":memory:")
        try store.database.execute(
            """
            INSERT INTO windows (id, pipeline, activity, window_start, window_end, updated_at)
            VALUES (1, 'retrain', 'train', '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', '2024-01-02T00:00:00Z'),
                   (2, 'retrain', 'deploy', '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', '2024-01-02T00:00:00Z')
            """)
        for (run, window) in [("r1", 1), ("r2", 2), ("r3", 2), ("r4", 2)] {
            try store.database.execute(
                """
                INSERT INTO runs (run_id, window_id, attempt, "trigger", status, worker_id, started_at, ended_at, definition_sha256)
                VALUES (?, ?, 1, 'schedule', 'Succeeded', 'w1', '2024-01-02T00:00:00Z', '2024-01-02T00:05:00Z', ?)
                """, [.text(run), .integer(Int64(window)), .text(sha)])
        }
        return store
    }

    @Test(arguments: ["Waiting", "InProgress", "Ready", "Failed", "Skipped", "None"])
    func knownWindowStatesAreAccepted(state: String) throws {
        let store = try Self.seeded()
        #expect(try store.database.execute("UPDATE windows SET state = ? WHERE id = 1", [.text(state)]) == 1)
    }

    @Test(arguments: ["waiting", "Running", "Succeeded", ""])
    func unknownWindowStatesAreRejected(state: String) throws {
        let store = try Self.seeded()
        let error = #expect(throws: StoreError.self) {
            try store.database.execute("UPDATE windows SET state = ? WHERE id = 1", [.text(state)])
        }
        #expect(error?.code == .constraint)
    }

    @Test func substatesAreChecked() throws {
        let store = try Self.seeded()
        try store.database.execute("UPDATE windows SET state = 'Skipped', substate = 'Superseded' WHERE id = 2")
        let error = #expect(throws: StoreError.self) {
            try store.database.execute("UPDATE windows SET substate = 'Sleeping' WHERE id = 2")
        }
        #expect(error?.code == .constraint)
    }

    @Test(arguments: ["2024-01-01 00:00:00", "2024-01-01T00:00:00+01:00", "2024-01-01T00:00:00.5Z", "yesterday"])
    func timesMustBeUTCWholeSeconds(time: String) throws {
        let store = try Self.seeded()
        let error = #expect(throws: StoreError.self) {
            try store.database.execute("UPDATE windows SET next_attempt_at = ? WHERE id = 1", [.text(time)])
        }
        #expect(error?.code == .constraint)
    }

    @Test func leaseOwnerAndExpiryGoTogether() throws {
        let store = try Self.seeded()
        let error = #expect(throws: StoreError.self) {
            try store.database.execute("UPDATE windows SET lease_owner = 'w1' WHERE id = 1")
        }
        #expect(error?.code == .constraint)
        // The claim pattern: one conditional UPDATE takes the lease and counts the attempt.
        let claim = """
            UPDATE windows SET state = 'InProgress', substate = NULL, attempts = attempts + 1,
                   lease_owner = :worker, lease_expires_at = :expires, updated_at = :now
            WHERE id = 1 AND state = 'Waiting' AND (lease_owner IS NULL OR lease_expires_at < :now)
            """
        let args: [String: SQLiteValue] = ["worker": "w1", "expires": "2024-01-02T00:10:00Z", "now": "2024-01-02T00:00:00Z"]
        #expect(try store.database.execute(claim, named: args) == 1)
        #expect(try store.database.execute(claim, named: args.merging(["worker": "w2"]) { $1 }) == 0)
    }

    @Test func foreignKeysAreEnforced() throws {
        let store = try Self.seeded()
        let error = #expect(throws: StoreError.self) {
            try store.database.execute(
                """
                INSERT INTO steps (run_id, seq, name, intent, started_at)
                VALUES ('no-such-run', 1, 'submit', '{}', '2024-01-02T00:00:00Z')
                """)
        }
        #expect(error?.code == .constraint)
        #expect(error?.message.contains("FOREIGN KEY") == true)
    }

    @Test func runIsOpenExactlyWhileInProgress() throws {
        let store = try Self.seeded()
        let reopened = #expect(throws: StoreError.self) {
            try store.database.execute("UPDATE runs SET ended_at = NULL WHERE run_id = 'r1'")
        }
        #expect(reopened?.code == .constraint)
        try store.database.execute("UPDATE runs SET status = 'InProgress', ended_at = NULL WHERE run_id = 'r1'")
        let endedButRunning = #expect(throws: StoreError.self) {
            try store.database.execute("UPDATE runs SET ended_at = '2024-01-02T00:09:00Z' WHERE run_id = 'r1'")
        }
        #expect(endedButRunning?.code == .constraint)
    }

    @Test func journalStepNamesAreUniquePerRun() throws {
        let store = try Self.seeded()
        let insert = """
            INSERT INTO steps (run_id, seq, name, intent, started_at) VALUES ('r1', ?, 'submit', '{}', '2024-01-02T00:00:00Z')
            """
        try store.database.execute(insert, [1])
        let error = #expect(throws: StoreError.self) { try store.database.execute(insert, [2]) }
        #expect(error?.code == .constraint)
        // Recording the result closes the step.
        try store.database.execute(
            """
            UPDATE steps SET state = 'done', result = '{"jobId":"job-1"}', ended_at = '2024-01-02T00:01:00Z'
            WHERE run_id = 'r1' AND name = 'submit'
            """)
    }

    @Test func deploymentsAreMonotonicPerEndpoint() throws {
        let store = try Self.seeded()
        let insert = """
            INSERT INTO deployments (endpoint, model_location, model_window_start, run_id, deployed_at, reason, forced)
            VALUES ('scoring', ?, ?, ?, '2024-01-03T00:00:00Z', ?, ?)
            """
        try store.database.execute(insert, ["models/jan-02", "2024-01-02T00:00:00Z", "r2", "schedule", 0])
        let older = #expect(throws: StoreError.self) {
            try store.database.execute(insert, ["models/jan-01", "2024-01-01T00:00:00Z", "r3", "backfill", 0])
        }
        #expect(older?.code == .constraint)
        #expect(older?.message.contains("newer window") == true)
        // An explicit, audited operator action may deploy the older model.
        try store.database.execute(insert, ["models/jan-01", "2024-01-01T00:00:00Z", "r3", "rollback", 1])
        // Another endpoint is independent.
        try store.database.execute(
            """
            INSERT INTO deployments (endpoint, model_location, model_window_start, run_id, deployed_at, reason)
            VALUES ('other', 'models/dec-31', '2023-12-31T00:00:00Z', 'r4', '2024-01-03T00:00:00Z', 'schedule')
            """)
        let rewrite = #expect(throws: StoreError.self) {
            try store.database.execute("UPDATE deployments SET model_location = 'x'")
        }
        #expect(rewrite?.code == .constraint)
    }
}
