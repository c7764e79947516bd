-- Refit schema, version 8: finding PATCHes whose outcome is unknown without reading every step.
--
-- Before an update attempt takes its endpoint, the store looks for `patch` steps that did not
-- end done (a worker died between the PATCH and its journal entry, or the call failed): those
-- hold the endpoint back or make an older window superseded. They are rare, so a partial index
-- of just them keeps that check constant-time however long the history.
CREATE INDEX steps_patch_unsettled ON steps (run_id) WHERE name = 'patch' AND state <> 'done';
