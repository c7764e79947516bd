import CSQLite
import Dispatch
import Synchronization

/// Copies a database's write-ahead log back into the database file on a thread of its own, so
/// that the writes of the serial executor never wait for it.
///
/// SQLite's own automatic checkpoint runs inside the COMMIT that takes the log past 1,000 pages:
/// that commit writes the pages to the database file and waits for the disk twice (`fsync`), and
/// every call queued behind it on the executor waits too. On a worker that was most of the wall
/// time of a busy run. Here the commit only notes the log's size (the connection's WAL hook);
/// past `threshold` pages a second connection runs a PASSIVE checkpoint on a utility queue,
/// which never blocks the writer or the readers. SQLite starts the log over from its beginning
/// at the first write after a checkpoint copied all of it, so the file stays about as small as
/// with the automatic checkpoint.
///
/// Durability is the same: a commit is durable once it is in the log, checkpointed or not. If
/// the log still grows past `inlineThreshold` pages (writes faster than the checkpoints, for a
/// long while), the commit checkpoints inline again, as SQLite would.
final class WALCheckpointer: @unchecked Sendable {
    // @unchecked: `connection` and `closed` are only touched on `queue`; `scheduled` is atomic.
    /// Pages of log that start a background checkpoint: 16,000 pages of 4 KB (64 MB). Far larger
    /// than SQLite's default (1,000), because a checkpoint copies each page once however often it
    /// was rewritten since the last one, and a worker rewrites the same few index pages at every
    /// claim and finish; each checkpoint also waits for the disk twice (decision record 27).
    static let defaultThreshold = 16_000
    /// Pages of log past which a commit checkpoints inline (the writes outran the checkpoints).
    static let defaultInlineThreshold = 64_000
    /// How long after a checkpoint the writes count as paused (see `shouldStart`).
    static let defaultPause = Duration.seconds(1)
    private let thresholds = Mutex((background: WALCheckpointer.defaultThreshold, inline: WALCheckpointer.defaultInlineThreshold,
                                    pause: WALCheckpointer.defaultPause))
    var threshold: Int { thresholds.withLock { $0.background } }
    var inlineThreshold: Int { thresholds.withLock { $0.inline } }

    /// Lowers (or raises) the thresholds and the pause: tests reach them with fewer commits.
    func useThresholds(background: Int, inline: Int, pause: Duration = WALCheckpointer.defaultPause) {
        thresholds.withLock { $0 = (background, inline, pause) }
    }

    private let path: String
    private let busyTimeoutMilliseconds: Int
    private let queue = DispatchQueue(label: "refit.sqlite.checkpoint", qos: .utility)
    private var connection: SQLiteConnection?
    private var closed = false

    /// What the pacing rule (`shouldStart`) knows of the checkpoints so far.
    struct Pacing: Sendable {
        /// A checkpoint is scheduled or running.
        var scheduled = false
        /// How far into the log the last checkpoint copied (frames; 0 before the first).
        var backfilled = 0
        /// How many frames the last checkpoint copied.
        var lastCopied = 0
        /// When the last checkpoint ended.
        var lastEnded: ContinuousClock.Instant?
    }
    private let pacing = Mutex(Pacing())

    init(path: String, busyTimeoutMilliseconds: Int) {
        self.path = path
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
    }

    /// Called by the writer's connection after each commit with the log's size in pages. Returns
    /// true when the caller should checkpoint inline (the log has grown past `inlineThreshold`).
    func logGrew(to pages: Int) -> Bool {
        let (background, inline, pause) = thresholds.withLock { $0 }
        if pages >= inline { return true }
        guard pages >= background else { return false }
        let now = ContinuousClock.now
        let start = pacing.withLock { state in
            guard Self.shouldStart(state, pages: pages, background: background, pause: pause, now: now) else { return false }
            state.scheduled = true
            return true
        }
        guard start else { return false }
        queue.async {
            let result = self.checkpoint()
            self.pacing.withLock { state in
                state.scheduled = false
                state.lastEnded = ContinuousClock.now
                if let (log, copied) = result {
                    // The log starts over after a complete checkpoint: count from its start then.
                    let before = copied < state.backfilled || log < state.backfilled ? 0 : state.backfilled
                    state.lastCopied = copied - before
                    state.backfilled = copied
                }
            }
        }
        return false
    }

    /// Whether a commit that left `pages` frames in the log (past the background threshold)
    /// starts a checkpoint. A checkpoint that copied everything lets the next commit start the
    /// log over; but while commits keep coming, each checkpoint leaves behind the frames written
    /// as it copied, so the log never starts over and every commit found it past the threshold.
    /// Starting a checkpoint at each of them made a storm of checkpoints of a few frames, each
    /// waiting for the disk twice (184 in the 720-slice chain). So a new one starts when the
    /// last one copied much (it is catching up), when a quarter of the threshold is waiting to be
    /// copied, or when the last one ended `pause` ago (a second: the writes slowed down, so finish
    /// the job and let the log start over).
    static func shouldStart(_ state: Pacing, pages: Int, background: Int, pause: Duration = defaultPause,
                            now: ContinuousClock.Instant) -> Bool {
        guard !state.scheduled else { return false }
        let step = max(1, background / 4)
        let waiting = pages >= state.backfilled ? pages - state.backfilled : pages
        let idle = state.lastEnded.map { now - $0 >= pause } ?? true
        return state.lastCopied >= step || waiting >= step || idle
    }

    /// Waits for a checkpoint that is running or scheduled (tests, and `close`).
    func waitUntilIdle() {
        queue.sync {}
    }

    /// Holds back the checkpoints until `resume()` (tests: a checkpointer that is slow).
    func suspend() { queue.suspend() }
    func resume() { queue.resume() }

    /// Closes the checkpoint connection; later growth of the log is left to the writer's close.
    func close() {
        queue.sync {
            closed = true
            connection?.close()
            connection = nil
        }
    }

    /// One background checkpoint: the log's size and how far into it the database file now
    /// holds (frames), or nil when it failed.
    private func checkpoint() -> (log: Int, copied: Int)? {
        guard !closed else { return nil }
        do {
            if connection == nil {
                connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            }
            // Failures (another process checkpointing, a full disk) leave the log as it is: the
            // next commit past the threshold tries again.
            return connection?.checkpointPassive()
        } catch {
            return nil
        }
    }
}

extension SQLiteConnection {
    /// Hands this connection's checkpoints to `checkpointer` (replacing SQLite's automatic one).
    /// The checkpointer must outlive the connection's use.
    func checkpointInBackground(with checkpointer: WALCheckpointer) {
        sqlite3_wal_hook(handle, { context, db, schema, pages in
            guard let context else { return SQLITE_OK }
            let checkpointer = Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue()
            if checkpointer.logGrew(to: Int(pages)), let db {
                // The log outgrew the background checkpoints: copy what can be copied now.
                sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(checkpointer).toOpaque())
    }

    /// One PASSIVE checkpoint: copies what it can without waiting for any lock. Returns the
    /// log's size and how many of its frames the database file now holds, or nil on failure.
    @discardableResult
    func checkpointPassive() -> (log: Int, copied: Int)? {
        var log: Int32 = 0
        var copied: Int32 = 0
        guard sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) == SQLITE_OK else { return nil }
        return (Int(log), Int(copied))
    }
}
