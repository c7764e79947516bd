-- Refit schema, version 11: nothing changes on PostgreSQL.
--
-- The SQLite schema of this version rewrites its CHECK constraints of the form
-- `x IN ('a', 'b', 'c')` as `x = 'a' OR x = 'b' OR x = 'c'`, because SQLite builds a temporary
-- table for every such check of every row it writes. PostgreSQL evaluates an IN list in place,
-- so its constraints stay as they are; this version exists so that both stores count the same
-- schema versions.
SELECT 1;
