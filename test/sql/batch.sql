-- The batch layer: versions, the recorded snapshot, atomic publication, and
-- failed, cancelled and rolled-back runs leaving the previous batch.
\set SHOW_CONTEXT never
CREATE TABLE sales (ts timestamp NOT NULL, shop int, amount numeric);
SELECT lambda.create_master('sales');
INSERT INTO sales SELECT '2026-01-01'::timestamp + i * interval '1 minute', i % 10, i
  FROM generate_series(1, 1000) i;

-- a lying IMMUTABLE function, to make batches (or captures) fail or take
-- long on demand
CREATE FUNCTION checked(x numeric) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF x = -1 AND current_setting('lambda_test.poison', true) = 'on' THEN
        RAISE EXCEPTION 'poisoned row';
    END IF;
    IF x = -2 AND current_setting('lambda_test.slow', true) = 'on' THEN
        PERFORM pg_sleep(0.2);
    END IF;
    RETURN true;
END $$;

SELECT lambda.create_view('sales_by_shop', $$
    SELECT shop, count(*) AS n, sum(amount) AS total
      FROM sales WHERE checked(amount) GROUP BY shop $$);
SELECT batch_table AS sales_batch FROM lambda.views WHERE view = 'sales_by_shop'::regclass \gset

-- version 1 from create_view; each run publishes the next
SELECT batch_version, batch_groups FROM lambda.views WHERE view = 'sales_by_shop'::regclass;
SELECT lambda.run_batch('sales_by_shop');
SELECT batch_version, batch_groups FROM lambda.views WHERE view = 'sales_by_shop'::regclass;

-- the recorded snapshot is the cut: a transaction that commits after a
-- batch is not in its snapshot, and is in the next one's
BEGIN;
INSERT INTO sales VALUES ('2026-02-01', 1, 5);
SELECT pg_current_xact_id() AS late_xid \gset
COMMIT;
SELECT pg_visible_in_snapshot(:'late_xid', batch_snapshot) AS late_in_batch FROM lambda.view WHERE view = 'sales_by_shop'::regclass;
SELECT lambda.run_batch('sales_by_shop');
SELECT pg_visible_in_snapshot(:'late_xid', batch_snapshot) AS late_in_batch FROM lambda.view WHERE view = 'sales_by_shop'::regclass;
SELECT batch_diff_count('sales_by_shop'), diff_count('sales_by_shop');

-- run_batch inside a transaction that rolls back publishes nothing
INSERT INTO sales VALUES ('2026-02-02', 2, 7);
BEGIN;
SELECT lambda.run_batch('sales_by_shop');
SELECT batch_version FROM lambda.views WHERE view = 'sales_by_shop'::regclass;
ROLLBACK;
SELECT batch_version FROM lambda.views WHERE view = 'sales_by_shop'::regclass;
SELECT batch_diff_count('sales_by_shop') > 0 AS previous_batch_kept;
SELECT lambda.run_batch('sales_by_shop');
SELECT batch_diff_count('sales_by_shop');

-- a batch that fails leaves the previous batch, and the view still answers
CREATE TEMP TABLE before_failure AS SELECT * FROM :sales_batch;
INSERT INTO sales VALUES ('2026-02-03', 3, -1);
SET lambda_test.poison = on;
SELECT lambda.run_batch('sales_by_shop');
\echo :LAST_ERROR_SQLSTATE
RESET lambda_test.poison;
SELECT batch_version FROM lambda.views WHERE view = 'sales_by_shop'::regclass;
SELECT count(*) AS changed_rows FROM ((TABLE before_failure EXCEPT ALL TABLE :sales_batch)
                                      UNION ALL (TABLE :sales_batch EXCEPT ALL TABLE before_failure)) d;

