-- Refit schema, version 1. Forward only: once landed, this file never changes (the store
-- refuses a database whose recorded sha256 differs); later changes go into 0002_*.sql ...
--
-- Conventions
--   * Every table is STRICT; state names are CHECKed so a typo cannot enter the database.
--   * Times are ISO 8601 UTC TEXT with whole seconds and a 'Z': 'YYYY-MM-DDTHH:MM:SSZ'.
--     One fixed format makes text comparison equal time comparison (leases, due times).
--   * Hashes are lowercase hex SHA-256 (64 characters).
--   * JSON columns hold valid JSON (json_valid), never secrets.
--   * Writers use short BEGIN IMMEDIATE transactions; claims are conditional UPDATEs.

-- Resolved definitions as loaded. A run names the sha256 of the definition it used, so
-- history stays explainable after the schedules folder changes.
CREATE TABLE definitions (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('linkedService', 'dataset', 'pipeline')),
    name       TEXT NOT NULL CHECK (length(name) > 0),
    sha256     TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
    json       TEXT NOT NULL CHECK (json_valid(json)),
    loaded_at  TEXT NOT NULL CHECK (loaded_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    UNIQUE (kind, name, sha256)
) STRICT;
CREATE INDEX definitions_latest ON definitions (kind, name, id);

-- Operator controls per pipeline (refit pause / resume). A missing row means "not paused".
CREATE TABLE pipeline_controls (
    pipeline    TEXT PRIMARY KEY CHECK (length(pipeline) > 0),
    paused      INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    reason      TEXT,
    updated_at  TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z')
) STRICT, WITHOUT ROWID;

