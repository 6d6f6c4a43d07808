-- Security: installing lambda gives no role a right it did not have.  Each
-- attack of issue 8 is tried as an ordinary role and refused; at the end no
-- role gained a right and the views are exact.
\set SHOW_CONTEXT never
\set VERBOSITY default
SELECT views AS views_before, relations AS relations_before, jobs AS jobs_before
  FROM leftovers() \gset

-- alice owns a master; bob defines views over it; mallory has nothing but
-- the defaults (TEMP on the database, USAGE on public)
CREATE ROLE lambda_alice LOGIN;
CREATE ROLE lambda_bob LOGIN;
CREATE ROLE lambda_carol LOGIN;
CREATE ROLE lambda_mallory LOGIN;
GRANT CREATE ON SCHEMA public TO lambda_alice, lambda_bob;

-- What attacker code records when it runs: whether it ran with a
-- superuser's rights.  Anyone may write it, nobody would need to.
CREATE TABLE pwned (who name, superuser boolean);
GRANT INSERT, SELECT ON pwned TO PUBLIC;
CREATE FUNCTION public.steal() RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO public.pwned
        SELECT current_user, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user;
    BEGIN
        EXECUTE 'ALTER ROLE lambda_mallory SUPERUSER';
    EXCEPTION WHEN others THEN NULL;
    END;
    RETURN true;
END $$;

