-- The speed layer: capture of every way rows arrive, the merged view on
-- the fast path, and who may read the speed layer directly.
CREATE TABLE pm (ts timestamp NOT NULL, k text, v int) PARTITION BY RANGE (ts);
CREATE TABLE pm_2026 PARTITION OF pm FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT lambda.create_master('pm');
INSERT INTO pm VALUES ('2026-01-01', 'a', 1);
SELECT lambda.create_view('pm_by_k', $$
    SELECT k, count(*) AS n, count(v) AS nv, sum(v) AS total, avg(v) AS mean,
           min(v) AS lo, max(ts) AS latest, sum(v) FILTER (WHERE v > 10) AS big
      FROM pm GROUP BY k $$);
SELECT speed_state, lambda.fast_path('pm_by_k') FROM lambda.views WHERE view = 'pm_by_k'::regclass;

-- through the parent, multi-row, INSERT ... SELECT, COPY
INSERT INTO pm VALUES ('2026-02-01', 'a', 2), ('2026-02-02', 'b', NULL), ('2026-02-03', NULL, 30);
INSERT INTO pm SELECT '2026-03-01'::timestamp + i * interval '1 day', 'c', i FROM generate_series(1, 20) i;
COPY pm FROM stdin;
2026-04-01 00:00:00	d	4
2026-04-02 00:00:00	d	\N
\.
-- straight into a partition, into one created later, into one attached later
INSERT INTO pm_2026 VALUES ('2026-05-01', 'e', 5);
CREATE TABLE pm_2027 PARTITION OF pm FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
INSERT INTO pm_2027 VALUES ('2027-05-01', 'f', 6);
CREATE TABLE pm_2028 (v int, k text, ts timestamp NOT NULL);
ALTER TABLE pm ATTACH PARTITION pm_2028 FOR VALUES FROM ('2028-01-01') TO ('2029-01-01');
INSERT INTO pm_2028 (ts, k, v) VALUES ('2028-05-01', 'g', 7);
INSERT INTO pm VALUES ('2028-06-01', 'g', 8);
SELECT lambda.fast_path('pm_by_k');
SELECT * FROM pm_by_k ORDER BY k NULLS FIRST;
SELECT diff_count('pm_by_k');

-- rows of rolled-back subtransactions and transactions never count; the
-- session's own uncommitted rows do, for itself
BEGIN;
INSERT INTO pm VALUES ('2026-06-01', 'h', 1);
SAVEPOINT s1;
INSERT INTO pm VALUES ('2026-06-01', 'h', 100);
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
INSERT INTO pm VALUES ('2026-06-01', 'h', 10);
RELEASE SAVEPOINT s2;
SELECT k, n, total FROM pm_by_k WHERE k = 'h';
SELECT diff_count('pm_by_k');
COMMIT;
BEGIN;
INSERT INTO pm VALUES ('2026-06-01', 'i', 1);
ROLLBACK;
SELECT k, n, total FROM pm_by_k WHERE k IN ('h', 'i') ORDER BY k;
SELECT lambda.fast_path('pm_by_k');
SELECT diff_count('pm_by_k');

-- an insert that conflicts and does nothing adds nothing
CREATE TABLE uniq (id int PRIMARY KEY, k text);
SELECT lambda.create_master('uniq');
SELECT lambda.create_view('uniq_by_k', 'SELECT k, count(*) AS n FROM uniq GROUP BY k');
INSERT INTO uniq VALUES (1, 'x'), (2, 'x');
INSERT INTO uniq VALUES (1, 'x'), (3, 'y') ON CONFLICT DO NOTHING;
SELECT * FROM uniq_by_k ORDER BY k;
SELECT lambda.fast_path('uniq_by_k'), diff_count('uniq_by_k');

-- after a batch: the batch covers what came before, the speed layer the rest
SELECT lambda.run_batch('pm_by_k');
INSERT INTO pm VALUES ('2026-07-01', 'a', 1000);
SELECT lambda.fast_path('pm_by_k');
SELECT k, n, total, lo FROM pm_by_k WHERE k = 'a';
SELECT diff_count('pm_by_k');

