-- Refit schema for PostgreSQL, version 4 (as migrations/0004_incremental_readiness.sql):
-- readiness kept incrementally (window_inputs, windows.missing_inputs), activity outputs, and
-- what each attempt read (lineage).
ALTER TABLE windows ADD COLUMN missing_inputs integer CHECK (missing_inputs IS NULL OR missing_inputs >= 0);

CREATE TABLE window_inputs (
    window_id    bigint NOT NULL REFERENCES windows (id),
    dataset      text NOT NULL CHECK (length(dataset) > 0),
    slice_start  timestamptz NOT NULL,
    slice_end    timestamptz NOT NULL,
    ready        integer NOT NULL CHECK (ready IN (0, 1)),
    PRIMARY KEY (window_id, dataset, slice_start)
);
CREATE INDEX window_inputs_by_slice ON window_inputs (dataset, slice_start, ready);

CREATE TABLE activity_outputs (
    pipeline  text NOT NULL CHECK (length(pipeline) > 0),
    activity  text NOT NULL CHECK (length(activity) > 0),
    dataset   text NOT NULL CHECK (length(dataset) > 0),
    PRIMARY KEY (pipeline, activity, dataset)
);
CREATE INDEX activity_outputs_by_dataset ON activity_outputs (dataset);

CREATE TABLE run_inputs (
    run_id           text NOT NULL REFERENCES runs (run_id),
    dataset          text NOT NULL CHECK (length(dataset) > 0),
    slice_start      timestamptz NOT NULL,
    slice_end        timestamptz NOT NULL,
    fingerprint      text CHECK (fingerprint IS NULL OR (fingerprint::jsonb) IS NOT NULL),
    producer_run_id  text,
    PRIMARY KEY (run_id, dataset, slice_start)
);
CREATE INDEX run_inputs_by_slice ON run_inputs (dataset, slice_start);
CREATE INDEX run_inputs_by_producer ON run_inputs (producer_run_id) WHERE producer_run_id IS NOT NULL;

CREATE INDEX windows_runnable ON windows (pipeline, activity, priority, window_start)
    WHERE state = 'Waiting' AND missing_inputs = 0;
CREATE INDEX windows_runnable_next ON windows (next_attempt_at) WHERE state = 'Waiting' AND missing_inputs = 0;
CREATE INDEX windows_unresolved ON windows (id) WHERE state = 'Waiting' AND missing_inputs IS NULL;
CREATE INDEX windows_waiting_labels ON windows (pipeline, substate) WHERE state = 'Waiting';
