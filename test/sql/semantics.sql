-- Aggregate semantics: result types, NULLs, empty groups, FILTER, and the
-- batch table's partial states merging back to the view's own answer.
CREATE TABLE typed (
    k text, d date, t timestamp, tz timestamptz,
    i2 int2, i4 int4, i8 int8, n numeric(10, 2), f4 float4, f8 float8,
    iv interval, m money
);
SELECT lambda.create_master('typed');

-- every supported aggregate over every type it has in PostgreSQL
SELECT lambda.create_view('typed_aggs', $$
    SELECT k,
           count(*) AS n_rows, count(i4) AS n_i4,
           sum(i2) AS sum_i2, sum(i4) AS sum_i4, sum(i8) AS sum_i8, sum(n) AS sum_n,
           sum(f4) AS sum_f4, sum(f8) AS sum_f8, sum(iv) AS sum_iv, sum(m) AS sum_m,
           avg(i2) AS avg_i2, avg(i4) AS avg_i4, avg(i8) AS avg_i8, avg(n) AS avg_n,
           avg(f4) AS avg_f4, avg(f8) AS avg_f8, avg(iv) AS avg_iv,
           min(i4) AS min_i4, max(i8) AS max_i8, min(n) AS min_n, max(f8) AS max_f8,
           min(d) AS min_d, max(t) AS max_t, min(tz) AS min_tz, max(iv) AS max_iv,
           min(k) AS min_k, max(m) AS max_m,
           count(*) FILTER (WHERE i4 > 0) AS n_pos, sum(i4) FILTER (WHERE i4 > 100) AS sum_big
    FROM typed GROUP BY k $$);

-- output types are exactly those of the query run on the master
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS view_type
  FROM pg_attribute a WHERE a.attrelid = 'typed_aggs'::regclass AND a.attnum > 0
 ORDER BY a.attnum;
DO $$
BEGIN
    EXECUTE format('CREATE TEMP TABLE typed_query AS %s WITH NO DATA',
                   (SELECT query FROM lambda.view WHERE view = 'typed_aggs'::regclass));
END $$;
SELECT count(*) AS type_mismatches
  FROM pg_attribute v JOIN pg_attribute q USING (attnum)
 WHERE v.attrelid = 'typed_aggs'::regclass AND q.attrelid = 'typed_query'::regclass
   AND v.attnum > 0 AND (v.atttypid, v.atttypmod) <> (q.atttypid, q.atttypmod);

-- the batch table's partial-state types: avg as a sum and a count
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS state_type
  FROM pg_attribute a JOIN lambda.views v ON a.attrelid = v.batch_table
 WHERE v.view = 'typed_aggs'::regclass AND a.attnum > 0
 ORDER BY a.attnum;

-- empty master: no groups, and a global view still has its one row
SELECT count(*) FROM typed_aggs;
SELECT lambda.create_view('typed_total', $$
    SELECT count(*) AS n, count(i4) AS n_i4, sum(i4) AS s, avg(n) AS a,
           min(tz) AS lo, max(k) AS hi FROM typed WHERE i8 IS DISTINCT FROM 0 $$);
SELECT * FROM typed_total;
SELECT batch_groups FROM lambda.views WHERE view = 'typed_total'::regclass;