-- Run a statement as the current role; what it gives, with OIDs masked
CREATE FUNCTION attempt(cmd text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE cmd;
    RETURN 'done';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ' ' || regexp_replace(SQLERRM, '_[0-9]+', '_N', 'g');
END $$;

SET ROLE lambda_alice;
CREATE TABLE sec_events (ts timestamptz NOT NULL, item text, qty int, secret text);
SELECT lambda.create_master('sec_events');
INSERT INTO sec_events VALUES ('2026-01-01', 'apple', 1, 's1'), ('2026-01-01', 'pear', 2, 's2');
GRANT SELECT (ts, item, qty) ON sec_events TO lambda_bob;
RESET ROLE;

-- 1. Event triggers resolve none of the caller's names.
-- a temporary domain named regclass (TEMP is all mallory needs) ...
SET ROLE lambda_mallory;
CREATE FUNCTION pg_temp.check_regclass(oid) RETURNS boolean
    LANGUAGE sql AS 'SELECT public.steal()';
CREATE DOMAIN pg_temp.regclass AS oid CHECK (pg_temp.check_regclass(VALUE));
CREATE DOMAIN pg_temp.pg_snapshot AS text CHECK (pg_temp.check_regclass(1));
CREATE TEMP TABLE mallory_t (x int);
ALTER TABLE mallory_t ADD COLUMN y int;
CREATE TEMP VIEW mallory_v AS SELECT * FROM mallory_t;
DROP VIEW mallory_v;
DROP TABLE mallory_t;
-- (the domains would capture this session's own regclass casts too)
DROP DOMAIN pg_temp.regclass, pg_temp.pg_snapshot;
DROP FUNCTION pg_temp.check_regclass(oid);
RESET ROLE;
-- ... or operators in a schema first on the search_path
CREATE SCHEMA mallory_s AUTHORIZATION lambda_mallory;
SET ROLE lambda_mallory;
CREATE FUNCTION mallory_s.eq(oid, oid) RETURNS boolean
    LANGUAGE sql AS 'SELECT public.steal() AND $1 OPERATOR(pg_catalog.=) $2';
CREATE FUNCTION mallory_s.eq(oid, regclass) RETURNS boolean
    LANGUAGE sql AS 'SELECT public.steal() AND $1 OPERATOR(pg_catalog.=) $2';
CREATE FUNCTION mallory_s.eq(regclass, oid) RETURNS boolean
    LANGUAGE sql AS 'SELECT public.steal() AND $1 OPERATOR(pg_catalog.=) $2';
CREATE FUNCTION mallory_s.eq(text, text) RETURNS boolean
    LANGUAGE sql AS 'SELECT public.steal() AND $1 OPERATOR(pg_catalog.=) $2';
CREATE FUNCTION mallory_s.eq(integer, integer) RETURNS boolean
    LANGUAGE sql AS 'SELECT public.steal() AND $1 OPERATOR(pg_catalog.=) $2';
CREATE OPERATOR mallory_s.= (FUNCTION = mallory_s.eq, LEFTARG = oid, RIGHTARG = oid);
CREATE OPERATOR mallory_s.= (FUNCTION = mallory_s.eq, LEFTARG = oid, RIGHTARG = regclass);
CREATE OPERATOR mallory_s.= (FUNCTION = mallory_s.eq, LEFTARG = regclass, RIGHTARG = oid);
CREATE OPERATOR mallory_s.= (FUNCTION = mallory_s.eq, LEFTARG = text, RIGHTARG = text);
CREATE OPERATOR mallory_s.= (FUNCTION = mallory_s.eq, LEFTARG = integer, RIGHTARG = integer);
SET search_path = mallory_s, pg_catalog, public;
CREATE TABLE mallory_s.t (x int);
ALTER TABLE mallory_s.t ADD COLUMN y int;
DROP TABLE mallory_s.t;
-- lambda's own read paths as mallory
SELECT count(*) >= 0 AS listed FROM lambda.views;
RESET search_path;
RESET ROLE;
SELECT * FROM pwned;

-- 2. Defining a view takes what CREATE TRIGGER takes: SELECT is not enough.
SET ROLE lambda_alice;
GRANT SELECT ON sec_events TO lambda_mallory;
RESET ROLE;
SET ROLE lambda_mallory;
SELECT lambda.create_view('mallory_view', 'SELECT item, count(*) FROM sec_events GROUP BY item');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE lambda_alice;
GRANT TRIGGER ON sec_events TO lambda_bob;
RESET ROLE;
SET ROLE lambda_bob;
-- SELECT on the columns read is needed too: secret is not granted
SELECT lambda.create_view('bob_secrets', 'SELECT secret, count(*) FROM sec_events GROUP BY secret');
\echo :LAST_ERROR_SQLSTATE
-- bob's "IMMUTABLE" function says whose rights it runs with
CREATE FUNCTION public.bob_spy(int) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RAISE NOTICE 'bob_spy runs as %',
        (SELECT CASE WHEN rolsuper THEN 'a superuser' ELSE rolname::text END
           FROM pg_catalog.pg_roles WHERE rolname = current_user);
    RETURN $1 > 0;
END $$;
SELECT lambda.create_view('bob_view', 'SELECT item, count(*) AS n, sum(qty) AS total FROM sec_events WHERE public.bob_spy(qty) GROUP BY item');
RESET ROLE;
-- a superuser's batch and slow-path read run bob's code as bob, restricted
SELECT lambda.run_batch('bob_view');
SELECT * FROM lambda.exact('bob_view') AS e(item text, n bigint, total bigint) ORDER BY item;
-- a writer's insert runs it as the writer, as a trigger does
SET ROLE lambda_alice;
INSERT INTO sec_events VALUES ('2026-01-02', 'apple', 3, 's3');
RESET ROLE;
-- restricted (no temporary objects, no SET ROLE), under a pinned
-- search_path, whatever the caller's
CREATE FUNCTION public.try_temp() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    CREATE TEMP TABLE bob_tmp (x int);
    DROP TABLE bob_tmp;
    RETURN 'temp table allowed';
EXCEPTION WHEN others THEN
    RETURN SQLERRM;
END $$;
CREATE FUNCTION public.bob_temp(int) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RAISE NOTICE 'search_path is %; %', current_setting('search_path'), public.try_temp();
    RETURN true;
END $$;
ALTER FUNCTION public.bob_temp(int) OWNER TO lambda_bob;
ALTER FUNCTION public.try_temp() OWNER TO lambda_bob;
SET ROLE lambda_bob;
SELECT lambda.create_view('bob_path', 'SELECT item, count(*) FROM sec_events WHERE public.bob_temp(qty) GROUP BY item');
RESET ROLE;
SET search_path = mallory_s, public;
SELECT lambda.run_batch('bob_path');
RESET search_path;

-- ... and whatever settings bob's code changes, even for the session, are
-- rolled back when lambda switches back
CREATE FUNCTION public.leak() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('search_path', 'mallory_s, pg_catalog, public', false);
    PERFORM set_config('work_mem', '1234kB', false);
    PERFORM set_config('default_transaction_read_only', 'on', false);
    RETURN 'leaked';
END $$;
CREATE FUNCTION public.bob_leak(int) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN public.leak() IS NOT NULL;
END $$;
ALTER FUNCTION public.leak() OWNER TO lambda_bob;
ALTER FUNCTION public.bob_leak(int) OWNER TO lambda_bob;
SET ROLE lambda_bob;
SELECT lambda.create_view('bob_leaky', 'SELECT item, count(*) FROM sec_events WHERE public.bob_leak(qty) GROUP BY item');
RESET ROLE;
SELECT current_setting('search_path') AS search_path, current_setting('work_mem') AS work_mem,
       current_setting('default_transaction_read_only') AS read_only;
SELECT lambda.run_batch('bob_leaky');
SELECT count(*) FROM lambda.exact('bob_leaky') AS e(item text, count bigint);
SELECT current_setting('search_path') AS search_path, current_setting('work_mem') AS work_mem,
       current_setting('default_transaction_read_only') AS read_only;
SELECT lambda.drop_view('bob_leaky');

-- 3. Internal functions are not PUBLIC, and capture feeds only its view.
SELECT p.proname, has_function_privilege('lambda_mallory', p.oid, 'EXECUTE') AS mallory_executes
  FROM pg_proc p WHERE p.pronamespace = 'lambda'::regnamespace
   AND p.proname IN ('capture',
                     'on_ddl_start', 'on_ddl_end', 'on_sql_drop')
 ORDER BY 1;
SET ROLE lambda_mallory;
CREATE TEMP TABLE forged (ts timestamptz NOT NULL, item text, qty int, secret text);
SELECT format('CREATE TRIGGER forge AFTER INSERT ON forged REFERENCING NEW TABLE AS lambda_new
               FOR EACH STATEMENT EXECUTE FUNCTION lambda.capture(%s)', (SELECT id FROM lambda.view WHERE view = 'bob_view'::regclass)) AS forge \gset
:forge;
\echo :LAST_ERROR_SQLSTATE
-- capture_row stays executable (partitions clone it), but makes no trigger
-- but lambda's own
SELECT format('CREATE TRIGGER forge_row AFTER INSERT ON forged
               FOR EACH ROW EXECUTE FUNCTION lambda.capture_row(%s)', (SELECT id FROM lambda.view WHERE view = 'bob_view'::regclass)) AS forge_row \gset
\set VERBOSITY terse
:forge_row;
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
DROP TABLE forged;
RESET ROLE;
-- even a superuser's hand-made capture trigger is refused, and feeds nothing
CREATE TABLE forged_by_admin (ts timestamptz NOT NULL, item text, qty int, secret text);
SELECT format('CREATE TRIGGER forge AFTER INSERT ON forged_by_admin REFERENCING NEW TABLE AS lambda_new
               FOR EACH STATEMENT EXECUTE FUNCTION lambda.capture(%s)', (SELECT id FROM lambda.view WHERE view = 'bob_view'::regclass)) AS forge \gset
\set VERBOSITY terse
:forge;
\set VERBOSITY default
INSERT INTO forged_by_admin VALUES ('2026-01-03', 'apple', 100, 'x');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE forged_by_admin;

-- 4. Internal objects belong to the extension.
SELECT batch_table::regclass AS bob_batch, partial_view::regclass AS bob_partial FROM lambda.view
 WHERE view = 'bob_view'::regclass \gset
SELECT c.relname ~ '^(batch|partial)_' AS internal, pg_get_userbyid(c.relowner) = current_user AS extension_owns
  FROM pg_class c WHERE c.oid IN (:'bob_batch'::regclass, :'bob_partial'::regclass);
SET ROLE lambda_bob;
CREATE FUNCTION public.bob_trig() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM public.steal(); RETURN NULL; END $$;
SELECT cmd, attempt(format(cmd, :'bob_batch', :'bob_partial')) AS bob_gets FROM (VALUES
    ('ALTER TABLE %1$s ALTER COLUMN n TYPE text'),
    ('ALTER TABLE %1$s ADD COLUMN x int'),
    ('ALTER TABLE %1$s RENAME TO stolen'),
    ('ALTER TABLE %1$s OWNER TO lambda_bob'),
    ('ALTER TABLE %1$s DISABLE TRIGGER ALL'),
    ('INSERT INTO %1$s VALUES (''apple'', 1000, 1000)'),
    ('DELETE FROM %1$s'),
    ('UPDATE %1$s SET n = 0'),
    ('TRUNCATE %1$s'),
    ('CREATE TRIGGER t AFTER INSERT ON %1$s FOR EACH STATEMENT EXECUTE FUNCTION public.bob_trig()'),
    ('CREATE RULE r AS ON INSERT TO %1$s DO ALSO SELECT public.steal()'),
    ('CREATE POLICY p ON %1$s USING (false)'),
    ('ALTER TABLE %1$s ENABLE ROW LEVEL SECURITY'),
    ('CREATE INDEX ON %1$s (n)'),
    ('DROP TABLE %1$s'),
    ('GRANT SELECT ON %1$s TO lambda_mallory'),
    ('CREATE TABLE public.bob_child () INHERITS (%1$s)'),
    ('CREATE OR REPLACE VIEW %2$s AS SELECT ''x''::text AS item, 0::bigint AS n, 0::bigint AS total'),
    ('ALTER VIEW %2$s SET (security_invoker = false)'),
    ('ALTER VIEW %2$s OWNER TO lambda_bob'),
    ('DROP VIEW %2$s'),
    ('SELECT count(*) FROM %2$s'),
    ('CREATE OR REPLACE RULE "_RETURN" AS ON SELECT TO public.bob_view DO INSTEAD SELECT ''x''::text AS item, 0::bigint AS n, 0::bigint AS total'),
    ('ALTER INDEX %1$s_item_idx DEPENDS ON EXTENSION plpgsql')) AS c(cmd);
RESET ROLE;
-- superusers are refused too, with the view named
SELECT indexrelid::regclass AS bob_index FROM pg_index WHERE indrelid = :'bob_batch'::regclass \gset
SELECT cmd, attempt(format(cmd, :'bob_batch', :'bob_partial', :'bob_index')) AS superuser_gets FROM (VALUES
    ('ALTER TABLE %1$s ALTER COLUMN n TYPE text'),
    ('CREATE TRIGGER t AFTER INSERT ON %1$s FOR EACH STATEMENT EXECUTE FUNCTION public.bob_trig()'),
    ('TRUNCATE %1$s'),
    ('ALTER INDEX %3$s RENAME TO stolen_idx'),
    ('DROP INDEX %3$s'),
    ('CREATE OR REPLACE VIEW %2$s AS SELECT ''x''::text AS item, 0::bigint AS n, 0::bigint AS total'),
    ('ALTER TABLE %2$s RENAME TO x')) AS c(cmd);
GRANT ALL ON ALL TABLES IN SCHEMA lambda TO lambda_mallory;
\echo :LAST_ERROR_SQLSTATE
GRANT ALL ON ALL TABLES IN SCHEMA pg_lambda TO lambda_mallory;
\echo :LAST_ERROR_SQLSTATE
-- the API schema holds no view's relations: tools browsing it see the API
SELECT count(*) AS internal_in_lambda FROM pg_class
 WHERE relnamespace = 'lambda'::regnamespace AND relname ~ '^(batch|partial)_';
-- a batch table altered behind lambda's back gives an error, never a crash
BEGIN;
UPDATE pg_attribute SET atttypid = 'text'::regtype, attlen = -1, attbyval = false, attalign = 'i'
 WHERE attrelid = :'bob_batch'::regclass AND attname = 'n';
SELECT attempt('SELECT * FROM bob_view') AS read_gets;
SELECT attempt($$SELECT * FROM bob_view WHERE item = 'apple'$$) AS lookup_gets;
SELECT attempt($$SELECT lambda.run_batch('bob_view')$$) AS batch_gets;
ROLLBACK;
SELECT * FROM bob_view ORDER BY item;

-- the master's owner cannot switch off capture or the append-only guard
SELECT id AS bob_oid FROM lambda.view WHERE view = 'bob_view'::regclass \gset
SET ROLE lambda_alice;
SELECT cmd, attempt(format(cmd, :'bob_oid')) AS master_owner_gets FROM (VALUES
    ('ALTER TABLE sec_events DISABLE TRIGGER ALL'),
    ('ALTER TABLE sec_events DISABLE TRIGGER USER'),
    ('ALTER TABLE sec_events ENABLE TRIGGER ALL'),
    ('ALTER TABLE sec_events DISABLE TRIGGER lambda_append_only'),
    ('ALTER TABLE sec_events DISABLE TRIGGER lambda_append_only_row'),
    ('ALTER TABLE sec_events DISABLE TRIGGER lambda_capture_%s'),
    ('ALTER TABLE sec_events ENABLE REPLICA TRIGGER lambda_capture_%s'),
    ('ALTER TABLE sec_events ENABLE ALWAYS TRIGGER lambda_capture_%s'),
    ('ALTER TABLE sec_events ENABLE REPLICA TRIGGER lambda_capture_row_%s'),
    ('ALTER TABLE sec_events ENABLE ALWAYS TRIGGER lambda_capture_row_%s'),
    ('DROP TRIGGER lambda_append_only ON sec_events'),
    ('DROP TRIGGER lambda_append_only_row ON sec_events'),
    ('DROP TRIGGER lambda_capture_%s ON sec_events'),
    ('ALTER TRIGGER lambda_append_only ON sec_events RENAME TO gone'),
    ('ALTER TRIGGER lambda_capture_%s ON sec_events RENAME TO gone'),
    ('ALTER TRIGGER lambda_append_only ON sec_events DEPENDS ON EXTENSION plpgsql'),
    ('CREATE OR REPLACE TRIGGER lambda_append_only BEFORE INSERT ON sec_events FOR EACH STATEMENT EXECUTE FUNCTION public.bob_trig()'),
    ('CREATE OR REPLACE TRIGGER lambda_append_only_row BEFORE INSERT ON sec_events FOR EACH ROW EXECUTE FUNCTION public.bob_trig()'),
    ('CREATE OR REPLACE TRIGGER lambda_capture_%s AFTER DELETE ON sec_events FOR EACH STATEMENT EXECUTE FUNCTION public.bob_trig()'),
    ('ALTER TRIGGER lambda_capture_%s ON sec_events DEPENDS ON EXTENSION plpgsql'),
    ('UPDATE sec_events SET qty = 0'),
    ('DELETE FROM sec_events'),
    ('TRUNCATE sec_events')) AS c(cmd);
-- her own triggers she may still switch by name
CREATE FUNCTION public.alice_trig() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN NULL; END $$;
CREATE TRIGGER alice_t AFTER INSERT ON sec_events FOR EACH STATEMENT EXECUTE FUNCTION public.alice_trig();
ALTER TABLE sec_events DISABLE TRIGGER alice_t;
DROP TRIGGER alice_t ON sec_events;
SELECT regexp_replace(tgname, '[0-9]+', 'N') AS tgname, tgenabled
  FROM pg_trigger WHERE tgrelid = 'sec_events'::regclass ORDER BY 1;

-- her master partitions like any table, and every way a partition comes
-- is captured: created, attached empty, created inside CREATE SCHEMA
CREATE TABLE alice_pm (k text NOT NULL, v int) PARTITION BY LIST (k);
SELECT lambda.create_master('alice_pm');
SELECT lambda.create_view('alice_by_k', 'SELECT k, count(*) AS n, sum(v) AS total FROM alice_pm GROUP BY k');
CREATE TABLE alice_pa PARTITION OF alice_pm FOR VALUES IN ('a');
CREATE TABLE alice_pb (k text NOT NULL, v int);
ALTER TABLE alice_pm ATTACH PARTITION alice_pb FOR VALUES IN ('b');
RESET ROLE;
GRANT CREATE ON DATABASE contrib_regression TO lambda_alice;
SET ROLE lambda_alice;
CREATE SCHEMA alice_s CREATE TABLE alice_pc PARTITION OF public.alice_pm FOR VALUES IN ('c');
INSERT INTO alice_pm VALUES ('a', 1), ('b', 2), ('c', 3);
INSERT INTO alice_pa VALUES ('a', 10);
INSERT INTO alice_pb VALUES ('b', 20);
INSERT INTO alice_s.alice_pc VALUES ('c', 30);
SELECT * FROM alice_by_k ORDER BY k;
SELECT lambda.fast_path('alice_by_k'), diff_count('alice_by_k');
SELECT lambda.drop_view('alice_by_k');
DROP TABLE alice_pm;
DROP SCHEMA alice_s;
RESET ROLE;
REVOKE CREATE ON DATABASE contrib_regression FROM lambda_alice;
SET ROLE lambda_alice;

-- 5. No late row-level security, and reads follow the owner's rights.
ALTER TABLE sec_events ENABLE ROW LEVEL SECURITY;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE sec_events FORCE ROW LEVEL SECURITY;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE lambda_bob;
GRANT SELECT ON bob_view TO lambda_carol;
RESET ROLE;
SET ROLE lambda_carol;
SELECT item, n, total FROM bob_view ORDER BY item;
RESET ROLE;
SET ROLE lambda_alice;
REVOKE SELECT ON sec_events FROM lambda_bob;
RESET ROLE;
SET ROLE lambda_carol;
SELECT item, n, total FROM bob_view ORDER BY item;
\echo :LAST_ERROR_SQLSTATE
SELECT item, n, total FROM bob_view WHERE item = 'apple';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT lambda.run_batch('bob_view');
\echo :LAST_ERROR_SQLSTATE
SET ROLE lambda_alice;
GRANT SELECT (ts, item, qty) ON sec_events TO lambda_bob;
RESET ROLE;
SET ROLE lambda_carol;
SELECT item, n, total FROM bob_view ORDER BY item;
RESET ROLE;

-- 6. Ownership moves completely: view, partial view's reader, cron job.
-- (scheduling takes USAGE on schema cron, which pg_cron gives nobody)
SET ROLE lambda_bob;
SELECT lambda.alter_schedule('bob_view', '0 3 * * *');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT USAGE ON SCHEMA cron TO lambda_bob;
SET ROLE lambda_bob;
SELECT lambda.alter_schedule('bob_view', '0 3 * * *');
-- pg_cron lets bob change his job's command; it must not follow the view
-- to its next owner
SELECT cron.schedule('lambda: public.bob_view', '0 3 * * *', 'SELECT public.steal()') > 0 AS rescheduled;
RESET ROLE;
SELECT j.command FROM cron.job j JOIN lambda.view v ON j.jobid = v.cron_jobid
 WHERE v.view = 'bob_view'::regclass;
GRANT SELECT (ts, item, qty) ON sec_events TO lambda_carol;
GRANT TRIGGER ON sec_events TO lambda_carol;
REASSIGN OWNED BY lambda_bob TO lambda_carol;
SELECT pg_get_userbyid(c.relowner) AS view_owner,
       has_table_privilege('lambda_carol', v.partial_view, 'SELECT') AS carol_reads_partial,
       has_table_privilege('lambda_bob', v.partial_view, 'SELECT') AS bob_reads_partial,
       (SELECT username FROM cron.job j WHERE j.jobid = v.cron_jobid) AS job_runs_as,
       (SELECT command = format('SELECT lambda.scheduled_batch(%s)', v.id)
          FROM cron.job j WHERE j.jobid = v.cron_jobid) AS job_runs_the_batch
  FROM lambda.view v JOIN pg_class c ON c.oid = v.view
 WHERE v.view = 'bob_view'::regclass;
SET ROLE lambda_carol;
SELECT lambda.run_batch('bob_view') AS carol_runs_batches;
RESET ROLE;
SET ROLE lambda_bob;
SELECT lambda.run_batch('bob_view');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- a view is never handed to a role its code would then run as, when that
-- code is a third role's: bob_spy is carol's now
SELECT attempt('ALTER VIEW bob_view OWNER TO lambda_bob') AS to_bob,
       replace(attempt('ALTER VIEW bob_view OWNER TO ' || quote_ident(current_user)),
               current_user, 'the superuser') AS to_a_superuser;
ALTER FUNCTION public.bob_spy(int) OWNER TO lambda_bob;
ALTER VIEW bob_view OWNER TO lambda_bob;
GRANT SELECT (ts, item, qty) ON sec_events TO lambda_bob;
SELECT pg_get_userbyid(c.relowner) AS view_owner,
       has_table_privilege('lambda_bob', v.partial_view, 'SELECT') AS bob_reads_partial,
       has_table_privilege('lambda_carol', v.partial_view, 'SELECT') AS carol_reads_partial,
       (SELECT username FROM cron.job j WHERE j.jobid = v.cron_jobid) AS job_runs_as
  FROM lambda.view v JOIN pg_class c ON c.oid = v.view
 WHERE v.view = 'bob_view'::regclass;
-- a domain's CHECK function is the view's code too
CREATE FUNCTION public.carol_chk(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
ALTER FUNCTION public.carol_chk(int) OWNER TO lambda_carol;
CREATE DOMAIN public.checked_int AS int CHECK (public.carol_chk(VALUE));
SET ROLE lambda_bob;
SELECT lambda.create_view('bob_dom', 'SELECT item, count(*) AS n FROM sec_events WHERE qty::public.checked_int IS NOT NULL GROUP BY item');
RESET ROLE;
SELECT attempt('ALTER VIEW bob_dom OWNER TO lambda_alice') AS to_alice;
SELECT lambda.drop_view('bob_dom');
DROP DOMAIN public.checked_int;
DROP FUNCTION public.carol_chk(int);
-- the master's owner changing does not change whose views they are
ALTER TABLE sec_events OWNER TO lambda_carol;
SELECT pg_get_userbyid(relowner) AS view_owner FROM pg_class WHERE oid = 'bob_view'::regclass;
SELECT lambda.run_batch('bob_view');

-- 8. lambda reads a view's definition again as the extension's owner (to
-- make its internal relations, and in a restore): no constant in it may run
-- a role's code when read.  Reading '{1}' as an array of a domain runs the
-- domain's CHECK, so does a composite with a domain column.
SET ROLE lambda_mallory;
CREATE TABLE mallory_s.ev (k int, x int);
SELECT lambda.create_master('mallory_s.ev');
CREATE FUNCTION mallory_s.chk(int) RETURNS boolean LANGUAGE sql AS 'SELECT public.steal()';
CREATE DOMAIN mallory_s.d AS int CHECK (mallory_s.chk(VALUE));
CREATE DOMAIN mallory_s.pos AS int CHECK (VALUE > 0);
CREATE TYPE mallory_s.pair AS (a int, b int);
-- and a type of hers whose name she could point at such a domain later
-- (rename it, create the domain under its name), between create_view's
-- reads or before a restore
CREATE TYPE mallory_s.e AS ENUM ('a', 'b');
SELECT cmd, attempt(cmd) AS mallory_gets FROM (VALUES
    ($$SELECT lambda.create_view('mallory_s.en', 'SELECT k, count(*) FROM mallory_s.ev WHERE ''{a}''::mallory_s.e[] IS NOT NULL GROUP BY k')$$),
    ($$SELECT lambda.create_view('mallory_s.en1', 'SELECT k, count(*) FROM mallory_s.ev WHERE ''a''::mallory_s.e IS NOT NULL GROUP BY k')$$),
    ($$SELECT lambda.create_view('mallory_s.arr', 'SELECT k, count(*) FROM mallory_s.ev WHERE ''{1}''::mallory_s.d[] IS NOT NULL GROUP BY k')$$),
    ($$SELECT lambda.create_view('mallory_s.rec', 'SELECT k, count(*) FROM mallory_s.ev WHERE ''(1,2)''::mallory_s.pair IS NOT NULL GROUP BY k')$$),
    ($$SELECT lambda.create_view('mallory_s.nest', 'SELECT k, count(*) FROM mallory_s.ev WHERE ARRAY[''{1}''::mallory_s.d[]] IS NOT NULL GROUP BY k')$$),
    -- a domain's own literal is checked when the view runs, as whoever runs it
    ($$SELECT lambda.create_view('mallory_s.dom', 'SELECT k, count(*) FROM mallory_s.ev WHERE x <> ''1''::mallory_s.pos GROUP BY k')$$)) AS c(cmd);
SELECT lambda.drop_view('mallory_s.dom');
RESET ROLE;
-- names of lambda's triggers are lambda's: bob, who may make triggers on
-- alice's master (views need that), cannot take the name of a capture
-- trigger a view will get, nor rename a trigger of his to it
SET ROLE lambda_bob;
CREATE TRIGGER bob_t AFTER INSERT ON sec_events FOR EACH STATEMENT EXECUTE FUNCTION public.bob_trig();
SELECT cmd, attempt(cmd) AS bob_gets FROM (VALUES
    ('CREATE TRIGGER lambda_capture_98765 AFTER INSERT ON sec_events FOR EACH STATEMENT EXECUTE FUNCTION public.bob_trig()'),
    ('ALTER TRIGGER bob_t ON sec_events RENAME TO lambda_capture_98765')) AS c(cmd);
RESET ROLE;
DROP TRIGGER bob_t ON sec_events;

-- 9. A role's own aggregate runs with no more rights than its role's: its
-- transition in the writer's INSERT (mallory's own here) and its final
-- function in the reader's query, as an ordinary view's functions.  Its
-- combine function runs where partial states merge, under the speed
-- layer's lock and in the worker: only C is taken there.
SET ROLE lambda_mallory;
CREATE TABLE mallory_s.ran (fn text, backend text, superuser boolean);
CREATE FUNCTION mallory_s.note(fn text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mallory_s.ran
        SELECT fn, a.backend_type, r.rolsuper
          FROM pg_catalog.pg_stat_activity a, pg_catalog.pg_roles r
         WHERE a.pid = pg_catalog.pg_backend_pid() AND r.rolname = current_user;
    PERFORM public.steal();
END $$;
CREATE FUNCTION mallory_s.grab_add(int, int) RETURNS int LANGUAGE plpgsql STRICT AS $$
BEGIN PERFORM mallory_s.note('transition'); RETURN $1 + $2; END $$;
CREATE FUNCTION mallory_s.grab_combine(int, int) RETURNS int LANGUAGE plpgsql STRICT AS $$
BEGIN PERFORM mallory_s.note('combine'); RETURN $1 + $2; END $$;
CREATE FUNCTION mallory_s.grab_final(int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN PERFORM mallory_s.note('final'); RETURN $1; END $$;
CREATE AGGREGATE mallory_s.grab(int) (SFUNC = mallory_s.grab_add, STYPE = int,
                                      INITCOND = '0', COMBINEFUNC = mallory_s.grab_combine);
CREATE AGGREGATE mallory_s.grab_c(int) (SFUNC = mallory_s.grab_add, STYPE = int,
                                        INITCOND = '0', COMBINEFUNC = pg_catalog.int4pl,
                                        FINALFUNC = mallory_s.grab_final);
SELECT attempt($$SELECT lambda.create_view('mallory_s.grabbed', 'SELECT k, mallory_s.grab(x) AS g FROM mallory_s.ev GROUP BY k')$$) AS mallory_gets;
SELECT lambda.create_view('mallory_s.grabbed', 'SELECT k, mallory_s.grab_c(x) AS g FROM mallory_s.ev GROUP BY k');
INSERT INTO mallory_s.ev VALUES (1, 1);
INSERT INTO mallory_s.ev VALUES (1, 2);
RESET ROLE;
DO $$
DECLARE
    r0 bigint := lambda.settle_rounds('mallory_s.grabbed');
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN lambda.settle_rounds('mallory_s.grabbed') >= r0 + 2
              AND (SELECT speed_pending FROM lambda.views WHERE view = 'mallory_s.grabbed'::regclass) = 0;
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SET ROLE lambda_mallory;
SELECT k, g FROM mallory_s.grabbed;
SELECT speed_state FROM lambda.views WHERE view = 'mallory_s.grabbed'::regclass;
RESET ROLE;
SELECT fn, superuser FROM mallory_s.ran GROUP BY 1, 2 ORDER BY 1;
-- carol's view over her master (alice's before section 6) with mallory's
-- aggregate runs mallory's transition as carol, her choice; handing the view
-- to bob would run it as bob without bob choosing: refused, as for any
-- function of a third role
GRANT CREATE ON SCHEMA public TO lambda_carol;
SET ROLE lambda_mallory;
GRANT USAGE ON SCHEMA mallory_s TO lambda_carol;
GRANT INSERT ON mallory_s.ran TO lambda_carol;
SET ROLE lambda_carol;
SELECT lambda.create_view('carol_grab', 'SELECT item, mallory_s.grab_c(qty) AS g FROM sec_events GROUP BY item');
RESET ROLE;
SELECT attempt('ALTER VIEW carol_grab OWNER TO lambda_bob') AS superuser_gets;
SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'carol_grab'::regclass;
SELECT lambda.drop_view('carol_grab');
REVOKE CREATE ON SCHEMA public FROM lambda_carol;

-- 7. Nobody gained a right; the views are exact.
SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls
  FROM pg_roles WHERE rolname LIKE 'lambda\_%' ORDER BY 1;
SELECT * FROM pwned;
GRANT SELECT ON bob_path TO lambda_bob;
SET ROLE lambda_bob;
SELECT diff_count('bob_view') AS bob_view_diff, diff_count('bob_path') AS bob_path_diff;
RESET ROLE;

-- clean up
SELECT lambda.drop_view('bob_view');
SELECT lambda.drop_view('bob_path');
DROP TABLE sec_events;
DROP SCHEMA mallory_s CASCADE;
DROP FUNCTION public.steal(), public.bob_spy(int), public.bob_temp(int), public.try_temp(),
    public.leak(), public.bob_leak(int),
    public.bob_trig(), public.alice_trig();
DROP TABLE pwned;
DROP FUNCTION attempt(text);
REVOKE CREATE ON SCHEMA public FROM lambda_alice, lambda_bob;
REVOKE USAGE ON SCHEMA cron FROM lambda_bob;
DROP ROLE lambda_alice, lambda_bob, lambda_carol, lambda_mallory;
SELECT views = :views_before AND relations = :relations_before AND jobs = :jobs_before
       AS nothing_left FROM leftovers();
