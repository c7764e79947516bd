import Foundation
import Testing
import RefitCore
@testable import RefitStore

/// The write-ahead log is checkpointed off the writer's executor: it stays bounded under a
/// stream of commits, starts over once a checkpoint copied all of it, and nothing is lost.
@Suite struct WALCheckpointTests {
    func walPages(_ store: Store) throws -> Int {
        // A PASSIVE checkpoint that copies nothing new reports the log's size in frames.
        try store.database.withConnection { try $0.query("PRAGMA wal_checkpoint(PASSIVE)").first?.int("log") } ?? -1
    }

    @Test("thousands of commits: the log stays bounded and starts over, and every row is there")
    func boundedLog() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("refit.sqlite")
        let store = try Store.open(path: path)
        let checkpointer = try #require(store.database.checkpointer)
        // Thresholds lowered so that a few thousand commits reach them, and the pause after which
        // the checkpoints finish the job shortened.
        checkpointer.useThresholds(background: 4_000, inline: 16_000, pause: .milliseconds(50))
        let count = 12_000
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        for i in 0..<count {
            try store.appendEvent(NewAuditEvent(at: at, kind: "benchEvent", pipeline: "P", activity: "A", detail: "{\"i\":\(i)}"))
        }
        // Three frames per commit: without checkpoints the log would hold over 36,000 pages. The
        // inline checkpoint is PASSIVE, as SQLite's own: while the background one is copying it
        // returns at once and the log grows on for as long as that copy takes (on a loaded
        // machine, thousands of pages), so the bound is twice the inline threshold, not one.
        let size = (try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        #expect(size < 2 * checkpointer.inlineThreshold * 4_200)
        // Once the writes pause and the checkpoints have caught up, the next commits start the
        // log over.
        for round in 0..<3 {
            checkpointer.waitUntilIdle()
            Thread.sleep(forTimeInterval: 0.1)
            try store.appendEvent(NewAuditEvent(at: at, kind: "benchEvent", pipeline: "P", activity: "A", detail: "{\"round\":\(round)}"))
        }
        checkpointer.waitUntilIdle()
        #expect(try walPages(store) < checkpointer.threshold)
        #expect(try store.verifyEventChain() == nil)
        let rows = try store.database.withConnection { try $0.query("SELECT count(*) AS n FROM events WHERE kind = 'benchEvent'").first?.int("n") }
        #expect(rows == count + 3)
        store.close()
        // The writer's close checkpointed everything and removed the log; a new open sees every row.
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let reopened = try Store.open(path: path)
        #expect(try reopened.database.withConnection { try $0.query("SELECT count(*) AS n FROM events WHERE kind = 'benchEvent'").first?.int("n") } == count + 3)
    }

    @Test("commits do not checkpoint inline: while the checkpointer is held back the log grows past the threshold")
    func notInline() throws {
        let folder = try TemporaryDirectory()
        let store = try Store.open(path: folder.path("refit.sqlite"))
        let checkpointer = try #require(store.database.checkpointer)
        checkpointer.useThresholds(background: 4_000, inline: 16_000)
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        checkpointer.suspend()
        for i in 0..<3_000 {
            try store.appendEvent(NewAuditEvent(at: at, kind: "benchEvent", pipeline: "P", activity: "A", detail: "{\"i\":\(i)}"))
        }
        let held = try walPages(store)
        checkpointer.resume()
        #expect(held > checkpointer.threshold + 1_000)
        #expect(held < checkpointer.inlineThreshold)
        for round in 0..<3 {
            checkpointer.waitUntilIdle()
            try store.appendEvent(NewAuditEvent(at: at, kind: "benchEvent", pipeline: "P", activity: "A", detail: "{\"round\":\(round)}"))
        }
        checkpointer.waitUntilIdle()
        #expect(try walPages(store) < checkpointer.threshold)
        store.close()
    }

    @Test("pacing: the commit after a background checkpoint copies its remainder inline; no storm of small checkpoints")
    func pacing() {
        let now = ContinuousClock.now
        func decide(_ state: WALCheckpointer.Pacing, _ pages: Int, after: Duration = .zero) -> WALCheckpointer.Action {
            WALCheckpointer.decide(state, pages: pages, background: 16_000, inline: 64_000, now: now + after)
        }
        var state = WALCheckpointer.Pacing()
        #expect(decide(state, 15_999) == .nothing)
        // The first commit past the threshold starts one in the background; while it runs, no other.
        #expect(decide(state, 16_000) == .background)
        state.scheduled = true
        #expect(decide(state, 16_500) == .nothing)
        // It copied the 16,000 frames it saw; 600 were committed meanwhile: the next commit copies
        // them inline (so the one after starts the log over).
        state = WALCheckpointer.Pacing(scheduled: false, backfilled: 16_000, finishInline: true, lastEnded: now)
        #expect(decide(state, 16_600) == .inline)
        // Had 4,000 or more piled up meanwhile, another background checkpoint goes first.
        #expect(decide(state, 20_000) == .background)
        // With the remainder copied and the log not started over (a reader held it), commits do
        // not start a checkpoint each ...
        state.finishInline = false
        state.backfilled = 16_600
        #expect(decide(state, 16_700, after: .milliseconds(5)) == .nothing)
        #expect(decide(state, 20_599, after: .milliseconds(500)) == .nothing)
        // ... until a quarter of the threshold waits to be copied,
        #expect(decide(state, 20_600, after: .milliseconds(500)) == .background)
        // or the writes slowed down (a second since the last one ended).
        #expect(decide(state, 16_700, after: .seconds(1)) == .background)
        // Past the inline threshold a commit always copies inline.
        state.scheduled = true
        #expect(decide(state, 64_000) == .inline)
    }

    @Test("read-only and in-memory databases have no checkpointer")
    func noCheckpointer() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("refit.sqlite")
        try Store.open(path: path).close()
        #expect(try Store.openReadOnly(path: path).database.checkpointer == nil)
        #expect(try SQLiteDatabase(path: ":memory:").checkpointer == nil)
    }
}