INSERT INTO typed VALUES
    ('a', '2026-01-01', '2026-01-01 10:00', '2026-01-01 10:00+00', 1, 10, 100, 1.50, 1.5, 1.25, '1 hour', 1.10),
    ('a', '2026-01-02', '2026-01-02 10:00', '2026-01-02 10:00+00', 2, 200, 200, 2.25, 2.5, 2.5, '2 hours', 2.20),
    ('a', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('b', '2026-02-01', '2026-02-01 00:00', '2026-02-01 00:00+00', -3, -30, 9223372036854775807, -0.01, -1e30, 1e300, '-1 day', -5),
    ('b', '2026-02-02', '2026-02-02 00:00', '2026-02-02 00:00+00', 3, 30, 1, 0.01, 1e30, 1e300, '1 day', 5),
    (NULL, '2026-03-01', '2026-03-01 00:00', '2026-03-01 00:00+00', 7, 7, 7, 7.00, 7, 7, '7 minutes', 7),
    (NULL, '2026-03-01', '2026-03-01 00:00', '2026-03-01 00:00+00', 7, 7, 7, 7.00, 7, 7, '7 minutes', 7),
    ('c', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- NULL keys form their own group; all-NULL inputs give count 0 and NULL
-- sums, averages and extremes
SELECT k, n_rows, n_i4, sum_i4, avg_i4, min_d, n_pos, sum_big FROM typed_aggs ORDER BY k NULLS FIRST;
SELECT k, sum_i8, avg_i8, sum_f4, avg_f4, sum_iv, avg_iv, sum_m, min_k FROM typed_aggs ORDER BY k NULLS FIRST;
SELECT diff_count('typed_aggs');
SELECT * FROM typed_total;
SELECT diff_count('typed_total');

-- a batch, then more rows: partial states merged back give the view's own
-- answer, with its types (the merge the serving layer performs)
SELECT lambda.run_batch('typed_aggs');
SELECT lambda.run_batch('typed_total');
SELECT batch_diff_count('typed_aggs'), batch_diff_count('typed_total');
INSERT INTO typed SELECT k, d, t, tz, i2, i4, i8, n, f4, f8, iv, m FROM typed;
SELECT diff_count('typed_aggs'), diff_count('typed_total');

SELECT batch_table AS typed_batch FROM lambda.views WHERE view = 'typed_aggs'::regclass \gset
CREATE TEMP TABLE merged AS
SELECT k, sum(n_i4)::bigint AS n_i4, sum(sum_i4)::bigint AS sum_i4, sum(sum_i8) AS sum_i8,
       sum(sum_n) AS sum_n, sum(sum_iv) AS sum_iv,
       sum(avg_i4_sum)::numeric / nullif(sum(avg_i4_count), 0) AS avg_i4,
       sum(avg_i8_sum) / nullif(sum(avg_i8_count), 0) AS avg_i8,
       sum(avg_n_sum) / nullif(sum(avg_n_count), 0) AS avg_n,
       sum(avg_iv_sum) / nullif(sum(avg_iv_count), 0)::float8 AS avg_iv,
       min(min_n) AS min_n, max(max_t) AS max_t, min(min_k) AS min_k, sum(n_pos)::bigint AS n_pos
  FROM (SELECT * FROM :typed_batch
        UNION ALL
        SELECT * FROM :typed_batch) both_layers
 GROUP BY k;
SELECT count(*) AS merge_mismatches FROM (
    (SELECT k, n_i4, sum_i4, sum_i8, sum_n, sum_iv, avg_i4, avg_i8, avg_n, avg_iv,
            min_n, max_t, min_k, n_pos FROM merged
     EXCEPT ALL
     SELECT k, n_i4, sum_i4, sum_i8, sum_n, sum_iv, avg_i4, avg_i8, avg_n, avg_iv,
            min_n, max_t, min_k, n_pos FROM typed_aggs)
    UNION ALL
    (SELECT k, n_i4, sum_i4, sum_i8, sum_n, sum_iv, avg_i4, avg_i8, avg_n, avg_iv,
            min_n, max_t, min_k, n_pos FROM typed_aggs
     EXCEPT ALL
     SELECT k, n_i4, sum_i4, sum_i8, sum_n, sum_iv, avg_i4, avg_i8, avg_n, avg_iv,
            min_n, max_t, min_k, n_pos FROM merged)) d;
SELECT k, avg_i4, avg_n FROM merged ORDER BY k NULLS FIRST;

-- group keys that are expressions, hidden group keys, a key output twice,
-- text keys of any length
SELECT lambda.create_view('by_expr', $$
    SELECT lower(k) AS lk, lower(k) AS again, count(*) AS n
      FROM typed GROUP BY lower(k), i4 > 0 $$);
SELECT a.attname FROM pg_attribute a JOIN lambda.views v ON a.attrelid = v.batch_table
 WHERE v.view = 'by_expr'::regclass AND a.attnum > 0 ORDER BY a.attnum;
INSERT INTO typed (k, i4) VALUES (repeat('x', 5000), 1), (repeat('x', 5000), 2);
SELECT lambda.run_batch('by_expr');
SELECT length(lk), again = lk AS same, n FROM by_expr ORDER BY 1 NULLS FIRST, 3;
SELECT diff_count('by_expr'), batch_diff_count('by_expr');

-- merged numeric sums keep sum()'s value and display scale, as text
CREATE TABLE scaled (k int, x numeric);
SELECT lambda.create_master('scaled');
INSERT INTO scaled VALUES (1, 1.5), (1, 2.25), (2, 7);
SELECT lambda.create_view('scaled_sum', 'SELECT k, sum(x) AS s, avg(x) AS a FROM scaled GROUP BY k');
INSERT INTO scaled VALUES (1, 0.125), (2, 1), (3, NULL);
SELECT v.k, v.s::text, q.s::text AS query_s, v.a::text, q.a::text AS query_a
  FROM scaled_sum v
  JOIN (SELECT k, sum(x) AS s, avg(x) AS a FROM scaled GROUP BY k) q USING (k)
 ORDER BY k;

-- calendar buckets in local time: date_trunc(unit, ts, zone) with a
-- constant zone, for every unit.  At the autumn change of clocks in Berlin
-- (2026-10-25, 03:00 CEST back to 02:00 CET) the two 02:00 hours stay two
-- buckets, as in the query.  Rows come through the batch, the speed layer,
-- the transaction's own uncommitted rows and a rolled-back subtransaction.
SET timezone = 'UTC';
CREATE TABLE local_events (ts timestamptz NOT NULL, amount int);
SELECT lambda.create_master('local_events');
INSERT INTO local_events
SELECT '2026-10-24 22:00+00'::timestamptz + i * interval '10 minutes', i FROM generate_series(0, 35) i;
SELECT lambda.create_view('by_local_hour', $$
    SELECT date_trunc('hour', ts, 'Europe/Berlin') AS hour, count(*) AS n, sum(amount) AS total
      FROM local_events GROUP BY 1 $$);
SELECT lambda.create_view('by_local_calendar', $$
    SELECT date_trunc('day', ts, 'Europe/Berlin') AS day, date_trunc('week', ts, 'Europe/Berlin') AS week,
           date_trunc('month', ts, 'Europe/Berlin') AS month, date_trunc('quarter', ts, 'Europe/Berlin') AS quarter,
           date_trunc('year', ts, 'Europe/Berlin') AS year, count(*) AS n
      FROM local_events GROUP BY 1, 2, 3, 4, 5 $$);
INSERT INTO local_events
SELECT '2026-10-25 04:00+00'::timestamptz + i * interval '7 hours', i FROM generate_series(0, 300) i;
BEGIN;
INSERT INTO local_events VALUES ('2026-10-25 00:30+00', 1000), ('2026-10-25 01:30+00', 2000);
SAVEPOINT s;
INSERT INTO local_events VALUES ('2026-10-25 00:45+00', 99999);
ROLLBACK TO SAVEPOINT s;
SELECT hour AT TIME ZONE 'Europe/Berlin' AS berlin_hour, hour, n, total
  FROM by_local_hour WHERE hour < '2026-10-25 03:00+00' ORDER BY hour;
SELECT diff_count('by_local_hour') AS hour_diff, diff_count('by_local_calendar') AS calendar_diff;
COMMIT;
SELECT diff_count('by_local_hour') AS hour_diff, diff_count('by_local_calendar') AS calendar_diff,
       lambda.fast_path('by_local_hour') AS fast;
SELECT count(*) AS months FROM (SELECT DISTINCT month FROM by_local_calendar) m;
-- refused: a zone that is not a constant, and the two-argument form, which
-- reads the TimeZone setting (the hint shows the three-argument form)
CREATE TABLE zoned_events (ts timestamptz NOT NULL, zone text);
SELECT lambda.create_master('zoned_events');
SELECT lambda.create_view('by_zone_day', $$
    SELECT date_trunc('day', ts, zone) AS day, count(*) AS n FROM zoned_events GROUP BY 1 $$);
SELECT lambda.create_view('by_session_day', $$
    SELECT date_trunc('day', ts) AS day, count(*) AS n FROM zoned_events GROUP BY 1 $$);
RESET timezone;
