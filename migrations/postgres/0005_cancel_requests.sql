-- Refit schema for PostgreSQL, version 5 (as migrations/0005_cancel_requests.sql): operators
-- cancel running attempts across processes and hosts.
CREATE TABLE cancel_requests (
    run_id        text PRIMARY KEY REFERENCES runs (run_id),
    requested_at  timestamptz NOT NULL,
    actor         text NOT NULL CHECK (length(actor) > 0),
    reason        text
);
