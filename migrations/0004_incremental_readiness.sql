-- Refit schema, version 4: readiness kept incrementally, so a scheduling pass costs what
-- changed, not the backlog.
--
-- Each window records the input slices it reads (window_inputs) and how many of them are not
-- Ready yet (windows.missing_inputs). Every transition of a dataset slice into or out of Ready
-- (an external check finding data, the producing window ending Ready, a rerun) adjusts the
-- counts of its consumers in the same transaction. A pass then reads a page of runnable windows
-- (missing_inputs = 0) in priority order instead of every Waiting window.

-- Input slices not Ready yet; NULL while the window's inputs are not resolved (new windows,
-- windows from before this version, windows whose pipeline definition changed).
ALTER TABLE windows ADD COLUMN missing_inputs INTEGER CHECK (missing_inputs IS NULL OR missing_inputs >= 0);

-- The input slices of each window, and whether each is Ready.
CREATE TABLE window_inputs (
    window_id    INTEGER NOT NULL REFERENCES windows (id),
    dataset      TEXT NOT NULL CHECK (length(dataset) > 0),
    slice_start  TEXT NOT NULL CHECK (slice_start GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    slice_end    TEXT NOT NULL CHECK (slice_end GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    ready        INTEGER NOT NULL CHECK (ready IN (0, 1)),
    PRIMARY KEY (window_id, dataset, slice_start)
) STRICT, WITHOUT ROWID;
-- The consumers of one slice, for the transition that makes it Ready (or not).
CREATE INDEX window_inputs_by_slice ON window_inputs (dataset, slice_start, ready);

-- Which datasets each activity produces: a window ending Ready makes these datasets' slices at
-- its window start Ready for their consumers.
CREATE TABLE activity_outputs (
    pipeline  TEXT NOT NULL CHECK (length(pipeline) > 0),
    activity  TEXT NOT NULL CHECK (length(activity) > 0),
    dataset   TEXT NOT NULL CHECK (length(dataset) > 0),
    PRIMARY KEY (pipeline, activity, dataset)
) STRICT, WITHOUT ROWID;
CREATE INDEX activity_outputs_by_dataset ON activity_outputs (dataset);

-- What each attempt read: its input slices with the data fingerprint seen (external) or the
-- run that produced them (internal), copied when the attempt is claimed (lineage).
CREATE TABLE run_inputs (
    run_id           TEXT NOT NULL REFERENCES runs (run_id),
    dataset          TEXT NOT NULL CHECK (length(dataset) > 0),
    slice_start      TEXT NOT NULL CHECK (slice_start GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    slice_end        TEXT NOT NULL CHECK (slice_end GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'),
    fingerprint      TEXT CHECK (fingerprint IS NULL OR json_valid(fingerprint)),
    producer_run_id  TEXT,
    PRIMARY KEY (run_id, dataset, slice_start)
) STRICT, WITHOUT ROWID;
CREATE INDEX run_inputs_by_slice ON run_inputs (dataset, slice_start);
CREATE INDEX run_inputs_by_producer ON run_inputs (producer_run_id) WHERE producer_run_id IS NOT NULL;

-- Runnable windows of one activity in claim order: operator priority, then window start.
CREATE INDEX windows_runnable ON windows (pipeline, activity, priority, window_start)
    WHERE state = 'Waiting' AND missing_inputs = 0;
-- The next retry that ends among runnable windows (the run loop's wake-up).
CREATE INDEX windows_runnable_next ON windows (next_attempt_at) WHERE state = 'Waiting' AND missing_inputs = 0;
-- Windows whose inputs still need resolving.
CREATE INDEX windows_unresolved ON windows (id) WHERE state = 'Waiting' AND missing_inputs IS NULL;
-- Pause and resume labels: only the Waiting windows of one pipeline with one label.
CREATE INDEX windows_waiting_labels ON windows (pipeline, substate) WHERE state = 'Waiting';
