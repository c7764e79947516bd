-- Refit schema for PostgreSQL, version 1: the tables of migrations/0001_initial.sql (same
-- version numbers, same names and meaning). Forward only: once landed, this file never changes
-- (the store refuses a database whose recorded sha256 differs).
--
-- Conventions
--   * Times are timestamptz (whole seconds are written; leases are stamped by the server's clock).
--     The audit log keeps its times as the ISO 8601 text it hashes.
--   * State names are CHECKed so a typo cannot enter the database.
--   * JSON columns are text that must parse as JSON (the audit hash covers the exact text).
--   * Writers use short transactions; claims lock their row (FOR UPDATE SKIP LOCKED) and take a
--     per-activity advisory lock before counting running attempts.

CREATE TABLE definitions (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('linkedService', 'dataset', 'pipeline')),
    name       text NOT NULL CHECK (length(name) > 0),
    sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    json       text NOT NULL CHECK ((json::jsonb) IS NOT NULL),
    loaded_at  timestamptz NOT NULL,
    UNIQUE (kind, name, sha256)
);
CREATE INDEX definitions_latest ON definitions (kind, name, id);

CREATE TABLE pipeline_controls (
    pipeline    text PRIMARY KEY CHECK (length(pipeline) > 0),
    paused      integer NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    reason      text,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE slices (
    id             bigserial PRIMARY KEY,
    dataset        text NOT NULL CHECK (length(dataset) > 0),
    slice_start    timestamptz NOT NULL,
    slice_end      timestamptz NOT NULL,
    state          text NOT NULL DEFAULT 'Waiting'
                   CHECK (state IN ('Waiting', 'InProgress', 'Ready', 'Failed', 'Skipped', 'None')),
    substate       text CHECK (substate IS NULL OR substate IN (
                       'ScheduleTime', 'DatasetDependencies', 'ComputeResources', 'ConcurrencyLimit',
                       'ActivityResume', 'Retry', 'LongRetry', 'Validation', 'ValidationRetry',
                       'Validating', 'TimedOut', 'Canceled', 'Superseded')),
    fingerprint    text CHECK (fingerprint IS NULL OR (fingerprint::jsonb) IS NOT NULL),
    check_count    integer NOT NULL DEFAULT 0 CHECK (check_count >= 0),
    next_check_at  timestamptz,
    message        text,
    updated_at     timestamptz NOT NULL,
    CHECK (slice_end > slice_start),
    UNIQUE (dataset, slice_start)
);
CREATE INDEX slices_due_checks ON slices (next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX slices_by_state ON slices (dataset, state, slice_start);

CREATE TABLE windows (
    id                 bigserial PRIMARY KEY,
    pipeline           text NOT NULL CHECK (length(pipeline) > 0),
    activity           text NOT NULL CHECK (length(activity) > 0),
    window_start       timestamptz NOT NULL,
    window_end         timestamptz NOT NULL,
    state              text NOT NULL DEFAULT 'Waiting'
                       CHECK (state IN ('Waiting', 'InProgress', 'Ready', 'Failed', 'Skipped', 'None')),
    substate           text CHECK (substate IS NULL OR substate IN (
                           'ScheduleTime', 'DatasetDependencies', 'ComputeResources', 'ConcurrencyLimit',
                           'ActivityResume', 'Retry', 'LongRetry', 'Validation', 'ValidationRetry',
                           'Validating', 'TimedOut', 'Canceled', 'Superseded')),
    attempts           integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    long_retry_round   integer NOT NULL DEFAULT 0 CHECK (long_retry_round >= 0),
    next_attempt_at    timestamptz,
    next_trigger       text NOT NULL DEFAULT 'schedule'
                       CHECK (next_trigger IN ('schedule', 'backfill', 'rerun', 'retry')),
    priority           integer NOT NULL DEFAULT 0,
    lease_owner        text,
    -- Stamped with the server's clock (clock_timestamp() + the lease duration), compared with it too.
    lease_expires_at   timestamptz,
    definition_sha256  text CHECK (definition_sha256 IS NULL OR definition_sha256 ~ '^[0-9a-f]{64}$'),
    updated_at         timestamptz NOT NULL,
    CHECK (window_end > window_start),
    CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL)),
    UNIQUE (pipeline, activity, window_start)
);
CREATE INDEX windows_claimable ON windows (pipeline, activity, state, next_attempt_at);
CREATE INDEX windows_leases ON windows (lease_expires_at) WHERE lease_owner IS NOT NULL;

CREATE TABLE watermarks (
    pipeline            text NOT NULL CHECK (length(pipeline) > 0),
    activity            text NOT NULL CHECK (length(activity) > 0),
    materialized_until  timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (pipeline, activity)
);

