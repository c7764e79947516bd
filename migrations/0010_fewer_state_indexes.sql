-- Refit schema, version 10: one index fewer on windows.
--
-- windows_by_next_attempt (state, next_attempt_at) served the next wake-up among Waiting
-- windows; since version 4 that query reads windows_runnable_next, and the few statements that
-- still chose it (counts by state) read windows_by_state as well. Every claim and finish moved
-- the row in it: about 5% of the pages a backfill writes to the log.
DROP INDEX IF EXISTS windows_by_next_attempt;
