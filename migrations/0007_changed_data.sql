-- Refit schema, version 7: changed-data detection.
--
-- A Ready external slice keeps the fingerprint of the data seen when it became Ready. The
-- worker looks again at the slices that became Ready recently; when the data differs (corrected, added, removed
-- files) the slice is marked changed here. It stays Ready — nothing re-runs on its own — until
-- a rerun or an `--mode all` backfill of a window that reads it checks it again.

-- When the change was found (NULL: unchanged), and the data's fingerprint then (NULL: gone).
ALTER TABLE slices ADD COLUMN changed_at TEXT
    CHECK (changed_at IS NULL OR changed_at GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z');
ALTER TABLE slices ADD COLUMN changed_fingerprint TEXT
    CHECK (changed_fingerprint IS NULL OR json_valid(changed_fingerprint));
-- The changed-data sweep: per dataset, the unchanged Ready slices in the order they became
-- Ready (updated_at), so only the recent ones are read however long the history.
CREATE INDEX slices_ready_recent ON slices (dataset, updated_at) WHERE state = 'Ready' AND changed_at IS NULL;
