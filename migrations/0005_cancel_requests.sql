-- Refit schema, version 5: operators cancel running attempts across processes.
--
-- `refit cancel RUN_ID` (and `refit pause --terminate`) records a request here; the worker
-- running the attempt notices within about a second, stops it (DELETEing its batch job) and
-- records it Canceled. A request for an attempt whose worker is gone is applied when its lease
-- is recovered.
CREATE TABLE cancel_requests (
    run_id        TEXT PRIMARY KEY REFERENCES runs (run_id),
    requested_at  TEXT NOT NULL CHECK (requested_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    actor         TEXT NOT NULL CHECK (length(actor) > 0),
    reason        TEXT
) STRICT, WITHOUT ROWID;
