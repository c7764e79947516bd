-- One update-resource attempt at a time per scoring endpoint (D14 across concurrent attempts
-- and worker processes): the check "no newer model serves", the PATCH and the deployment record
-- happen while the attempt holds its endpoint's row here. The lock is held exactly while the
-- holding run is InProgress, so it is released in the same transaction that ends the run (and
-- records the deployment), and a crashed holder's lock frees when lease recovery closes its run.
CREATE TABLE endpoint_locks (
    endpoint     TEXT PRIMARY KEY CHECK (length(endpoint) > 0),
    run_id       TEXT NOT NULL REFERENCES runs (run_id),
    acquired_at  TEXT NOT NULL CHECK (acquired_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z')
) STRICT;
