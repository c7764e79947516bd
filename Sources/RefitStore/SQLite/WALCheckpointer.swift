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
/// at the first write after a checkpoint copied all of it; under a stream of commits only the
/// writer can copy all of it, so the commit after each background checkpoint copies the few
/// frames it left (`decide`), and the log stays bounded.
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

    /// What the pacing rules (`decide`) know of the checkpoints so far.
    struct Pacing: Sendable {
        /// A background checkpoint is scheduled or running.
        var scheduled = false
        /// How far into the log the last checkpoint copied (frames; 0 before the first).
        var backfilled = 0
        /// A background checkpoint ended: the writer's next commit copies what it left.
        var finishInline = false
        /// When the last background checkpoint ended.
        var lastEnded: ContinuousClock.Instant?
    }
    private let pacing = Mutex(Pacing())

    /// What a commit does about the log (`decide`).
    enum Action: Equatable {
        case nothing
        /// Start a background checkpoint.
        case background
        /// Checkpoint now, on the writer's connection.
        case inline
    }

    init(path: String, busyTimeoutMilliseconds: Int) {
        self.path = path
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
    }

    /// Called by the writer's connection after each commit with the log's size in pages. Returns
    /// true when the caller should checkpoint inline, then tell `checkpointedInline`.
    func logGrew(to pages: Int) -> Bool {
        let (background, inline, pause) = thresholds.withLock { $0 }
        let now = ContinuousClock.now
        let action = pacing.withLock { state in
            let action = Self.decide(state, pages: pages, background: background, inline: inline, pause: pause, now: now)
            switch action {
            case .nothing: break
            case .background: state.scheduled = true
            case .inline: state.finishInline = false
            }
            return action
        }
        switch action {
        case .nothing:
            return false
        case .inline:
            return true
        case .background:
            queue.async {
                let copied = self.checkpoint()
                self.pacing.withLock { state in
                    state.scheduled = false
                    state.lastEnded = ContinuousClock.now
                    guard let copied else { return }
                    state.backfilled = copied
                    state.finishInline = true
                }
            }
            return false
        }
    }

    /// The writer's connection checkpointed inline: `copied` of the log's frames are in the file.
    func checkpointedInline(copied: Int) {
        pacing.withLock { $0.backfilled = copied }
    }

    /// What a commit that left `pages` frames in the log does. Below the background threshold,
    /// nothing; past the inline one, an inline checkpoint (the writes outran the background).
    ///
    /// In between: SQLite starts the log over at a write that began with the whole log copied,
    /// and a checkpoint on another connection never copies the frames the writer commits while
    /// it runs, so under a stream of commits the log never started over. It grew to the inline
    /// threshold (64,000 pages, 264 MB) in the 720-slice chain, and every commit past the
    /// background threshold started another background checkpoint of a few frames, each waiting
    /// for the disk twice (184 of them). Now the commit after a background checkpoint copies what
    /// it left inline (a few hundred frames, once per background checkpoint), and the commit after
    /// that starts the log over; if more than a quarter of the threshold piled up meanwhile,
    /// another background checkpoint goes first. Otherwise a background checkpoint starts when a
    /// quarter of the threshold waits to be copied, or when the last one ended `pause` ago (a
    /// reader held the log when it should have started over, and the writes slowed down).
    static func decide(_ state: Pacing, pages: Int, background: Int, inline: Int, pause: Duration = defaultPause,
                       now: ContinuousClock.Instant) -> Action {
        if pages >= inline { return .inline }
        guard !state.scheduled else { return .nothing }
        let step = max(1, background / 4)
        let waiting = pages >= state.backfilled ? pages - state.backfilled : pages
        if state.finishInline { return waiting < step || pages < background ? .inline : .background }
        guard pages >= background else { return .nothing }
        let idle = state.lastEnded.map { now - $0 >= pause } ?? true
        return waiting >= step || idle ? .background : .nothing
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

    /// One background checkpoint: how far into the log the database file now holds (frames), or
    /// nil when it failed.
    private func checkpoint() -> Int? {
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
                // A remainder the background checkpoint left, or a log that outgrew them: copy
                // what can be copied now.
                if let copied = SQLiteConnection.checkpointPassive(db, schema: schema) {
                    checkpointer.checkpointedInline(copied: copied)
                }
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(checkpointer).toOpaque())
    }

    /// One PASSIVE checkpoint on this connection (see `checkpointPassive(_:schema:)`).
    @discardableResult
    func checkpointPassive() -> Int? { Self.checkpointPassive(handle, schema: nil) }

    /// One PASSIVE checkpoint of `schema` (nil: every database of the connection) on `db`:
    /// copies what it can without waiting for any lock. Returns how many of the log's frames the
    /// database file now holds, or nil on failure.
    static func checkpointPassive(_ db: OpaquePointer, schema: UnsafePointer<CChar>?) -> Int? {
        var log: Int32 = 0
        var copied: Int32 = 0
        guard sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) == SQLITE_OK else { return nil }
        return Int(copied)
    }
}