CREATE TABLE runs (
    run_id             text PRIMARY KEY CHECK (length(run_id) > 0),
    -- Claim order (SQLite's rowid), for history and "the latest succeeded run".
    seq                bigserial NOT NULL UNIQUE,
    window_id          bigint NOT NULL REFERENCES windows (id),
    attempt            integer NOT NULL CHECK (attempt >= 1),
    "trigger"          text NOT NULL CHECK ("trigger" IN ('schedule', 'backfill', 'rerun', 'retry')),
    status             text NOT NULL DEFAULT 'InProgress'
                       CHECK (status IN ('InProgress', 'Succeeded', 'Failed', 'TimedOut', 'Canceled', 'Skipped')),
    substatus          text,
    worker_id          text NOT NULL CHECK (length(worker_id) > 0),
    started_at         timestamptz NOT NULL,
    ended_at           timestamptz,
    error_class        text,
    error_message      text,
    external_job_id    text,
    result             text CHECK (result IS NULL OR (result::jsonb) IS NOT NULL),
    definition_sha256  text NOT NULL CHECK (definition_sha256 ~ '^[0-9a-f]{64}$'),
    CHECK ((status = 'InProgress') = (ended_at IS NULL)),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX runs_by_window ON runs (window_id, attempt);
CREATE INDEX runs_by_start ON runs (started_at);
CREATE INDEX runs_by_status ON runs (status, started_at);

CREATE TABLE steps (
    run_id      text NOT NULL REFERENCES runs (run_id),
    seq         integer NOT NULL CHECK (seq >= 1),
    name        text NOT NULL CHECK (length(name) > 0),
    state       text NOT NULL DEFAULT 'intent' CHECK (state IN ('intent', 'done', 'failed')),
    intent      text NOT NULL CHECK ((intent::jsonb) IS NOT NULL),
    result      text CHECK (result IS NULL OR (result::jsonb) IS NOT NULL),
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    CHECK ((state = 'intent') = (ended_at IS NULL)),
    PRIMARY KEY (run_id, seq),
    UNIQUE (run_id, name)
);

CREATE TABLE outputs (
    id          bigserial PRIMARY KEY,
    run_id      text NOT NULL REFERENCES runs (run_id),
    name        text NOT NULL CHECK (length(name) > 0),
    location    text NOT NULL CHECK (length(location) > 0),
    evaluation  text CHECK (evaluation IS NULL OR (evaluation::jsonb) IS NOT NULL),
    created_at  timestamptz NOT NULL,
    UNIQUE (run_id, name)
);
CREATE INDEX outputs_by_location ON outputs (location);

CREATE TABLE deployments (
    id                      bigserial PRIMARY KEY,
    endpoint                text NOT NULL CHECK (length(endpoint) > 0),
    model_location          text NOT NULL CHECK (length(model_location) > 0),
    model_window_start      timestamptz NOT NULL,
    model_window_end        timestamptz,
    output_id               bigint REFERENCES outputs (id),
    run_id                  text NOT NULL REFERENCES runs (run_id),
    deployed_at             timestamptz NOT NULL,
    replaced_deployment_id  bigint REFERENCES deployments (id),
    reason                  text NOT NULL CHECK (length(reason) > 0),
    forced                  integer NOT NULL DEFAULT 0 CHECK (forced IN (0, 1)),
    UNIQUE (run_id, endpoint)
);
CREATE INDEX deployments_by_endpoint ON deployments (endpoint, id);

CREATE FUNCTION deployments_monotonic() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.forced = 0 AND EXISTS (
        SELECT 1 FROM deployments AS current
        WHERE current.id = (SELECT max(id) FROM deployments WHERE endpoint = NEW.endpoint)
          AND current.model_window_start > NEW.model_window_start) THEN
        RAISE EXCEPTION 'deployment would replace a model trained on a newer window (superseded)';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER deployments_monotonic BEFORE INSERT ON deployments
    FOR EACH ROW EXECUTE FUNCTION deployments_monotonic();

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% are append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER deployments_no_update BEFORE UPDATE OR DELETE ON deployments
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Append-only audit log, hash-chained exactly as in SQLite (the same text is hashed), so its
-- times stay the ISO 8601 text the hash covers.
CREATE TABLE events (
    id            bigint PRIMARY KEY,
    at            text NOT NULL CHECK (at ~ '^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z$'),
    kind          text NOT NULL CHECK (length(kind) > 0),
    pipeline      text,
    activity      text,
    window_start  text CHECK (window_start IS NULL OR window_start ~ '^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z$'),
    run_id        text,
    detail        text NOT NULL CHECK ((detail::jsonb) IS NOT NULL),
    prev_hash     text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    hash          text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX events_by_run ON events (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX events_by_window ON events (pipeline, activity, window_start);
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
