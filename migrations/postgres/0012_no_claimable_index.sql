-- Refit schema, version 12: one index fewer on windows, as on SQLite.
--
-- windows_claimable (pipeline, activity, state, next_attempt_at) served the claim before
-- version 4; claims now read windows_runnable, and the readers that used it are served by the
-- unique index on (pipeline, activity, window_start) or by windows_by_state. Every claim and
-- finish updated it.
DROP INDEX IF EXISTS windows_claimable;
