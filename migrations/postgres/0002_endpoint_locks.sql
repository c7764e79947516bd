-- Refit schema for PostgreSQL, version 2 (as migrations/0002_endpoint_locks.sql): one
-- update-resource attempt at a time per scoring endpoint. The check and the write run under a
-- transaction-scoped advisory lock on the endpoint, so two hosts cannot both take it.
CREATE TABLE endpoint_locks (
    endpoint     text PRIMARY KEY CHECK (length(endpoint) > 0),
    run_id       text NOT NULL REFERENCES runs (run_id),
    acquired_at  timestamptz NOT NULL
);
