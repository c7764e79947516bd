-- Indexes that keep a scheduling pass independent of history (rows already Ready, Failed or
-- Skipped), found with `make bench`. Version 1 left these queries scanning every row:
--   * running attempts per activity (the dispatch plan and the claim's concurrency check),
--     and pause/resume labelling of a pipeline's Waiting windows;
--   * the next wake-up among Waiting windows (retry and longRetry delays);
--   * the next external slice check among Waiting slices.

-- WHERE state = 'InProgress' [AND pipeline = ? AND activity = ?], GROUP BY pipeline, activity;
-- WHERE pipeline = ? AND state = 'Waiting' (pause, resume).
CREATE INDEX windows_by_state ON windows (state, pipeline, activity);

-- min(next_attempt_at) WHERE state = 'Waiting' AND next_attempt_at > :now. Not a partial index:
-- with windows_by_state also matching state = ?, the planner picks this one only when it can
-- range over next_attempt_at after the state.
CREATE INDEX windows_by_next_attempt ON windows (state, next_attempt_at);

-- min(next_check_at) WHERE state = 'Waiting'; due checks WHERE state = 'Waiting' AND next_check_at <= :now.
CREATE INDEX slices_waiting_next ON slices (next_check_at) WHERE state = 'Waiting';
