-- Bad input: each refused with a clear error and a specific SQLSTATE, and
-- nothing created.
CREATE TABLE orders (ts timestamptz NOT NULL, customer int, item text, qty int, price numeric);
SELECT lambda.create_master('orders');
CREATE TABLE customers (id int, name text);
CREATE TABLE not_a_master (ts timestamptz, qty int);
SELECT * FROM leftovers();
\set SHOW_CONTEXT never

-- query shapes that cannot be split into layers
SELECT lambda.create_view('bad', 'SELECT c.name, count(*) FROM orders o JOIN customers c ON c.id = o.customer GROUP BY c.name');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT c.name, count(*) FROM orders o, customers c WHERE c.id = o.customer GROUP BY c.name');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM (SELECT * FROM orders) o GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders WHERE customer IN (SELECT id FROM customers) GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, (SELECT 1) AS one, count(*) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) OVER () FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT DISTINCT item, count(*) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(DISTINCT customer) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders GROUP BY item ORDER BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders GROUP BY item LIMIT 10');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders GROUP BY item OFFSET 1');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders GROUP BY item HAVING count(*) > (SELECT 1)');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders GROUP BY item UNION ALL SELECT item, count(*) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'WITH o AS (SELECT * FROM orders) SELECT item, count(*) FROM o GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders GROUP BY ROLLUP (item)');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, generate_series(1, 2), count(*) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM ONLY orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders TABLESAMPLE SYSTEM (10) GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT count(*) FROM generate_series(1, 3)');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item FROM orders');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) INTO bad_table FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'INSERT INTO orders VALUES (now())');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT count(*) FROM orders; SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', '');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELEC count(*) FROM orders');
\echo :LAST_ERROR_SQLSTATE

