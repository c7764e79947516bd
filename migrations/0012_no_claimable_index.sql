-- Refit schema, version 12: one index fewer on windows.
--
-- windows_claimable (pipeline, activity, state, next_attempt_at) was the claim's index before
-- version 4; since then claims read windows_runnable. Every statement that still chose it is
-- served as well by the unique index on (pipeline, activity, window_start), which has the same
-- leading columns, or by windows_by_state: the per-pipeline count by state now lists the states
-- so that it reads windows_by_state alone. Every claim and every finish moved the window's entry
-- in it, one more page written to the log each time.
DROP INDEX IF EXISTS windows_claimable;