-- so does a cancelled one
CREATE TABLE slow_sales (amount numeric);
SELECT lambda.create_master('slow_sales');
SELECT lambda.create_view('slow_total', 'SELECT count(*) AS n FROM slow_sales WHERE checked(amount)');
INSERT INTO slow_sales SELECT -2 FROM generate_series(1, 20);
SET lambda_test.slow = on;
SET statement_timeout = '100ms';
SELECT lambda.run_batch('slow_total');
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
RESET lambda_test.slow;
SELECT batch_version, batch_groups FROM lambda.views WHERE view = 'slow_total'::regclass;
SELECT batch_table AS slow_batch FROM lambda.views WHERE view = 'slow_total'::regclass \gset
SELECT n FROM :slow_batch;

-- the batch query may run in parallel, as CREATE TABLE AS would: with the
-- leader not participating, every row is read by a parallel worker
CREATE TABLE wide (id int, grp int);
SELECT lambda.create_master('wide');
INSERT INTO wide SELECT i, i % 3 FROM generate_series(1, 30000) i;
ANALYZE wide;
SELECT pg_backend_pid() AS leader_pid \gset
SET lambda_test.leader_pid = :leader_pid;
CREATE FUNCTION in_worker(int) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN pg_backend_pid() = current_setting('lambda_test.leader_pid')::int
                THEN 0 ELSE 1 END $$;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT lambda.create_view('wide_workers',
    'SELECT grp, count(*) AS n, sum(in_worker(id)) AS read_by_workers FROM wide GROUP BY grp');
SELECT batch_table AS wide_batch FROM lambda.views WHERE view = 'wide_workers'::regclass \gset
SELECT grp, n, read_by_workers FROM :wide_batch ORDER BY grp;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- a batch run in a transaction that writes to the master: what it wrote
-- before the batch is in the batch table, and the recorded cut leaves the
-- transaction itself out, so what it writes after belongs to the speed layer
CREATE TABLE own_sales (shop int);
SELECT lambda.create_master('own_sales');
BEGIN;
INSERT INTO own_sales VALUES (1);
SELECT lambda.create_view('own_by_shop', 'SELECT shop, count(*) FROM own_sales GROUP BY shop');
INSERT INTO own_sales VALUES (2);
SELECT pg_visible_in_snapshot(pg_current_xact_id(), batch_snapshot) AS own_xact_in_cut
  FROM lambda.view WHERE view = 'own_by_shop'::regclass;
SELECT batch_table AS own_batch FROM lambda.views WHERE view = 'own_by_shop'::regclass \gset
SELECT shop FROM :own_batch ORDER BY shop;
INSERT INTO own_sales VALUES (3);
SELECT lambda.run_batch('own_by_shop');
INSERT INTO own_sales VALUES (4);
SELECT pg_visible_in_snapshot(pg_current_xact_id(), batch_snapshot) AS own_xact_in_cut
  FROM lambda.view WHERE view = 'own_by_shop'::regclass;
SELECT shop FROM :own_batch ORDER BY shop;
COMMIT;
SELECT diff_count('own_by_shop');

-- a capture that fails does not fail the insert: the view loses its fast
-- path, stays exact through the slow path, and a batch restores it
SELECT speed_state FROM lambda.views WHERE view = 'sales_by_shop'::regclass;
SET lambda_test.poison = on;
INSERT INTO sales VALUES ('2026-04-01', 4, -1), ('2026-04-01', 4, 4);
RESET lambda_test.poison;
SELECT count(*) AS inserted FROM sales WHERE ts = '2026-04-01';
SELECT speed_state, slow_reason, slow_since <= now() AS since
  FROM lambda.views WHERE view = 'sales_by_shop'::regclass;
SELECT lambda.fast_path('sales_by_shop');
SELECT diff_count('sales_by_shop');
SELECT lambda.run_batch('sales_by_shop');
SELECT speed_state, slow_reason, slow_since FROM lambda.views WHERE view = 'sales_by_shop'::regclass;
SELECT lambda.fast_path('sales_by_shop');
SELECT diff_count('sales_by_shop');