-- a point query goes to the batch table's index, and the slow path is cut
-- off by a one-time filter (OIDs in names masked)
CREATE FUNCTION plan_of(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        RETURN NEXT regexp_replace(line, '_[0-9]+', '_N', 'g');
    END LOOP;
END $$;
SET enable_seqscan = off;
SELECT * FROM plan_of($$SELECT n FROM uniq_by_k WHERE k = 'x'$$);
RESET enable_seqscan;

-- reading the speed layer directly takes the right to read the view
CREATE ROLE lambda_outsider;
SET ROLE lambda_outsider;
SELECT * FROM lambda.speed('uniq_by_k') AS s(k text, n bigint);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT SELECT ON uniq_by_k TO lambda_outsider;
SET ROLE lambda_outsider;
SELECT count(*) >= 0 AS allowed FROM lambda.speed('uniq_by_k') AS s(k text, n bigint);
RESET ROLE;
REVOKE SELECT ON uniq_by_k FROM lambda_outsider;
DROP ROLE lambda_outsider;
-- and the view's own column list
SELECT * FROM lambda.speed('uniq_by_k') AS s(k text, n int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM lambda.speed('uniq') AS s(k text, n bigint);
\echo :LAST_ERROR_SQLSTATE

-- a prepared transaction's rows wait unsettled (speed_pending) until it is
-- resolved; then a worker settles them
BEGIN;
INSERT INTO pm VALUES ('2026-07-01', 'p', 1);
PREPARE TRANSACTION 'lambda_pending';
SELECT speed_pending >= 1 AS waiting FROM lambda.views WHERE view = 'pm_by_k'::regclass;
COMMIT PREPARED 'lambda_pending';
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN (SELECT speed_pending FROM lambda.views
                    WHERE view = 'pm_by_k'::regclass) = 0;
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT speed_pending FROM lambda.views WHERE view = 'pm_by_k'::regclass;
SELECT n FROM pm_by_k WHERE k = 'p';
SELECT diff_count('pm_by_k');

-- a filter that fixes the first group keys looks the groups up (a custom
-- scan: the batch table's index, the speed layer's hash table) instead of
-- reading everything, with the same answer
CREATE TABLE lk (a int, b text, v int);
SELECT lambda.create_master('lk');
SELECT lambda.create_view('lk_by_ab', 'SELECT a, b, count(*) AS n, sum(v) AS s FROM lk GROUP BY a, b');
INSERT INTO lk SELECT i % 5, (i % 3)::text, i FROM generate_series(1, 30) i;
INSERT INTO lk VALUES (7, 'only speed', 1), (NULL, NULL, 2);
CREATE FUNCTION speed_scan(query text) RETURNS SETOF text
LANGUAGE sql AS $$
    SELECT trim(p) FROM plan_of(query) p
     WHERE p ~ 'Custom Scan|Function Scan|Group Keys Fixed'
$$;
SELECT speed_scan($$SELECT * FROM lk_by_ab WHERE a = 1 AND b = '1'$$);
SELECT speed_scan($$SELECT * FROM lk_by_ab WHERE b = '1' AND 1::smallint = a$$);
SELECT speed_scan($$SELECT * FROM lk_by_ab WHERE a = 1$$);
-- the first key not fixed (a wider integer, not an equality): every group
SELECT speed_scan($$SELECT * FROM lk_by_ab WHERE b = '1'$$);
SELECT speed_scan($$SELECT * FROM lk_by_ab WHERE a = 1::bigint AND b = '1'$$);
SELECT speed_scan($$SELECT * FROM lk_by_ab WHERE a < 1 AND b = '1'$$);
SELECT * FROM lk_by_ab WHERE a = 1 AND b = '1';
SELECT * FROM lk_by_ab WHERE a = 7 AND b = 'only speed';
SELECT * FROM lk_by_ab WHERE a = 8 AND b = 'nowhere';
SELECT * FROM lk_by_ab WHERE a = 1 ORDER BY b;
-- look-ups through an index whose entries batches have left dead, again
-- and again in one session (the index scan keeps what it learns)
SELECT lambda.run_batch('lk_by_ab');
SELECT lambda.run_batch('lk_by_ab');
PREPARE lk_again(int, text) AS SELECT n, s FROM lk_by_ab WHERE a = $1 AND b = $2;
EXECUTE lk_again(1, '1');
EXECUTE lk_again(1, '1');
EXECUTE lk_again(2, '2');
EXECUTE lk_again(1, '1');
DEALLOCATE lk_again;
-- a cursor reads the merged groups as they stream, both ways
DO $$
DECLARE
    c SCROLL CURSOR FOR SELECT a, b FROM lk_by_ab;
    r record;
    forward int := 0;
    backward int := 0;
BEGIN
    OPEN c;
    LOOP
        FETCH c INTO r;
        EXIT WHEN NOT FOUND;
        forward := forward + 1;
    END LOOP;
    LOOP
        FETCH PRIOR FROM c INTO r;
        EXIT WHEN NOT FOUND;
        backward := backward + 1;
    END LOOP;
    RAISE NOTICE 'forward %, backward %', forward, backward;
END $$;
-- the look-up goes through the batch table's index, once
CREATE FUNCTION batch_index_scans(v regclass) RETURNS bigint
LANGUAGE sql AS $$
    SELECT pg_stat_get_xact_numscans(i.indexrelid)
      FROM pg_index i JOIN lambda.views l ON i.indrelid = l.batch_table
     WHERE l.view = v
$$;
BEGIN;
SELECT batch_index_scans('lk_by_ab') AS before \gset
SELECT n FROM lk_by_ab WHERE a = 2 AND b = '2';
SELECT batch_index_scans('lk_by_ab') - :before AS index_scans;
COMMIT;
-- every group, looked up one by one (a parameter, rescanned); = finds
-- every group but the one whose keys are NULL
SELECT count(*) AS groups, count(*) FILTER (WHERE (m.n, m.s) = (q.n, q.s)) AS equal
  FROM (SELECT a, b, count(*) AS n, sum(v) AS s FROM lk GROUP BY a, b) q
  LEFT JOIN LATERAL (SELECT * FROM lk_by_ab v WHERE v.a = q.a AND v.b = q.b) m ON true;
-- a generic plan's parameters; the transaction's own rows, without a
-- rolled-back savepoint's
PREPARE lk_point(int, text) AS SELECT n, s FROM lk_by_ab WHERE a = $1 AND b = $2;
SET plan_cache_mode = force_generic_plan;
BEGIN;
INSERT INTO lk VALUES (1, '1', 1000);
SAVEPOINT s;
INSERT INTO lk VALUES (1, '1', 100000);
ROLLBACK TO SAVEPOINT s;
EXECUTE lk_point(1, '1');
ROLLBACK;
EXECUTE lk_point(1, '1');
EXECUTE lk_point(NULL, '1');
RESET plan_cache_mode;
DEALLOCATE lk_point;
SELECT diff_count('lk_by_ab');
-- the look-up checks what lambda.speed() checks
CREATE ROLE lambda_outsider;
SET ROLE lambda_outsider;
SELECT * FROM lambda.speed('lk_by_ab') AS s(a int, b text, n bigint, s bigint)
 WHERE a = 1 AND b = '1';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE lambda_outsider;
SELECT * FROM lambda.speed('lk_by_ab') AS s(a int, b text, n int, s bigint)
 WHERE a = 1 AND b = '1';
\echo :LAST_ERROR_SQLSTATE

-- The first capture trigger of a statement folds its rows for every view
-- of the master in one pass.  A view whose capture fails loses the rows
-- alone; a trigger that fires between the capture triggers, even one that
-- inserts into the master, does not disturb the pass.
CREATE TABLE two (k int, v int);
SELECT lambda.create_master('two');
CREATE FUNCTION picky(x int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF x < 0 AND current_setting('lambda_test.picky', true) = 'on' THEN
        RAISE EXCEPTION 'picky row';
    END IF;
    RETURN true;
END $$;
SELECT lambda.create_view('two_all', 'SELECT k, count(*) AS n, sum(v) AS s FROM two GROUP BY k');
SELECT lambda.create_view('two_picky', 'SELECT k, count(*) AS n FROM two WHERE picky(v) GROUP BY k');
INSERT INTO two VALUES (1, 1), (1, 2), (2, 3);
SET lambda_test.picky = on;
INSERT INTO two VALUES (3, -1), (1, 4);
RESET lambda_test.picky;
SELECT lambda.fast_path('two_all') AS all_fast, lambda.fast_path('two_picky') AS picky_fast;
SELECT diff_count('two_all') AS all_diff, diff_count('two_picky') AS picky_diff;
SELECT lambda.run_batch('two_picky');
CREATE FUNCTION two_more() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM new_rows WHERE v = 100) THEN
        INSERT INTO two VALUES (9, 1);
    END IF;
    RETURN NULL;
END $$;
DO $$
BEGIN
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON two REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION two_more()',
                   'lambda_capture_' || (SELECT min(id::text COLLATE "C") FROM lambda.view
                                         WHERE view IN ('two_all'::regclass, 'two_picky'::regclass))
                   || '_between');
END $$;
SELECT regexp_replace(tgname, '[0-9]+', 'N') AS fires_in_this_order
  FROM pg_trigger
 WHERE tgrelid = 'two'::regclass AND tgname LIKE 'lambda\_capture\_%' AND tgname NOT LIKE '%row%'
 ORDER BY tgname COLLATE "C";
INSERT INTO two VALUES (5, 100), (1, 5);
SELECT * FROM two_all ORDER BY k;
SELECT lambda.fast_path('two_all') AS all_fast, lambda.fast_path('two_picky') AS picky_fast;
SELECT diff_count('two_all') AS all_diff, diff_count('two_picky') AS picky_diff;
