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
    private let thresholds = Mutex((background: WALCheckpointer.defaultThreshold, inline: WALCheckpointer.defaultInlineThreshold))
    var threshold: Int { thresholds.withLock { $0.background } }
    var inlineThreshold: Int { thresholds.withLock { $0.inline } }

    /// Lowers (or raises) the thresholds: tests reach them with fewer commits.
    func useThresholds(background: Int, inline: Int) {
        thresholds.withLock { $0 = (background, inline) }
    }

    private let path: String
    private let busyTimeoutMilliseconds: Int
    private let queue = DispatchQueue(label: "refit.sqlite.checkpoint", qos: .utility)
    private let scheduled = Atomic<Bool>(false)
    private var connection: SQLiteConnection?
    private var closed = false

    init(path: String, busyTimeoutMilliseconds: Int) {
        self.path = path
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
    }

    /// Called by the writer's connection after each commit with the log's size in pages. Returns
    /// true when the caller should checkpoint inline (the log has grown past `inlineThreshold`).
    func logGrew(to pages: Int) -> Bool {
        let (background, inline) = thresholds.withLock { $0 }
        if pages >= inline { return true }
        guard pages >= background,
              scheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return false }
        queue.async {
            self.checkpoint()
            self.scheduled.store(false, ordering: .releasing)
        }
        return false
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

    private func checkpoint() {
        guard !closed else { return }
        do {
            if connection == nil {
                connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            }
            // Failures (another process checkpointing, a full disk) leave the log as it is: the
            // next commit past the threshold tries again.
            _ = connection?.checkpointPassive()
        } catch {
            return
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

    /// One PASSIVE checkpoint: copies what it can without waiting for any lock.
    @discardableResult
    func checkpointPassive() -> Bool {
        sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) == SQLITE_OK
    }
}