-- (expressions over group keys and aggregates, and HAVING: the aggregates
-- suite; what reads other columns is refused there)
SELECT lambda.create_view('bad', 'SELECT item, count(*) AS n, sum(qty) AS n_sum, avg(qty) AS n FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE

-- unsupported aggregates
SELECT lambda.create_view('bad', 'SELECT item, string_agg(customer::text, '','') FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, json_agg(qty) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, array_agg(qty ORDER BY ts) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, percentile_cont(0.5) WITHIN GROUP (ORDER BY qty) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, mode() WITHIN GROUP (ORDER BY qty) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE

-- functions whose results can change: batch and speed would disagree
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders WHERE ts > now() - interval ''1 day'' GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders WHERE random() < 0.5 GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT date_trunc(''hour'', ts) AS hour, count(*) FROM orders GROUP BY 1');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, sum(qty * random()) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FILTER (WHERE ts > now()) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE

-- names, tables and columns
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM not_a_master GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT qty, count(*) FROM not_a_master GROUP BY qty');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM no_such_table GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT colour, count(*) FROM orders GROUP BY colour');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('customers', 'SELECT item, count(*) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('no_such_schema.bad', 'SELECT item, count(*) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('pg_temp.bad', 'SELECT item, count(*) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view(NULL, 'SELECT item, count(*) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', NULL);
\echo :LAST_ERROR_SQLSTATE
-- a second view with a taken name fails after the first one succeeded
SELECT lambda.create_view('by_item', 'SELECT item, count(*) FROM orders GROUP BY item');
SELECT lambda.create_view('by_item', 'SELECT item, sum(qty) FROM orders GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.drop_view('by_item');

-- schedules
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders GROUP BY item', 'every minute');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders GROUP BY item', '61 * * * *');
\echo :LAST_ERROR_SQLSTATE
-- run_batch, alter_schedule and drop_view take lambda views only
SELECT lambda.run_batch('customers');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.run_batch(0);
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.alter_schedule('customers', '* * * * *');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.alter_schedule(NULL, '* * * * *');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.drop_view('customers');
\echo :LAST_ERROR_SQLSTATE

-- a master cannot get row-level security later (security.sql has more)
SELECT lambda.create_view('by_item', 'SELECT item, count(*) FROM orders GROUP BY item');
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE orders FORCE ROW LEVEL SECURITY;
\echo :LAST_ERROR_SQLSTATE
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'orders'::regclass;
SELECT lambda.drop_view('by_item');

-- keys are hashed and compared, and min and max states compared, while the
-- speed layer holds a lock: a type whose operator classes are written in
-- SQL (a superuser's) is refused as a key, in an array, in a domain, in a
-- range, and in min/max, and so is a composite key; built-in types pass
CREATE TYPE sqltext;
CREATE FUNCTION sqltext_in(cstring) RETURNS sqltext AS 'textin' LANGUAGE internal IMMUTABLE STRICT;
CREATE FUNCTION sqltext_out(sqltext) RETURNS cstring AS 'textout' LANGUAGE internal IMMUTABLE STRICT;
CREATE TYPE sqltext (INPUT = sqltext_in, OUTPUT = sqltext_out, LIKE = text);
CREATE FUNCTION sqltext_cmp(sqltext, sqltext) RETURNS int LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT bttextcmp(textin(sqltext_out($1)), textin(sqltext_out($2))) $$;
CREATE FUNCTION sqltext_hash(sqltext) RETURNS int LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT hashtext(textin(sqltext_out($1))) $$;
CREATE FUNCTION sqltext_lt(sqltext, sqltext) RETURNS bool LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT sqltext_cmp($1, $2) < 0 $$;
CREATE FUNCTION sqltext_le(sqltext, sqltext) RETURNS bool LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT sqltext_cmp($1, $2) <= 0 $$;
CREATE FUNCTION sqltext_eq(sqltext, sqltext) RETURNS bool LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT sqltext_cmp($1, $2) = 0 $$;
CREATE FUNCTION sqltext_ge(sqltext, sqltext) RETURNS bool LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT sqltext_cmp($1, $2) >= 0 $$;
CREATE FUNCTION sqltext_gt(sqltext, sqltext) RETURNS bool LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT sqltext_cmp($1, $2) > 0 $$;
CREATE OPERATOR < (LEFTARG = sqltext, RIGHTARG = sqltext, FUNCTION = sqltext_lt);
CREATE OPERATOR <= (LEFTARG = sqltext, RIGHTARG = sqltext, FUNCTION = sqltext_le);
CREATE OPERATOR = (LEFTARG = sqltext, RIGHTARG = sqltext, FUNCTION = sqltext_eq, HASHES);
CREATE OPERATOR >= (LEFTARG = sqltext, RIGHTARG = sqltext, FUNCTION = sqltext_ge);
CREATE OPERATOR > (LEFTARG = sqltext, RIGHTARG = sqltext, FUNCTION = sqltext_gt);
CREATE OPERATOR CLASS sqltext_ops DEFAULT FOR TYPE sqltext USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 sqltext_cmp(sqltext, sqltext);
CREATE OPERATOR CLASS sqltext_hash_ops DEFAULT FOR TYPE sqltext USING hash AS
    OPERATOR 1 =, FUNCTION 1 sqltext_hash(sqltext);
CREATE DOMAIN sqltext_d AS sqltext;
CREATE TABLE sqlkeys (k sqltext, d sqltext_d, t text, n int);
SELECT lambda.create_master('sqlkeys');
SELECT lambda.create_view('bad', 'SELECT k, count(*) FROM sqlkeys GROUP BY k');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT d, count(*) FROM sqlkeys GROUP BY d');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT ARRAY[k] AS ks, count(*) FROM sqlkeys GROUP BY 1');
\echo :LAST_ERROR_SQLSTATE
CREATE TYPE intpair AS (a int, b int);
SELECT lambda.create_view('bad', 'SELECT ROW(n, n)::intpair AS r, count(*) FROM sqlkeys GROUP BY 1');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT t, max(ARRAY[k]) FROM sqlkeys GROUP BY t');
\echo :LAST_ERROR_SQLSTATE
-- a range compares with its own subtype operator class, whatever the
-- subtype's default (red team 14), and so does its multirange
CREATE FUNCTION sqlint_cmp(int, int) RETURNS int LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT btint4cmp($1, $2) $$;
CREATE OPERATOR CLASS int4_sql_ops FOR TYPE int4 USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 sqlint_cmp(int, int);
CREATE TYPE sqlrange AS RANGE (subtype = int4, subtype_opclass = int4_sql_ops);
SELECT lambda.create_view('bad', 'SELECT sqlrange(n, n + 1) AS r, count(*) FROM sqlkeys GROUP BY 1');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('bad', 'SELECT sqlmultirange(sqlrange(n, n + 1)) AS r, count(*) FROM sqlkeys GROUP BY 1');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_view('sqlkeys_ok', 'SELECT t, ARRAY[n] AS a, max(ARRAY[t]) AS m, count(*) FROM sqlkeys GROUP BY 1, 2');
SELECT lambda.drop_view('sqlkeys_ok');
DROP TABLE sqlkeys;
DROP DOMAIN sqltext_d;
DROP TYPE intpair;
DROP TYPE sqlrange;
DROP FUNCTION sqlint_cmp(int, int) CASCADE;
DROP TYPE sqltext CASCADE;

-- after all that, nothing was left behind
SELECT * FROM leftovers();
SELECT count(*) AS stray_views FROM pg_class WHERE relname = 'bad';

-- without pg_cron, a schedule is refused and nothing is created
DROP EXTENSION pg_cron;
SELECT lambda.create_view('bad', 'SELECT item, count(*) FROM orders GROUP BY item', '* * * * *');
\echo :LAST_ERROR_SQLSTATE
-- without a schedule, no pg_cron is needed
SELECT lambda.create_view('by_item', 'SELECT item, count(*) FROM orders GROUP BY item');
SELECT lambda.alter_schedule('by_item', '* * * * *');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.drop_view('by_item');
CREATE EXTENSION pg_cron;
-- (pg_cron caches its job table's OID per session: start a new one)
\c
SELECT * FROM leftovers();
