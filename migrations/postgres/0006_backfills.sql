-- Refit schema for PostgreSQL, version 6 (as migrations/0006_backfills.sql): backfills and the
-- windows each one queued.
CREATE TABLE backfills (
    id          bigserial PRIMARY KEY,
    pipeline    text NOT NULL CHECK (length(pipeline) > 0),
    activities  text NOT NULL CHECK ((activities::jsonb) IS NOT NULL),
    "from"      timestamptz NOT NULL,
    "to"        timestamptz NOT NULL,
    mode        text NOT NULL CHECK (mode IN ('missing', 'failed', 'all')),
    "order"     text NOT NULL CHECK ("order" IN ('OldestFirst', 'NewestFirst')),
    reason      text,
    actor       text NOT NULL CHECK (length(actor) > 0),
    created_at  timestamptz NOT NULL,
    CHECK ("to" > "from")
);

CREATE TABLE backfill_windows (
    backfill_id  bigint NOT NULL REFERENCES backfills (id),
    window_id    bigint NOT NULL REFERENCES windows (id),
    PRIMARY KEY (backfill_id, window_id)
);
