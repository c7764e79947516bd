import Foundation
import RefitCore
@testable import RefitStore
import Testing

/// The changed-data sweep decodes its slices in place, by column index (`init(statement:)`);
/// every other reader goes through `Row` and column names (`init(row:)`). Both must read any row
/// the same way, including NULLs, timestamps in other ISO 8601 forms and fingerprints written
/// by another JSON encoder.
struct SliceRecordDecodingTests {
    @Test("decoding in place agrees with decoding through Row")
    func inPlaceAgreesWithRow() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        // The columns of `slices` without its CHECKs, so that odd values can be stored.
        try db.execute("""
            CREATE TABLE slices (id INTEGER PRIMARY KEY, dataset TEXT, slice_start TEXT, slice_end TEXT, state TEXT,
                substate TEXT, fingerprint TEXT, check_count INTEGER, next_check_at TEXT, message TEXT,
                updated_at TEXT, changed_at TEXT)
            """)
        let canonical = #"{"files":[{"modified":1796497771,"name":"training/2026/11/05/19.csv","size":460}]}"#
        let otherEncoder = #"{ "files" : [ { "size" : 7, "name" : "a/b ü.csv", "modified" : 12 } ] }"#
        let rows: [[SQLiteValue]] = [
            [1, "Training", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "Ready", nil, .text(canonical), 1, nil, nil,
             "2026-12-05T19:09:32Z", nil],
            [2, "Zürich data", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z", "Waiting", "Validation", .text(otherEncoder),
             3, "2026-01-02T00:00:00Z", "no file yet", "2026-01-01T02:00:00+01:00", "2026-01-01T03:00:00.250Z"],
            [3, "Training", "2026-01-01 02:00:00", "2026-01-01T03:00:00Z", "Failed", "TimedOut", .text(#"{"files":[]}"#),
             0, nil, "", "2026-01-01T03:00:00Z", nil],
            // Unreadable: an unknown state, and a start that is no timestamp. Both readers leave them out.
            [4, "Training", "2026-01-01T03:00:00Z", "2026-01-01T04:00:00Z", "Sleeping", nil, nil, 0, nil, nil,
             "2026-01-01T04:00:00Z", nil],
            [5, "Training", "yesterday", "2026-01-01T05:00:00Z", "Ready", nil, nil, 0, nil, nil, "2026-01-01T05:00:00Z", nil],
            // Not JSON at all: no fingerprint, for both.
            [6, "Training", "2026-01-01T05:00:00Z", "2026-01-01T06:00:00Z", "Ready", nil, "{files", 0, nil, nil,
             "2026-01-01T06:00:00Z", nil],
        ]
        for row in rows {
            try db.execute("INSERT INTO slices (\(SliceRecord.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        }
        let sql = "SELECT \(SliceRecord.columns) FROM slices ORDER BY id"
        let throughRow = try db.query(sql).compactMap(SliceRecord.init(row:))
        let inPlace = try db.withConnection { try $0.query(sql, decode: SliceRecord.init(statement:)) }
        #expect(inPlace == throughRow)
        #expect(inPlace.map(\.id) == [1, 2, 3, 6])
        let second = try #require(inPlace.first { $0.id == 2 })
        #expect(second.fingerprint?.files.first?.name == "a/b ü.csv" && second.substate == .validation)
        #expect(second.updatedAt == Instant.parse("2026-01-01T01:00:00Z") && second.checkCount == 3)
        #expect(inPlace.first { $0.id == 6 }?.fingerprint == nil)
    }
}
