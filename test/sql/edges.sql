-- Edges: rows reach a master only through INSERT; definitions that the
-- layers could not compute alike are refused at create_view with lambda's
-- own errors; a definition means the same whatever the session's settings.
\set SHOW_CONTEXT never
SELECT views AS views_before, relations AS relations_before FROM leftovers() \gset

-- inheritance: a master has no inheritance children, and gets none
CREATE TABLE parent_t (ts timestamp NOT NULL, k text, v int);
CREATE TABLE child_t () INHERITS (parent_t);
SELECT lambda.create_master('parent_t');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE child_t, parent_t;

CREATE TABLE pe (ts timestamp NOT NULL, k text, v int) PARTITION BY RANGE (ts);
CREATE TABLE pe_2026 PARTITION OF pe FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT lambda.create_master('pe');
INSERT INTO pe VALUES ('2026-01-01', 'a', 1), ('2026-02-01', 'b', 2);
SELECT lambda.create_view('pe_by_k', 'SELECT k, count(*) AS n, sum(v) AS total FROM pe GROUP BY k');
CREATE TABLE pe_child () INHERITS (pe_2026);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE plain_t (ts timestamp NOT NULL, k text, v int);
ALTER TABLE plain_t INHERIT pe_2026;
\echo :LAST_ERROR_SQLSTATE

-- a table that holds rows cannot be attached; an empty one can, and is
-- captured from then on
CREATE TABLE pe_2027 (ts timestamp NOT NULL, k text, v int);
INSERT INTO pe_2027 VALUES ('2027-03-01', 'c', 3);
ALTER TABLE pe ATTACH PARTITION pe_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS attached FROM pg_inherits WHERE inhparent = 'pe'::regclass;
-- emptied, it can
DELETE FROM pe_2027;
ALTER TABLE pe ATTACH PARTITION pe_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
INSERT INTO pe_2027 VALUES ('2027-04-01', 'c', 4);
INSERT INTO pe VALUES ('2027-05-01', 'd', 5);
SELECT * FROM pe_by_k ORDER BY k;
SELECT lambda.fast_path('pe_by_k'), diff_count('pe_by_k');

-- nor through a foreign key's TRUNCATE ... CASCADE
CREATE TABLE ref (k text PRIMARY KEY);
INSERT INTO ref VALUES ('a'), ('b'), ('c'), ('d');
ALTER TABLE pe_2026 ADD FOREIGN KEY (k) REFERENCES ref;
TRUNCATE ref CASCADE;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS kept FROM pe_2026;

-- no partition leaves a master: not detached, not dropped, not truncated
ALTER TABLE pe DETACH PARTITION pe_2027;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE pe DETACH PARTITION pe_2027 CONCURRENTLY;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE pe_2027;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE pe_2027;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'pe'::regclass;
SELECT lambda.fast_path('pe_by_k'), diff_count('pe_by_k');

-- system columns and whole-row references: the transition table a capture
-- reads has none of its own
SELECT lambda.create_view('bad', 'SELECT tableoid, count(*) FROM pe GROUP BY tableoid');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT k, max(ctid) FROM pe GROUP BY k');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT xmin, count(*) FROM pe GROUP BY xmin');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT m, count(*) FROM pe m GROUP BY m');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT k, count(*) FROM pe m WHERE m IS NOT NULL GROUP BY k');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT k, count(*) FILTER (WHERE cmin::text = '0') FROM pe GROUP BY k');
\echo :LAST_ERROR_SQLSTATE

-- names that collide once truncated to 63 bytes
SELECT lambda.create_view('bad', $$SELECT k,
    avg(v) AS a123456789012345678901234567890123456789012345678901234567,
    sum(v) AS a123456789012345678901234567890123456789012345678901234567_sum
    FROM pe GROUP BY k$$);
\echo :LAST_ERROR_SQLSTATE

-- keys the speed layer cannot hash
CREATE TABLE odd (ts timestamp NOT NULL, m money, b varbit, t tsvector, v int);
SELECT lambda.create_master('odd');
SELECT lambda.create_view('bad', 'SELECT m, count(*) FROM odd GROUP BY m');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT b, count(*) FROM odd GROUP BY b');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT t, count(*) FROM odd GROUP BY t');
\echo :LAST_ERROR_SQLSTATE
-- a key with a hash function but no btree order gets no index, no failure
CREATE TABLE xids (ts timestamp NOT NULL, x xid);
SELECT lambda.create_master('xids');
SELECT lambda.create_view('xid_view', 'SELECT x, count(*) AS n FROM xids GROUP BY x');
INSERT INTO xids VALUES ('2026-01-01', '7'), ('2026-01-01', '7'), ('2026-01-01', '8');
SELECT * FROM xid_view WHERE x = '7'::xid;
SELECT lambda.fast_path('xid_view'), diff_count('xid_view');
SELECT lambda.drop_view('xid_view');
DROP TABLE xids;
-- as the hint says: group by a hashable expression
SELECT lambda.create_view('odd_by_m', 'SELECT b::text AS b, count(*) AS n, sum(m) AS total FROM odd GROUP BY b::text');
INSERT INTO odd VALUES ('2026-01-01', 1.5, B'101', 'a b', 1), ('2026-01-01', 1.5, B'1', 'c', 2);
SELECT * FROM odd_by_m;
SELECT diff_count('odd_by_m');
SELECT count(*) AS stray FROM pg_class WHERE relname = 'bad';

