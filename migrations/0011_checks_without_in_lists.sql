-- Refit schema, version 11: the same CHECK constraints, written so that SQLite checks them
-- without building a table.
--
-- SQLite evaluates `x IN ('a', 'b', 'c')` over a list of more than two constants by first
-- building a temporary B-tree of the list: in a CHECK constraint, once for every row an INSERT
-- or UPDATE writes. A claim, a finish and every journal step wrote state columns so checked:
-- about 35 such trees per slice, a tenth of the worker's instructions (most of it zeroing
-- their pages). `x = 'a' OR x = 'b' OR x = 'c'` accepts and refuses exactly the same values
-- (NULL included: both are NULL, which a CHECK lets through) with a few comparisons.
--
-- A CHECK constraint leaves no trace in the stored rows, so SQLite allows it to be rewritten
-- in place in the schema table (its documented procedure for schema changes that do not touch
-- the file format), rather than by copying every table. The values stay the same, so every
-- row already stored satisfies the new text. Creating and dropping a table afterwards bumps the
-- schema cookie, so every connection, in this process or another, reads the new schema before
-- its next statement; RESET makes this one do so at once.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
    'kind IN (''linkedService'', ''dataset'', ''pipeline'')',
    '(kind = ''linkedService'' OR kind = ''dataset'' OR kind = ''pipeline'')')
WHERE type = 'table' AND name = 'definitions';
UPDATE sqlite_schema SET sql = replace(replace(sql,
    'state IN (''Waiting'', ''InProgress'', ''Ready'', ''Failed'', ''Skipped'', ''None'')',
    '(state = ''Waiting'' OR state = ''InProgress'' OR state = ''Ready'' OR state = ''Failed'' OR state = ''Skipped'' OR state = ''None'')'),
    'substate IN (
                       ''ScheduleTime'', ''DatasetDependencies'', ''ComputeResources'', ''ConcurrencyLimit'',
                       ''ActivityResume'', ''Retry'', ''LongRetry'', ''Validation'', ''ValidationRetry'',
                       ''Validating'', ''TimedOut'', ''Canceled'', ''Superseded'')',
    '(substate = ''ScheduleTime'' OR substate = ''DatasetDependencies'' OR substate = ''ComputeResources'' OR substate = ''ConcurrencyLimit'' OR substate = ''ActivityResume'' OR substate = ''Retry'' OR substate = ''LongRetry'' OR substate = ''Validation'' OR substate = ''ValidationRetry'' OR substate = ''Validating'' OR substate = ''TimedOut'' OR substate = ''Canceled'' OR substate = ''Superseded'')')
WHERE type = 'table' AND name = 'slices';
UPDATE sqlite_schema SET sql = replace(replace(replace(sql,
    'state IN (''Waiting'', ''InProgress'', ''Ready'', ''Failed'', ''Skipped'', ''None'')',
    '(state = ''Waiting'' OR state = ''InProgress'' OR state = ''Ready'' OR state = ''Failed'' OR state = ''Skipped'' OR state = ''None'')'),
    'substate IN (
                           ''ScheduleTime'', ''DatasetDependencies'', ''ComputeResources'', ''ConcurrencyLimit'',
                           ''ActivityResume'', ''Retry'', ''LongRetry'', ''Validation'', ''ValidationRetry'',
                           ''Validating'', ''TimedOut'', ''Canceled'', ''Superseded'')',
    '(substate = ''ScheduleTime'' OR substate = ''DatasetDependencies'' OR substate = ''ComputeResources'' OR substate = ''ConcurrencyLimit'' OR substate = ''ActivityResume'' OR substate = ''Retry'' OR substate = ''LongRetry'' OR substate = ''Validation'' OR substate = ''ValidationRetry'' OR substate = ''Validating'' OR substate = ''TimedOut'' OR substate = ''Canceled'' OR substate = ''Superseded'')'),
    'next_trigger IN (''schedule'', ''backfill'', ''rerun'', ''retry'')',
    '(next_trigger = ''schedule'' OR next_trigger = ''backfill'' OR next_trigger = ''rerun'' OR next_trigger = ''retry'')')
WHERE type = 'table' AND name = 'windows';
UPDATE sqlite_schema SET sql = replace(replace(sql,
    '"trigger" IN (''schedule'', ''backfill'', ''rerun'', ''retry'')',
    '("trigger" = ''schedule'' OR "trigger" = ''backfill'' OR "trigger" = ''rerun'' OR "trigger" = ''retry'')'),
    'status IN (''InProgress'', ''Succeeded'', ''Failed'', ''TimedOut'', ''Canceled'', ''Skipped'')',
    '(status = ''InProgress'' OR status = ''Succeeded'' OR status = ''Failed'' OR status = ''TimedOut'' OR status = ''Canceled'' OR status = ''Skipped'')')
WHERE type = 'table' AND name = 'runs';
UPDATE sqlite_schema SET sql = replace(sql,
    'state IN (''intent'', ''done'', ''failed'')',
    '(state = ''intent'' OR state = ''done'' OR state = ''failed'')')
WHERE type = 'table' AND name = 'steps';
UPDATE sqlite_schema SET sql = replace(sql,
    'mode IN (''missing'', ''failed'', ''all'')',
    '(mode = ''missing'' OR mode = ''failed'' OR mode = ''all'')')
WHERE type = 'table' AND name = 'backfills';
CREATE TABLE refit_schema_bump (x INTEGER) STRICT;
DROP TABLE refit_schema_bump;
PRAGMA writable_schema = RESET;
