-- Refit schema, version 10: one index fewer on windows.
--
-- windows_by_next_attempt (state, next_attempt_at) served the next wake-up among Waiting
-- windows; since version 4 that query matches windows_runnable_next, and counts by state read
-- windows_by_state. Every claim and finish moved the row in it.
DROP INDEX IF EXISTS windows_by_next_attempt;