-- min and max of values that compare equal but differ keep the newer one,
-- as min() and max() keep the last a scan meets
CREATE TABLE ties (k int, i interval, n numeric, a numeric[]);
SELECT lambda.create_master('ties');
SELECT lambda.create_view('ties_view', 'SELECT k, min(i) AS mi, max(i) AS xi, min(n) AS mn, max(a) AS xa FROM ties GROUP BY k');
INSERT INTO ties VALUES (1, '1 day', 1.0, '{1.0}');
SELECT lambda.run_batch('ties_view');
INSERT INTO ties VALUES (1, '24 hours', 1.00, '{1.00}');
BEGIN;
INSERT INTO ties VALUES (2, '1 day', 3.0, '{3.0}');
INSERT INTO ties VALUES (2, '24 hours', 3.000, '{3.000}');
SELECT * FROM ties_view ORDER BY k;
SELECT k, min(i), max(i), min(n), max(a) FROM ties GROUP BY k ORDER BY k;
COMMIT;
SELECT lambda.fast_path('ties_view'), count(*) AS differing FROM lambda.verify('ties_view');
SELECT lambda.drop_view('ties_view');
DROP TABLE ties;

-- a definition means what it said, whatever the session's settings
CREATE SCHEMA hostile;
CREATE FUNCTION hostile.lower(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT ''x''';
CREATE TABLE fl (ts timestamp NOT NULL, d date, k text, f float8, iv interval);
SELECT lambda.create_master('fl');
INSERT INTO fl VALUES ('2026-01-01', '2026-02-03', 'A', 0.25, '1 day'),
                      ('2026-01-01', '2026-03-02', 'B', 0.2500001, '-1 days -2 hours');
SET extra_float_digits = -13;
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'sql_standard';
SET search_path = hostile, pg_catalog, public;
SELECT lambda.create_view('public.fl_view', $$
    SELECT lower(k) AS k,
           count(*) FILTER (WHERE f > '0.2500001'::float8) AS big_f,
           count(*) FILTER (WHERE d = '02/03/2026') AS on_day,
           count(*) FILTER (WHERE iv = '-1 days -02:00:00'::interval) AS neg_iv
      FROM fl GROUP BY lower(k) $$);
SELECT * FROM fl_view;
SELECT diff_count('fl_view');
RESET search_path;
RESET extra_float_digits;
RESET DateStyle;
RESET IntervalStyle;
-- under the default settings both layers compute the same definition
INSERT INTO fl VALUES ('2026-01-01', '2026-03-02', 'C', 0.3, '-1 days -2 hours');
SELECT * FROM fl_view;
SELECT lambda.run_batch('fl_view');
SELECT * FROM fl_view;
SELECT lambda.fast_path('fl_view');

-- a transaction's own rows, as the reader's snapshot sees them
CREATE TABLE own (k text NOT NULL, v int);
SELECT lambda.create_master('own');
SELECT lambda.create_view('own_view', 'SELECT k, count(*) AS n, sum(v) AS total FROM own GROUP BY k');
CREATE VIEW own_direct AS SELECT k, count(*) AS n, sum(v) AS total FROM own GROUP BY k;
BEGIN;
INSERT INTO own VALUES ('a', 1);
DECLARE via_view CURSOR FOR SELECT * FROM own_view ORDER BY k;
DECLARE via_query CURSOR FOR SELECT * FROM own_direct ORDER BY k;
INSERT INTO own VALUES ('a', 2), ('b', 3);
-- the cursors were declared after the first insert only
FETCH ALL FROM via_view;
FETCH ALL FROM via_query;
SELECT * FROM own_view ORDER BY k;
-- 500 single-row statements of the same groups are kept as one row per group
DO $$ BEGIN FOR i IN 1..500 LOOP INSERT INTO own VALUES (CASE WHEN i % 2 = 0 THEN 'a' ELSE 'c' END, i); END LOOP; END $$;
SELECT count(*) AS captured_rows FROM lambda.speed('own_view') AS s(k text, n bigint, total bigint);
SELECT * FROM own_view ORDER BY k;
SELECT lambda.fast_path('own_view'), diff_count('own_view');
COMMIT;
SELECT lambda.fast_path('own_view'), diff_count('own_view');
-- a hand-off over lambda.max_handoff (1 GB at most) is a loss, never a
-- failed commit: the view stays exact and a batch restores the fast path
SET lambda.max_handoff = '8kB';
INSERT INTO own SELECT 'big' || i, i FROM generate_series(1, 1000) i;
RESET lambda.max_handoff;
SELECT count(*) AS committed FROM own WHERE k LIKE 'big%';
SELECT diff_count('own_view');
SELECT lambda.run_batch('own_view') > 1000 AS batch;
SELECT lambda.fast_path('own_view'), diff_count('own_view');
-- a cursor declared before a batch of the same transaction reads what the
-- query reads there, not the new batch's speed layer
BEGIN;
INSERT INTO own VALUES ('h4', 1);
DECLARE before_batch CURSOR FOR SELECT * FROM own_view WHERE k = 'h4';
DECLARE before_batch_q CURSOR FOR SELECT * FROM own_direct WHERE k = 'h4';
SELECT lambda.run_batch('own_view') > 0 AS batch;
FETCH ALL FROM before_batch;
FETCH ALL FROM before_batch_q;
SELECT * FROM own_view WHERE k = 'h4';
COMMIT;
-- a read while the rows of an INSERT are going in (a BEFORE ROW trigger)
CREATE FUNCTION own_row_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'before row %: view % rows, query % rows', NEW.v,
        (SELECT sum(n) FROM own_view), (SELECT count(*) FROM own);
    RETURN NEW;
END $$;
CREATE TRIGGER own_row_check BEFORE INSERT ON own FOR EACH ROW EXECUTE FUNCTION own_row_check();
INSERT INTO own VALUES ('r', 1), ('r', 2), ('r', 3);
COPY own FROM stdin;
r	4
r	5
\.
-- ... and a MERGE that inserts
MERGE INTO own o USING (VALUES ('r', 6), ('r', 7)) AS n(k, v) ON false
 WHEN NOT MATCHED THEN INSERT VALUES (n.k, n.v);
DROP TRIGGER own_row_check ON own;
DROP FUNCTION own_row_check();
-- a batch cannot run while an insert into the master is running: the rows
-- inserted so far would count twice
CREATE FUNCTION own_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM lambda.run_batch('own_view'); RETURN NULL; END $$;
CREATE TRIGGER own_refresh AFTER INSERT ON own FOR EACH STATEMENT EXECUTE FUNCTION own_refresh();
INSERT INTO own VALUES ('rb', 1), ('rb', 2);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER own_refresh ON own;
DROP FUNCTION own_refresh();
SELECT lambda.fast_path('own_view'), diff_count('own_view');

-- lambda.verify: the rows by which the view and its query differ
SELECT * FROM lambda.verify('own_view');
SELECT batch_table::regclass AS own_batch FROM lambda.view WHERE view = 'own_view'::regclass \gset
UPDATE :own_batch SET n = n + 1 WHERE k = 'a';   -- a superuser's tampering
SELECT * FROM lambda.verify('own_view');
SELECT lambda.run_batch('own_view') > 0 AS batch;
SELECT * FROM lambda.verify('own_view');
SELECT * FROM lambda.verify('own_direct');
\echo :LAST_ERROR_SQLSTATE

-- a trigger that fires before lambda's capture reads what the query reads
CREATE FUNCTION own_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'in the trigger: view % rows, query % rows',
        (SELECT sum(n) FROM own_view), (SELECT count(*) FROM own);
    RETURN NULL;
END $$;
CREATE TRIGGER aaa_check AFTER INSERT ON own FOR EACH STATEMENT EXECUTE FUNCTION own_check();
INSERT INTO own VALUES ('d', 4), ('d', 5);
DROP TRIGGER aaa_check ON own;
SELECT lambda.fast_path('own_view'), diff_count('own_view');

-- clean up
SELECT lambda.drop_view('own_view');
DROP VIEW own_direct;
DROP TABLE own;
DROP FUNCTION own_check();
SELECT lambda.drop_view('pe_by_k');
SELECT lambda.drop_view('odd_by_m');
SELECT lambda.drop_view('fl_view');
DROP TABLE pe, odd, fl, plain_t, ref;
DROP SCHEMA hostile CASCADE;
SELECT views = :views_before AND relations = :relations_before AS nothing_left FROM leftovers();