-- Dataset slices with ADF states. External slices move Waiting -> (Validating) -> Ready by
-- probing storage; internal slices become Ready when the producing activity window succeeds.
CREATE TABLE slices (
    id             INTEGER PRIMARY KEY,
    dataset        TEXT NOT NULL CHECK (length(dataset) > 0),
    slice_start    TEXT NOT NULL CHECK (slice_start GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    slice_end      TEXT NOT NULL CHECK (slice_end GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    state          TEXT NOT NULL DEFAULT 'Waiting'
                   CHECK (state IN ('Waiting', 'InProgress', 'Ready', 'Failed', 'Skipped', 'None')),
    substate       TEXT CHECK (substate IS NULL OR substate IN (
                       'ScheduleTime', 'DatasetDependencies', 'ComputeResources', 'ConcurrencyLimit',
                       'ActivityResume', 'Retry', 'LongRetry', 'Validation', 'ValidationRetry',
                       'Validating', 'TimedOut', 'Canceled', 'Superseded')),
    -- Names, sizes and etags/mtimes of the data seen when the slice became Ready (D11).
    fingerprint    TEXT CHECK (fingerprint IS NULL OR json_valid(fingerprint)),
    check_count    INTEGER NOT NULL DEFAULT 0 CHECK (check_count >= 0),
    next_check_at  TEXT CHECK (next_check_at IS NULL OR next_check_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    -- Why the slice is not Ready (absent detail, probe error, validation failure); never a secret.
    message        TEXT,
    updated_at     TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    CHECK (slice_end > slice_start),
    UNIQUE (dataset, slice_start)
) STRICT;
-- External data probes due now: WHERE state = 'Waiting' AND next_check_at <= :now.
CREATE INDEX slices_due_checks ON slices (next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX slices_by_state ON slices (dataset, state, slice_start);

-- Activity windows: one per (pipeline, activity, window start). A worker claims one with a
-- conditional UPDATE that sets lease_owner/lease_expires_at, increments attempts and sets
-- state InProgress in one statement; a lease that expires lets another worker resume.
CREATE TABLE windows (
    id                 INTEGER PRIMARY KEY,
    pipeline           TEXT NOT NULL CHECK (length(pipeline) > 0),
    activity           TEXT NOT NULL CHECK (length(activity) > 0),
    window_start       TEXT NOT NULL CHECK (window_start GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    window_end         TEXT NOT NULL CHECK (window_end GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    state              TEXT NOT NULL DEFAULT 'Waiting'
                       CHECK (state IN ('Waiting', 'InProgress', 'Ready', 'Failed', 'Skipped', 'None')),
    substate           TEXT CHECK (substate IS NULL OR substate IN (
                           'ScheduleTime', 'DatasetDependencies', 'ComputeResources', 'ConcurrencyLimit',
                           'ActivityResume', 'Retry', 'LongRetry', 'Validation', 'ValidationRetry',
                           'Validating', 'TimedOut', 'Canceled', 'Superseded')),
    -- Attempts started in the current retry budget (crash-lost attempts count too, D5).
    attempts           INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- 0-based longRetry round the attempts belong to.
    long_retry_round   INTEGER NOT NULL DEFAULT 0 CHECK (long_retry_round >= 0),
    -- Earliest time the window may start its next attempt (due time, retry or longRetry delay).
    next_attempt_at    TEXT CHECK (next_attempt_at IS NULL OR next_attempt_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    -- The trigger the next runs row records: schedule, backfill, rerun or retry.
    next_trigger       TEXT NOT NULL DEFAULT 'schedule'
                       CHECK (next_trigger IN ('schedule', 'backfill', 'rerun', 'retry')),
    -- Claim order: higher priority first (operator reruns), then executionPriorityOrder
    -- on window_start (OldestFirst / NewestFirst) decided by the caller's ORDER BY.
    priority           INTEGER NOT NULL DEFAULT 0,
    lease_owner        TEXT,
    lease_expires_at   TEXT CHECK (lease_expires_at IS NULL OR lease_expires_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    -- sha256 of the pipeline definition the window was materialized (or last reset) with.
    definition_sha256  TEXT CHECK (definition_sha256 IS NULL OR (length(definition_sha256) = 64 AND definition_sha256 NOT GLOB '*[^0-9a-f]*')),
    updated_at         TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    CHECK (window_end > window_start),
    CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL)),
    UNIQUE (pipeline, activity, window_start)
) STRICT;
-- Claimable windows of one activity: state = 'Waiting' AND next_attempt_at <= :now, plus the
-- InProgress count for the concurrency cap, both checked inside the claiming transaction.
CREATE INDEX windows_claimable ON windows (pipeline, activity, state, next_attempt_at);
-- Expired leases (dead workers): WHERE lease_expires_at < :now.
CREATE INDEX windows_leases ON windows (lease_expires_at) WHERE lease_owner IS NOT NULL;

-- How far each activity's windows have been materialized, so a tick costs O(new work),
-- not O(history). Windows before materialized_until exist as rows.
CREATE TABLE watermarks (
    pipeline            TEXT NOT NULL CHECK (length(pipeline) > 0),
    activity            TEXT NOT NULL CHECK (length(activity) > 0),
    materialized_until  TEXT NOT NULL CHECK (materialized_until GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    updated_at          TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    PRIMARY KEY (pipeline, activity)
) STRICT, WITHOUT ROWID;

-- One row per attempt (refit history). Written in the same transaction as the claim that
-- started it; finished in the same transaction as the window's state change.
CREATE TABLE runs (
    run_id             TEXT PRIMARY KEY CHECK (length(run_id) > 0),
    window_id          INTEGER NOT NULL REFERENCES windows (id),
    attempt            INTEGER NOT NULL CHECK (attempt >= 1),
    "trigger"          TEXT NOT NULL CHECK ("trigger" IN ('schedule', 'backfill', 'rerun', 'retry')),
    status             TEXT NOT NULL DEFAULT 'InProgress'
                       CHECK (status IN ('InProgress', 'Succeeded', 'Failed', 'TimedOut', 'Canceled', 'Skipped')),
    substatus          TEXT,
    worker_id          TEXT NOT NULL CHECK (length(worker_id) > 0),
    started_at         TEXT NOT NULL CHECK (started_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    ended_at           TEXT CHECK (ended_at IS NULL OR ended_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    -- transient | terminal | timeout | canceled | crash ... (the worker's classification).
    error_class        TEXT,
    -- One sentence, already redacted: never a secret.
    error_message      TEXT,
    -- The external job (e.g. BES job id) once recorded; a recorded job is polled, never resubmitted.
    external_job_id    TEXT,
    -- What a successful attempt reported (metrics, evaluation summary), as JSON.
    result             TEXT CHECK (result IS NULL OR json_valid(result)),
    definition_sha256  TEXT NOT NULL CHECK (length(definition_sha256) = 64 AND definition_sha256 NOT GLOB '*[^0-9a-f]*'),
    -- A run is open exactly while it is InProgress.
    CHECK ((status = 'InProgress') = (ended_at IS NULL)),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
) STRICT;
CREATE INDEX runs_by_window ON runs (window_id, attempt);
CREATE INDEX runs_by_start ON runs (started_at);
CREATE INDEX runs_by_status ON runs (status, started_at);

-- The durable journal: a step writes its intent before its effect and its result after.
-- On re-execution the worker reads it first (resume a recorded job id, skip done steps).
CREATE TABLE steps (
    run_id      TEXT NOT NULL REFERENCES runs (run_id),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    name        TEXT NOT NULL CHECK (length(name) > 0),
    state       TEXT NOT NULL DEFAULT 'intent' CHECK (state IN ('intent', 'done', 'failed')),
    intent      TEXT NOT NULL CHECK (json_valid(intent)),
    result      TEXT CHECK (result IS NULL OR json_valid(result)),
    started_at  TEXT NOT NULL CHECK (started_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    ended_at    TEXT CHECK (ended_at IS NULL OR ended_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    CHECK ((state = 'intent') = (ended_at IS NULL)),
    PRIMARY KEY (run_id, seq),
    UNIQUE (run_id, name)
) STRICT, WITHOUT ROWID;

-- What a run produced: trained model locations and their evaluations (deterministic per window).
CREATE TABLE outputs (
    id          INTEGER PRIMARY KEY,
    run_id      TEXT NOT NULL REFERENCES runs (run_id),
    name        TEXT NOT NULL CHECK (length(name) > 0),
    location    TEXT NOT NULL CHECK (length(location) > 0),
    evaluation  TEXT CHECK (evaluation IS NULL OR json_valid(evaluation)),
    created_at  TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    UNIQUE (run_id, name)
) STRICT;
CREATE INDEX outputs_by_location ON outputs (location);

-- Which model serves on which endpoint since when, and what it replaced (lineage, rollback).
-- Append-only. Monotonic per endpoint (D14): a new row may not put a model trained on an
-- older window in front of the one serving, unless forced (operator --force or rollback).
CREATE TABLE deployments (
    id                      INTEGER PRIMARY KEY,
    endpoint                TEXT NOT NULL CHECK (length(endpoint) > 0),
    model_location          TEXT NOT NULL CHECK (length(model_location) > 0),
    -- Window the model was trained on; this is what monotonicity compares.
    model_window_start      TEXT NOT NULL CHECK (model_window_start GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    model_window_end        TEXT CHECK (model_window_end IS NULL OR model_window_end GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    -- The training output deployed, when Refit produced it.
    output_id               INTEGER REFERENCES outputs (id),
    -- The update-resource run that deployed it.
    run_id                  TEXT NOT NULL REFERENCES runs (run_id),
    deployed_at             TEXT NOT NULL CHECK (deployed_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    replaced_deployment_id  INTEGER REFERENCES deployments (id),
    -- Why: 'schedule', 'backfill', 'rerun', 'force', 'rollback', or a sentence.
    reason                  TEXT NOT NULL CHECK (length(reason) > 0),
    -- 1 when an operator explicitly allowed an older model (audited).
    forced                  INTEGER NOT NULL DEFAULT 0 CHECK (forced IN (0, 1)),
    UNIQUE (run_id, endpoint)
) STRICT;
CREATE INDEX deployments_by_endpoint ON deployments (endpoint, id);

CREATE TRIGGER deployments_monotonic BEFORE INSERT ON deployments
WHEN NEW.forced = 0 AND EXISTS (
    SELECT 1 FROM deployments AS current
    WHERE current.id = (SELECT max(id) FROM deployments WHERE endpoint = NEW.endpoint)
      AND current.model_window_start > NEW.model_window_start)
BEGIN
    SELECT RAISE(ABORT, 'deployment would replace a model trained on a newer window (superseded)');
END;
CREATE TRIGGER deployments_no_update BEFORE UPDATE ON deployments
BEGIN
    SELECT RAISE(ABORT, 'deployments are append-only');
END;
CREATE TRIGGER deployments_no_delete BEFORE DELETE ON deployments
BEGIN
    SELECT RAISE(ABORT, 'deployments are append-only');
END;

-- Append-only audit log, hash-chained: hash = sha256(prev_hash || canonical fields), computed
-- by RefitStore's appendEvent in the inserting transaction. Editing or deleting a row breaks
-- the chain, which verifyEventChain reports; the triggers refuse it outright.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    kind          TEXT NOT NULL CHECK (length(kind) > 0),
    pipeline      TEXT,
    activity      TEXT,
    window_start  TEXT CHECK (window_start IS NULL OR window_start GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    run_id        TEXT,
    detail        TEXT NOT NULL CHECK (json_valid(detail)),
    prev_hash     TEXT NOT NULL CHECK (length(prev_hash) = 64 AND prev_hash NOT GLOB '*[^0-9a-f]*'),
    hash          TEXT NOT NULL UNIQUE CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*')
) STRICT;
CREATE INDEX events_by_run ON events (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX events_by_window ON events (pipeline, activity, window_start);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
