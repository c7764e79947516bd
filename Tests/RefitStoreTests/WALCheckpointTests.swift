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

    @Test("pacing: no storm of small checkpoints while commits keep coming; catching up, a backlog or a pause starts one")
    func pacing() {
        let now = ContinuousClock.now
        var state = WALCheckpointer.Pacing()
        // The first commit past the threshold starts one.
        #expect(WALCheckpointer.shouldStart(state, pages: 16_000, background: 16_000, now: now))
        // While it runs, no other.
        state.scheduled = true
        #expect(!WALCheckpointer.shouldStart(state, pages: 16_500, background: 16_000, now: now))
        // It copied 16,000 frames just now, leaving the 40 written meanwhile: catching up, the next
        // commit starts another.
        state = WALCheckpointer.Pacing(scheduled: false, backfilled: 16_000, lastCopied: 16_000, lastEnded: now)
        #expect(WALCheckpointer.shouldStart(state, pages: 16_040, background: 16_000, now: now))
        // That one copied only those 40: commits that follow do not start one each ...
        state = WALCheckpointer.Pacing(scheduled: false, backfilled: 16_040, lastCopied: 40, lastEnded: now)
        #expect(!WALCheckpointer.shouldStart(state, pages: 16_100, background: 16_000, now: now + .milliseconds(5)))
        #expect(!WALCheckpointer.shouldStart(state, pages: 20_039, background: 16_000, now: now + .milliseconds(500)))
        // ... until a quarter of the threshold waits to be copied,
        #expect(WALCheckpointer.shouldStart(state, pages: 20_040, background: 16_000, now: now + .milliseconds(500)))
        // or the commits slowed down (a second since the last one ended).
        #expect(WALCheckpointer.shouldStart(state, pages: 16_100, background: 16_000, now: now + .seconds(1)))
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
