-- Any aggregate with a combine function, expressions over aggregates and
-- group keys, HAVING: results equal the query on the master, through the
-- batch, the speed layer, the transaction's own rows and a rolled-back
-- subtransaction; and what is refused, with its hint.
CREATE EXTENSION hll;
CREATE EXTENSION tdigest;
SELECT views AS views_before, relations AS relations_before FROM leftovers() \gset

-- Rows by which a view and its query on the master differ, joined on the
-- group keys: floats agree to 1e-9 of their size (the order of additions
-- differs between the layers and the query), everything else exactly.
CREATE FUNCTION agg_diff(v regclass, keys text[]) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    q text;
    cond text;
    joined text;
BEGIN
    SELECT query INTO STRICT q FROM lambda.view WHERE view = v;
    SELECT string_agg(CASE WHEN a.atttypid IN ('float4'::regtype, 'float8'::regtype)
                           THEN format('NOT (v.%1$I IS NOT DISTINCT FROM q.%1$I OR abs(v.%1$I - q.%1$I) <= 1e-9 * greatest(abs(q.%1$I), 1))', a.attname)
                           ELSE format('v.%1$I::text IS DISTINCT FROM q.%1$I::text', a.attname) END,
                      ' OR ' ORDER BY a.attnum)
      INTO cond
      FROM pg_attribute a
     WHERE a.attrelid = v AND a.attnum > 0 AND NOT a.attname = ANY (keys);
    SELECT coalesce(string_agg(format('coalesce(v.%1$I::text, ''(null)'') = coalesce(q.%1$I::text, ''(null)'')', k), ' AND '), 'true')
      INTO joined FROM unnest(keys) k;
    RETURN QUERY EXECUTE format(
        'SELECT coalesce(row_to_json(v)::text, '''') || '' <> '' || coalesce(row_to_json(q)::text, '''')
           FROM %s v FULL JOIN (%s) q ON %s
          WHERE v IS NULL OR q IS NULL OR %s ORDER BY 1', v, q, joined, coalesce(cond, 'false'));
END $$;

CREATE TABLE obs (
    k text, i2 int2, i4 int4, i8 int8, n numeric(12, 3), f4 float4, f8 float8,
    b boolean, bt bit(4), x float8, y float8, u int
);
SELECT lambda.create_master('obs');

-- A user-defined aggregate with a combine function: the product of
-- integers, as numeric.  Its transition is SQL; its combine function is C,
-- since merges run under the speed layer's lock.
CREATE FUNCTION num_mul(numeric, int) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 * $2';
CREATE AGGREGATE product(int) (
    SFUNC = num_mul, STYPE = numeric, INITCOND = '1', COMBINEFUNC = pg_catalog.numeric_mul
);

INSERT INTO obs
SELECT (ARRAY['a', 'b', 'c'])[1 + g % 3], g % 7, g * 3, g * 1000, g / 8.0, g / 4.0, g * 1.5,
       g % 5 <> 0, (g % 16)::bit(4), g % 11, (g * 7) % 13, g % 9
  FROM generate_series(1, 60) g;
INSERT INTO obs VALUES ('a', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- every aggregate the issue names, in one view: statistics of every state
-- family, flags, bits, regressions, hll and t-digest, and the user's own
SELECT lambda.create_view('obs_stats', $$
    SELECT k,
           stddev(i2) AS sd_i2, stddev_pop(i4) AS sdp_i4, stddev_samp(i8) AS sds_i8,
           variance(n) AS var_n, var_pop(f4) AS varp_f4, var_samp(f8) AS vars_f8,
           bool_and(b) AS band, bool_or(b) AS bor, every(b) AS evr,
           bit_and(i4) AS bitand, bit_or(i2) AS bitor, bit_xor(u) AS bitxor,
           bit_or(bt) AS bitor_bits, bit_and(bt) AS bitand_bits,
           corr(y, x) AS corr, covar_pop(y, x) AS covp, covar_samp(y, x) AS covs,
           regr_slope(y, x) AS slope, regr_intercept(y, x) AS icpt, regr_count(y, x) AS rcount,
           regr_r2(y, x) AS r2, regr_avgx(y, x) AS avgx, regr_avgy(y, x) AS avgy,
           regr_sxx(y, x) AS sxx, regr_syy(y, x) AS syy, regr_sxy(y, x) AS sxy,
           hll_cardinality(hll_add_agg(hll_hash_integer(u))) AS users,
           tdigest_percentile(f8, 100, 0.95) AS p95,
           product(u) FILTER (WHERE u > 0) AS prod
      FROM obs GROUP BY k $$);

-- output types are the query's
DO $$
BEGIN
    EXECUTE format('CREATE TEMP TABLE obs_query AS %s WITH NO DATA',
                   (SELECT query FROM lambda.view WHERE view = 'obs_stats'::regclass));
END $$;
SELECT count(*) AS type_mismatches
  FROM pg_attribute v JOIN pg_attribute q USING (attnum)
 WHERE v.attrelid = 'obs_stats'::regclass AND q.attrelid = 'obs_query'::regclass
   AND v.attnum > 0 AND (v.atttypid, v.atttypmod, v.attname) <> (q.atttypid, q.atttypmod, q.attname);

-- the batch table keeps one partial state per aggregate
SELECT count(*) FILTER (WHERE atttypid = 'lambda.state'::regtype) AS states,
       count(*) AS columns
  FROM pg_attribute a JOIN lambda.views v ON a.attrelid = v.batch_table
 WHERE v.view = 'obs_stats'::regclass AND a.attnum > 0;

-- 1. the batch alone
SELECT * FROM agg_diff('obs_stats', '{k}');
SELECT k, band, bitor_bits, rcount, users, p95, prod FROM obs_stats ORDER BY k;

-- 2. batch + speed: new rows, a new group, NULLs
INSERT INTO obs
SELECT (ARRAY['a', 'b', 'c', 'd'])[1 + g % 4], g % 5, -g, g, g / 3.0, g / 2.0, g * 0.25,
       g % 3 <> 0, (g % 8)::bit(4), g % 6, g % 4, g % 13
  FROM generate_series(1, 40) g;
INSERT INTO obs (k) VALUES ('e');
SELECT lambda.fast_path('obs_stats') AS fast;
SELECT * FROM agg_diff('obs_stats', '{k}');

-- 3. the transaction's own uncommitted rows, and a rolled-back subtransaction
BEGIN;
INSERT INTO obs VALUES ('a', 1, 1, 1, 1, 1, 1, false, B'1111', 100, -100, 1000);
SAVEPOINT s;
INSERT INTO obs VALUES ('b', 9, 9, 9, 9, 9, 9000, true, B'0000', 9, 9, 9);
INSERT INTO obs VALUES ('z', 9, 9, 9, 9, 9, 9, true, B'0000', 9, 9, 9);
ROLLBACK TO SAVEPOINT s;
INSERT INTO obs VALUES ('c', 2, 2, 2, 2, 2, 2, true, B'0001', 2, 3, 5);
SELECT * FROM agg_diff('obs_stats', '{k}');
SELECT k, band, users FROM obs_stats WHERE k IN ('a', 'z') ORDER BY k;
COMMIT;
SELECT * FROM agg_diff('obs_stats', '{k}');

-- 4. settled by a worker (its combine functions, as the view's owner)
DO $$
DECLARE
    r0 bigint := lambda.settle_rounds('obs_stats');
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN lambda.settle_rounds('obs_stats') >= r0 + 2;
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT speed_state, speed_pending FROM lambda.views WHERE view = 'obs_stats'::regclass;
SELECT * FROM agg_diff('obs_stats', '{k}');

-- 5. a new batch, then more rows; and a look-up by key
SELECT lambda.run_batch('obs_stats');
INSERT INTO obs SELECT 'b', 1, 1, 1, 1, 1, g, true, B'0100', g, g, g FROM generate_series(1, 5) g;
SELECT * FROM agg_diff('obs_stats', '{k}');
SELECT k, rcount, users FROM obs_stats WHERE k = 'b';

-- 6. a batch computed by parallel workers: their partial states travel
-- serialized to the leader, which combines them (lambda.partial_agg's own
-- combine, serialize and deserialize functions)
CREATE TABLE par (k int, x float8, u int);
SELECT lambda.create_master('par');
INSERT INTO par SELECT g % 4, g / 7.0, g % 1000 FROM generate_series(1, 100000) g;
ANALYZE par;
SELECT lambda.create_view('par_stats', $$
    SELECT k, count(*) AS n, stddev(x) AS sd, bit_or(u) AS bits, bool_and(u < 999) AS small,
           hll_cardinality(hll_add_agg(hll_hash_integer(u))) AS users,
           tdigest_percentile(x, 100, 0.5) AS median
      FROM par GROUP BY k $$);
SELECT partial_view::regclass AS par_partial FROM lambda.view WHERE view = 'par_stats'::regclass \gset
SET parallel_setup_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT * FROM :par_partial;
SELECT lambda.run_batch('par_stats');
SELECT k, n, bits, small, users FROM par_stats ORDER BY k;
-- t-digests merged from workers' partial digests, as parallel query merges
-- them: within 5% of the exact median (a t-digest of sorted input is off by
-- 2% alone)
SELECT count(*) AS differing
  FROM par_stats s JOIN (SELECT k, count(*) AS n, stddev(x) AS sd, bit_or(u) AS bits,
                                hll_cardinality(hll_add_agg(hll_hash_integer(u))) AS users,
                                percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS median
                           FROM par GROUP BY k) q USING (k)
 WHERE s.n <> q.n OR abs(s.sd - q.sd) > 1e-9 * q.sd OR s.bits <> q.bits OR s.users <> q.users
    OR abs(s.median - q.median) > 0.05 * q.median;
-- a parallel query that reads a view (in the leader, where no subtransaction
-- may start: a failed merge would fail the read rather than fall back)
INSERT INTO par VALUES (1, 1, 1);
SET parallel_tuple_cost = 0;
EXPLAIN (COSTS OFF) SELECT s.k, count(*) FROM par_stats s JOIN par p USING (k) GROUP BY s.k;
SELECT s.k, count(*), min(s.n) AS n FROM par_stats s JOIN par p USING (k) GROUP BY s.k ORDER BY 1;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- Expressions over aggregates and group keys, and HAVING, on the merged row
SELECT lambda.create_view('obs_ratios', $$
    SELECT upper(k) AS key, k || '!' AS loud,
           sum(f8) / nullif(count(*), 0) AS ratio,
           round(avg(n), 2) AS avg2,
           count(*) - count(i4) AS missing,
           hll_cardinality(hll_add_agg(hll_hash_integer(u))) :: int AS users,
           coalesce(max(i4), 0) + min(i2) AS spread
      FROM obs GROUP BY k HAVING count(*) > 12 AND bool_or(b) $$);
SELECT * FROM obs_ratios ORDER BY key;
INSERT INTO obs SELECT 'e', 1, 1, 1, 1, 1, 1, true, B'0000', 1, 1, g FROM generate_series(1, 20) g;
SELECT * FROM agg_diff('obs_ratios', '{key,loud}');
SELECT key, users FROM obs_ratios WHERE key = 'E';
-- HAVING alone, its aggregates in no column
SELECT lambda.create_view('obs_busy', $$
    SELECT k FROM obs GROUP BY k HAVING count(*) >= 30 $$);
SELECT * FROM obs_busy ORDER BY k;
SELECT * FROM agg_diff('obs_busy', '{k}');
-- one call used twice is kept once
SELECT lambda.create_view('obs_twice', $$
    SELECT count(*) AS n, count(*) * 2 AS n2, stddev(f8) AS sd, stddev(f8) / 2 AS half
      FROM obs $$);
SELECT count(*) AS state_columns
  FROM pg_attribute a JOIN lambda.views v ON a.attrelid = v.batch_table
 WHERE v.view = 'obs_twice'::regclass AND a.attnum > 0;
SELECT * FROM agg_diff('obs_twice', '{}');

-- Refused, each with the mergeable alternative or the reason
SELECT lambda.create_view('bad', 'SELECT k, count(DISTINCT u) FROM obs GROUP BY k');
SELECT lambda.create_view('bad', 'SELECT k, percentile_cont(0.95) WITHIN GROUP (ORDER BY f8) FROM obs GROUP BY k');
SELECT lambda.create_view('bad', 'SELECT k, mode() WITHIN GROUP (ORDER BY u) FROM obs GROUP BY k');
SELECT lambda.create_view('bad', 'SELECT k, array_agg(u) FROM obs GROUP BY k');
SELECT lambda.create_view('bad', 'SELECT k, string_agg(k, '','') FROM obs GROUP BY k');
SELECT lambda.create_view('bad', 'SELECT k, json_agg(u) FROM obs GROUP BY k');
SELECT lambda.create_view('bad', 'SELECT k, sum(u ORDER BY u) FROM obs GROUP BY k');
SELECT lambda.create_view('bad', 'SELECT k, stddev(DISTINCT f8) FROM obs GROUP BY k');
SELECT lambda.create_view('bad', 'SELECT k, range_intersect_agg(int4range(u, u + 10)) FROM obs GROUP BY k');
SELECT lambda.create_view('bad', 'SELECT k, rank(3) WITHIN GROUP (ORDER BY u) FROM obs GROUP BY k');
-- no combine function; a combine function in SQL
CREATE AGGREGATE product_alone(int) (SFUNC = num_mul, STYPE = numeric, INITCOND = '1');
SELECT lambda.create_view('bad', 'SELECT k, product_alone(u) FROM obs GROUP BY k');
CREATE FUNCTION num_mul_sql(numeric, numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 * $2';
CREATE AGGREGATE product_sql(int) (SFUNC = num_mul, STYPE = numeric, INITCOND = '1',
                                   COMBINEFUNC = num_mul_sql);
SELECT lambda.create_view('bad', 'SELECT k, product_sql(u) FROM obs GROUP BY k');
-- a column outside the group keys, allowed by a primary key
CREATE TABLE keyed (id int PRIMARY KEY, name text, v int);
SELECT lambda.create_master('keyed');
SELECT lambda.create_view('bad', 'SELECT id, name, count(*) FROM keyed GROUP BY id');
SELECT lambda.create_view('bad', 'SELECT id, count(*) FROM keyed GROUP BY id HAVING name > ''x''');
SELECT lambda.create_view('bad', 'SELECT k, sum(u) FROM obs GROUP BY k HAVING sum(u) > (SELECT 1)');
-- a derived name taken by an output column
SELECT lambda.create_view('bad', 'SELECT k AS lambda_agg_1, count(*) + 1 FROM obs GROUP BY k');
-- nothing half-made by the refused ones
SELECT views - :views_before AS views_made, relations - :relations_before AS relations_made
  FROM leftovers();

-- An aggregate a view uses cannot be replaced under it; others can
CREATE OR REPLACE AGGREGATE product(int) (
    SFUNC = num_mul, STYPE = numeric, INITCOND = '2', COMBINEFUNC = pg_catalog.numeric_mul
);
\echo :LAST_ERROR_SQLSTATE
CREATE OR REPLACE AGGREGATE product_alone(int) (SFUNC = num_mul, STYPE = numeric, INITCOND = '2');
SELECT k, prod FROM obs_stats WHERE k = 'a';

-- Nor can what the layers compute with change under a view: the
-- transition of an aggregate it uses, a function of its filter; what runs
-- when the view is read (its select list over aggregates) may
CREATE OR REPLACE FUNCTION num_mul(numeric, int) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 * $2 * 2';
\echo :LAST_ERROR_SQLSTATE
ALTER FUNCTION num_mul(numeric, int) CALLED ON NULL INPUT;
\echo :LAST_ERROR_SQLSTATE
ALTER ROUTINE num_mul(numeric, int) VOLATILE;
\echo :LAST_ERROR_SQLSTATE
ALTER FUNCTION num_mul(numeric, int) COST 5;
CREATE FUNCTION small(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 < 5';
CREATE FUNCTION twice(numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
SELECT lambda.create_view('obs_small', $$
    SELECT k, twice(sum(n)) AS s2 FROM obs WHERE small(u) GROUP BY k $$);
CREATE OR REPLACE FUNCTION small(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 < 6';
\echo :LAST_ERROR_SQLSTATE
CREATE OR REPLACE FUNCTION twice(numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $1';
SELECT * FROM agg_diff('obs_small', '{k}');
SELECT lambda.drop_view('obs_small');
DROP FUNCTION small(int), twice(numeric);

-- A strict transition function with no initial value takes its first
-- input as its state: refused once the input is not of the state's type
-- (here it became strict after CREATE AGGREGATE checked)
CREATE FUNCTION cat_sf(text, int8) RETURNS text
    LANGUAGE sql IMMUTABLE AS 'SELECT coalesce($1, '''') || $2::text';
CREATE AGGREGATE cat_agg(int8) (SFUNC = cat_sf, STYPE = text, COMBINEFUNC = pg_catalog.textcat);
ALTER FUNCTION cat_sf(text, int8) STRICT;
SELECT lambda.partial_agg('cat_agg(int8)'::regprocedure, 16::int8);
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT k, cat_agg(i8) FROM obs GROUP BY k');
-- a state read back with a receive function that runs a domain's CHECK
CREATE DOMAIN pos8 AS int8 CHECK (VALUE > 0);
CREATE FUNCTION pos_sf(pos8[], int8) RETURNS pos8[]
    LANGUAGE sql IMMUTABLE AS 'SELECT coalesce($1, ''{}'') || $2::pos8';
CREATE AGGREGATE pos_collect(int8) (SFUNC = pos_sf, STYPE = pos8[], COMBINEFUNC = pg_catalog.array_cat);
SELECT lambda.create_view('bad', 'SELECT k, pos_collect(i8) FROM obs GROUP BY k');
-- a state kept by an enum's label, which ALTER TYPE ... RENAME VALUE changes
CREATE TYPE lvl AS ENUM ('low', 'high');
CREATE AGGREGATE lvl_top(lvl) (SFUNC = pg_catalog.enum_larger, STYPE = lvl,
                               COMBINEFUNC = pg_catalog.enum_larger);
SELECT lambda.create_view('bad', 'SELECT k, lvl_top((CASE WHEN u > 4 THEN ''high'' ELSE ''low'' END)::lvl) FROM obs GROUP BY k');
DROP AGGREGATE lvl_top(lvl);
DROP TYPE lvl;
-- an extension's parameters are constants (states of different t-digest
-- compressions do not merge)
SELECT lambda.create_view('bad', 'SELECT k, tdigest_percentile(f8, u, 0.5) FROM obs GROUP BY k');
SELECT lambda.create_view('bad', 'SELECT k, hll_add_agg(hll_hash_integer(u), u % 3 + 10) FROM obs GROUP BY k');
DROP AGGREGATE cat_agg(int8), pos_collect(int8);
DROP FUNCTION cat_sf(text, int8), pos_sf(pos8[], int8);
DROP DOMAIN pos8;

-- A capture whose key function changes a function (which invalidates every
-- view's prepared expressions) and reads the view (which prepares them
-- anew) goes on with the expressions it started with
CREATE TABLE mc (k int);
SELECT lambda.create_master('mc');
CREATE FUNCTION side(int) RETURNS int VOLATILE LANGUAGE plpgsql AS $$
BEGIN
    IF $1 = 2 AND current_setting('lambda_test.once', true) IS DISTINCT FROM 'x' THEN
        PERFORM set_config('lambda_test.once', 'x', true);
        CREATE OR REPLACE FUNCTION public.dummy() RETURNS int LANGUAGE sql AS 'SELECT 1';
        PERFORM count(*) FROM public.vc;
    END IF;
    RETURN $1;
END $$;
CREATE FUNCTION key_of(int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN RETURN public.side($1); END $$;
SELECT lambda.create_view('vc', 'SELECT key_of(k) AS g, count(*) AS n FROM mc GROUP BY 1');
INSERT INTO mc SELECT i % 3 FROM generate_series(1, 100) i;
SELECT * FROM vc ORDER BY g;
SELECT lambda.drop_view('vc');
DROP TABLE mc;
DROP FUNCTION key_of(int), side(int), dummy();

-- Partial states are lambda's alone: no input, no cast, and the final step
-- checks whose state it reads
SELECT '\x00'::lambda.state;
\echo :LAST_ERROR_SQLSTATE
SELECT '\x00'::bytea::lambda.state;
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.finalize(s, 'pg_catalog.variance(numeric)'::regprocedure, NULL::numeric)
  FROM (SELECT lambda.partial_agg('pg_catalog.stddev(smallint)'::regprocedure, i2) AS s FROM obs) p;
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.finalize(s, 'pg_catalog.stddev(smallint)'::regprocedure, NULL::float8)
  FROM (SELECT lambda.partial_agg('pg_catalog.stddev(smallint)'::regprocedure, i2) AS s FROM obs) p;
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.finalize(s, 'pg_catalog.stddev(smallint)'::regprocedure, NULL::numeric) = stddev
  FROM (SELECT lambda.partial_agg('pg_catalog.stddev(smallint)'::regprocedure, i2) AS s,
               stddev(i2) FROM obs) p;
SELECT lambda.partial_agg('pg_catalog.stddev(smallint)'::regprocedure, i4) FROM obs;
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.partial_agg('pg_catalog.array_agg(anynonarray)'::regprocedure, i4) FROM obs;
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.partial_agg('pg_catalog.lower(text)'::regprocedure, k) FROM obs;
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.partial_agg(CASE WHEN u > 4 THEN 'pg_catalog.bit_or(integer)' ELSE 'pg_catalog.bit_and(integer)' END::regprocedure, u)
  FROM obs;
\echo :LAST_ERROR_SQLSTATE
-- EXECUTE on the aggregate is checked, as for a call of the aggregate
CREATE ROLE agg_reader;
GRANT SELECT ON obs TO agg_reader;
REVOKE EXECUTE ON FUNCTION product(int) FROM PUBLIC;
SET ROLE agg_reader;
SELECT product(u) FROM obs;
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.partial_agg('public.product(integer)'::regprocedure, u) FROM obs;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- clean up
SELECT lambda.drop_view(v) FROM unnest(ARRAY['obs_stats', 'obs_ratios', 'obs_busy', 'obs_twice',
                                             'par_stats']::regclass[]) v;
DROP TABLE obs, par, keyed;
DROP AGGREGATE product(int), product_alone(int), product_sql(int);
DROP FUNCTION agg_diff(regclass, text[]), num_mul(numeric, int), num_mul_sql(numeric, numeric);
DROP ROLE agg_reader;
SELECT views = :views_before AND relations = :relations_before AS nothing_left FROM leftovers();
