-- Compaction (src/compact.c): the batch table merged with the speed layer,
-- published as a new batch without reading the master.  Exact afterwards,
-- for every kind of state, NULL keys and no keys; inside the writing
-- transaction and in a savepoint; refused where only a batch is exact;
-- and done by the worker past lambda.compact_threshold.
SELECT views AS views_before, relations AS relations_before, jobs AS jobs_before
  FROM leftovers() \gset
CREATE TABLE cev (k int, g text, x numeric, f float8, b boolean);
SELECT lambda.create_master('cev');
INSERT INTO cev SELECT i % 10, CASE WHEN i % 3 = 0 THEN NULL ELSE 'a' || (i % 2) END,
                       i, i / 4.0, i % 7 > 0
  FROM generate_series(1, 1000) i;
SELECT lambda.create_view('cv', $$
    SELECT k, g, count(*) AS n, sum(x) AS s, avg(x) AS a, min(x) AS lo, max(f) AS hi,
           sum(f) AS fs, variance(x) AS var, bool_and(b) AS all_b,
           count(*) FILTER (WHERE x > 500) AS big
      FROM cev GROUP BY k, g $$);
SELECT lambda.create_view('cv_total', $$
    SELECT count(*) AS n, sum(x) AS s, max(g) AS top FROM cev $$);
SELECT lambda.create_view('cv_having', $$
    SELECT g, sum(x) / count(*) AS mean FROM cev GROUP BY g HAVING count(*) > 300 $$);

