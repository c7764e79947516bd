-- Refit schema, version 9: the worker processes of every host, for `refit status`.
--
-- Each `refit run` (and `refit tick`) registers here when it starts, stamps last_heartbeat_at
-- at most once per heartbeat interval (one upsert; idle workers write nothing more often), and
-- sets stopped_at when it ends gracefully. A worker that was killed keeps a row whose heartbeat
-- grows old: status calls it silent. Rows stopped or silent for more than seven days are
-- deleted when a worker registers. This is live state, not history: `refit db copy` leaves it.
CREATE TABLE workers (
    -- host:pid:start-nonce, as in windows.lease_owner and runs.worker_id.
    worker_id          TEXT PRIMARY KEY CHECK (length(worker_id) > 0),
    host               TEXT NOT NULL,
    pid                INTEGER NOT NULL,
    -- What the process is: a daemon ('run') or one invocation ('tick').
    command            TEXT NOT NULL CHECK (command IN ('run', 'tick')),
    -- The worker's heartbeat interval: status judges silence against it.
    heartbeat_seconds  INTEGER NOT NULL CHECK (heartbeat_seconds >= 1),
    started_at         TEXT NOT NULL CHECK (started_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    last_heartbeat_at  TEXT NOT NULL CHECK (last_heartbeat_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    stopped_at         TEXT CHECK (stopped_at IS NULL OR stopped_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z')
) STRICT, WITHOUT ROWID;
CREATE INDEX workers_last_heartbeat ON workers (last_heartbeat_at);
