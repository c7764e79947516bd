-- Refit schema, version 9: the worker processes of every host, for `refit status`.
--
-- Each `refit run` (and `refit tick`) registers here when it starts, stamps last_heartbeat_at
-- with the server's clock at most once per heartbeat interval (one upsert, which sends no
-- NOTIFY: heartbeats never wake other workers), and sets stopped_at when it ends gracefully. A
-- worker that was killed keeps a row whose heartbeat grows old: status calls it silent. Rows
-- stopped or silent for more than seven days are deleted when a worker registers. This is live
-- state, not history: `refit db copy` leaves it.
CREATE TABLE workers (
    -- host:pid:start-nonce, as in windows.lease_owner and runs.worker_id.
    worker_id          text PRIMARY KEY CHECK (length(worker_id) > 0),
    host               text NOT NULL,
    pid                bigint NOT NULL,
    -- What the process is: a daemon ('run') or one invocation ('tick').
    command            text NOT NULL CHECK (command IN ('run', 'tick')),
    -- The worker's heartbeat interval: status judges silence against it.
    heartbeat_seconds  bigint NOT NULL CHECK (heartbeat_seconds >= 1),
    started_at         timestamptz NOT NULL,
    last_heartbeat_at  timestamptz NOT NULL,
    stopped_at         timestamptz
);
CREATE INDEX workers_last_heartbeat ON workers (last_heartbeat_at);
