-- Refit schema for PostgreSQL, version 3 (as migrations/0003_tick_indexes.sql): indexes that
-- keep a scheduling pass independent of history.
CREATE INDEX windows_by_state ON windows (state, pipeline, activity);
CREATE INDEX windows_by_next_attempt ON windows (state, next_attempt_at);
CREATE INDEX slices_waiting_next ON slices (next_check_at) WHERE state = 'Waiting';
