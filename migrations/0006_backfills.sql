-- Backfills (`refit backfill`): what an operator asked for, and which windows it queued, so
-- `refit backfills` can show each one's progress and `refit backfill --wait` knows when it is done.
CREATE TABLE backfills (
    id          INTEGER PRIMARY KEY,
    pipeline    TEXT NOT NULL CHECK (length(pipeline) > 0),
    -- The activities it covers, as a JSON array of names.
    activities  TEXT NOT NULL CHECK (json_valid(activities)),
    "from"      TEXT NOT NULL CHECK ("from" GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    "to"        TEXT NOT NULL CHECK ("to" GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    mode        TEXT NOT NULL CHECK (mode IN ('missing', 'failed', 'all')),
    "order"     TEXT NOT NULL CHECK ("order" IN ('OldestFirst', 'NewestFirst')),
    reason      TEXT,
    actor       TEXT NOT NULL CHECK (length(actor) > 0),
    created_at  TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    CHECK ("to" > "from")
) STRICT;

CREATE TABLE backfill_windows (
    backfill_id  INTEGER NOT NULL REFERENCES backfills (id),
    window_id    INTEGER NOT NULL REFERENCES windows (id),
    PRIMARY KEY (backfill_id, window_id)
) STRICT, WITHOUT ROWID;