-- wait (at most 30 s) until a view has had more than n compactions
CREATE FUNCTION wait_compacted(v regclass, n bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..300 LOOP
        IF (SELECT compactions FROM lambda.views WHERE view = v) > n THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN false;
END $$;

-- batch_diff_count (setup) for partial states without equality: as text
CREATE FUNCTION batch_text_diff(v regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM ((SELECT t::text FROM %1$s t EXCEPT ALL SELECT t::text FROM %2$s t) '
                   'UNION ALL (SELECT t::text FROM %2$s t EXCEPT ALL SELECT t::text FROM %1$s t)) d',
                   (SELECT batch_table FROM lambda.views WHERE view = v),
                   (SELECT partial_view::regclass FROM lambda.view WHERE view = v)) INTO n;
    RETURN n;
END $$;

-- the batch table's rows, whatever its name
CREATE FUNCTION batch_count(v regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s',
                   (SELECT batch_table FROM lambda.views WHERE view = v)) INTO n;
    RETURN n;
END $$;

-- fresh rows: new groups (k 10..12, new g), old groups, NULL keys; float
-- values a binary fraction holds, so that sums in any order are equal
INSERT INTO cev SELECT i % 13, CASE WHEN i % 5 = 0 THEN NULL ELSE 'a' || (i % 3) END,
                       i, i / 8.0, i % 11 > 0
  FROM generate_series(1, 500) i;
SELECT view, batch_version, batch_groups, compactions, last_compaction_finished IS NULL AS never
  FROM lambda.views WHERE view::text LIKE 'cv%' ORDER BY view::text;
SELECT lambda.compact('cv') AS written, lambda.compact('cv_total') AS written_total,
       lambda.compact('cv_having') AS written_having;
-- the batch table now holds every group, the speed layer none, and the
-- batch table is what the partial-state query computes from the master
SELECT view, batch_version, batch_groups, speed_groups, speed_state, compactions,
       last_compaction_finished IS NOT NULL AS done, last_compaction_duration >= '0' AS timed
  FROM lambda.views WHERE view::text LIKE 'cv%' ORDER BY view::text;
SELECT batch_count('cv') AS batch_rows, (SELECT count(DISTINCT (k, g)) FROM cev) AS groups;
SELECT lambda.fast_path('cv'), diff_count('cv'), batch_text_diff('cv');
SELECT lambda.fast_path('cv_total'), diff_count('cv_total'), batch_diff_count('cv_total');
SELECT lambda.fast_path('cv_having'), diff_count('cv_having'), batch_diff_count('cv_having');
-- nothing new: nothing to write, and no new batch
SELECT batch_version AS version_before FROM lambda.views WHERE view = 'cv'::regclass \gset
SELECT lambda.compact('cv') AS written;
SELECT batch_version = :version_before AS unchanged, compactions
  FROM lambda.views WHERE view = 'cv'::regclass;
SELECT diff_count('cv');

-- in the writing transaction: its rows are in the new batch, rows it
-- inserts afterwards in the speed layer; both counted once
BEGIN;
INSERT INTO cev VALUES (100, 'z', 1, 1, true), (3, NULL, 5, 0.5, false);
SELECT lambda.compact('cv') AS written;
SELECT * FROM cv WHERE k = 100;
INSERT INTO cev VALUES (100, 'z', 2, 2, true);
SELECT * FROM cv WHERE k = 100;
SELECT diff_count('cv');
COMMIT;
SELECT lambda.fast_path('cv'), diff_count('cv');
-- rolled back: neither the rows nor the compaction remain
SELECT batch_version AS version_before FROM lambda.views WHERE view = 'cv'::regclass \gset
BEGIN;
INSERT INTO cev VALUES (200, 'gone', 1, 1, true);
SELECT lambda.compact('cv') AS written;
ROLLBACK;
SELECT batch_version = :version_before AS unchanged FROM lambda.views WHERE view = 'cv'::regclass;
SELECT lambda.fast_path('cv'), diff_count('cv'), count(*) FILTER (WHERE k = 200) AS gone FROM cv;
-- a compaction in a savepoint that rolls back is never resolved to
INSERT INTO cev VALUES (300, 's', 1, 1, true);
BEGIN;
SAVEPOINT s;
SELECT lambda.compact('cv') AS written;
ROLLBACK TO SAVEPOINT s;
SELECT * FROM cv WHERE k = 300;
SELECT diff_count('cv');
COMMIT;
SELECT lambda.fast_path('cv'), diff_count('cv');

-- bad input: not a lambda view, not its owner, a speed layer that lost rows
SELECT lambda.compact('cev');
SELECT lambda.compact(0);
SELECT lambda.compact(NULL);
CREATE ROLE compact_other;
GRANT USAGE ON SCHEMA lambda TO compact_other;
SET ROLE compact_other;
SELECT lambda.compact('cv');
RESET ROLE;
REVOKE USAGE ON SCHEMA lambda FROM compact_other;
DROP ROLE compact_other;
SET lambda.max_handoff = '8kB';
INSERT INTO cev SELECT 1000 + i, 'lost', i, i, true FROM generate_series(1, 1000) i;
RESET lambda.max_handoff;
\set VERBOSITY default
SELECT lambda.compact('cv');
\set VERBOSITY terse
SELECT lambda.fast_path('cv'), diff_count('cv');
SELECT lambda.run_batch('cv') > 0 AS batch;
SELECT lambda.compact('cv') AS written;
SELECT lambda.fast_path('cv'), diff_count('cv');
-- not while an insert into the master is running (a trigger's read)
CREATE FUNCTION cev_compact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lambda.compact('cv');
    RETURN NULL;
END $$;
CREATE TRIGGER cev_compact AFTER INSERT ON cev FOR EACH ROW EXECUTE FUNCTION cev_compact();
INSERT INTO cev VALUES (1, 'a', 1, 1, true);
DROP TRIGGER cev_compact ON cev;
DROP FUNCTION cev_compact();

-- the worker compacts a view whose settled speed state passes
-- lambda.compact_threshold (here a few bytes' worth of lambda.speed_memory)
ALTER SYSTEM SET lambda.compact_threshold = 0.0000001;
SELECT pg_reload_conf();
SELECT compactions AS compactions_before FROM lambda.views WHERE view = 'cv'::regclass \gset
INSERT INTO cev SELECT i % 40, 'w', i, i, true FROM generate_series(1, 200) i;
SELECT wait_compacted('cv', :compactions_before);
SELECT compactions > :compactions_before AS worker_compacted
  FROM lambda.views WHERE view = 'cv'::regclass;
ALTER SYSTEM RESET lambda.compact_threshold;
SELECT pg_reload_conf();
SELECT lambda.fast_path('cv'), diff_count('cv'), batch_text_diff('cv');

-- numeric and bigint sums of a statement of many rows: NaN, infinities,
-- bigints whose sum passes 2^63, NULLs and scales, through capture,
-- compaction and a batch
CREATE TABLE cnum (k int, n numeric, b bigint);
SELECT lambda.create_master('cnum');
SELECT lambda.create_view('cnum_v', $$
    SELECT k, sum(n) AS sn, avg(n) AS an, sum(b) AS sb, avg(b) AS ab, count(*) AS c
      FROM cnum GROUP BY k $$);
INSERT INTO cnum VALUES (1, 1.5, 9223372036854775807), (1, 2.25, 9223372036854775807),
                        (1, NULL, NULL), (2, 'NaN', -9223372036854775808), (2, 1, -1),
                        (3, 'Infinity', 1), (3, 'Infinity', 2), (4, '-Infinity', 0),
                        (4, 'Infinity', 0), (5, NULL, NULL), (5, NULL, NULL), (6, 0.000, 3);
SELECT * FROM cnum_v ORDER BY k;
SELECT lambda.fast_path('cnum_v'), diff_count('cnum_v');
SELECT lambda.compact('cnum_v') AS written;
INSERT INTO cnum SELECT i % 7, i / 3.0, i * 1000000000000000 FROM generate_series(1, 100) i;
SELECT lambda.fast_path('cnum_v'), diff_count('cnum_v');
SELECT lambda.run_batch('cnum_v') AS batch;
SELECT lambda.fast_path('cnum_v'), diff_count('cnum_v'), batch_diff_count('cnum_v');
DROP TABLE cnum CASCADE;

-- a batch table row updated by an earlier compaction leaves a dead index
-- entry, which btree remembers in memory of the scan's (red team 12: a
-- second compaction of a t-digest view freed it twice)
CREATE EXTENSION IF NOT EXISTS tdigest;
CREATE TABLE ctd (k int, x float8);
SELECT lambda.create_master('ctd');
INSERT INTO ctd SELECT i % 4, i / 8.0 FROM generate_series(1, 600) i;
SELECT lambda.create_view('ctd_v', $$SELECT k, tdigest(x, 100) AS td, count(*) AS n FROM ctd GROUP BY k$$);
INSERT INTO ctd SELECT i % 6, i / 16.0 FROM generate_series(1, 400) i;
SELECT lambda.compact('ctd_v') AS written;
INSERT INTO ctd SELECT i % 6, i / 16.0 FROM generate_series(1, 40) i;
SELECT lambda.compact('ctd_v') AS written;
INSERT INTO ctd SELECT i % 6, i / 16.0 FROM generate_series(1, 40) i;
SELECT lambda.compact('ctd_v') AS written;
SELECT lambda.fast_path('ctd_v'), k, n, n = (SELECT count(*) FROM ctd c WHERE c.k = v.k) AS exact
  FROM ctd_v v ORDER BY k;
DROP TABLE ctd CASCADE;

DROP TABLE cev CASCADE;
DROP FUNCTION batch_count(regclass);
DROP FUNCTION batch_text_diff(regclass);
DROP FUNCTION wait_compacted(regclass, bigint);
-- nothing left behind
SELECT views = :views_before AND relations = :relations_before AND jobs = :jobs_before
       AS as_before FROM leftovers();
