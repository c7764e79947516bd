-- Refit schema for PostgreSQL, version 7 (as migrations/0007_changed_data.sql): changed-data
-- detection. A Ready external slice whose data differs from the fingerprint it became Ready
-- with is marked here; it stays Ready until a rerun or an `--mode all` backfill checks it again.
ALTER TABLE slices ADD COLUMN changed_at timestamptz;
ALTER TABLE slices ADD COLUMN changed_fingerprint text
    CHECK (changed_fingerprint IS NULL OR (changed_fingerprint::jsonb) IS NOT NULL);
-- The changed-data sweep: per dataset, the unchanged Ready slices in the order they became Ready.
CREATE INDEX slices_ready_recent ON slices (dataset, updated_at) WHERE state = 'Ready' AND changed_at IS NULL;
