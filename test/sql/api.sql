-- The SQL API: create_view, lambda.views, schedules, drop_view, and what a
-- drop leaves behind.
INSERT INTO events
SELECT '2026-01-01 00:00+00'::timestamptz + (i % 48) * interval '1 hour',
       i % 100, (ARRAY['DE', 'FR', 'US', NULL])[1 + i % 4], (i % 50) - 5
  FROM generate_series(1, 2000) i;

SELECT lambda.create_view('revenue_by_country', $$
    SELECT country, date_trunc('hour', ts AT TIME ZONE 'UTC') AS hour,
           count(*) AS orders, sum(amount) AS revenue, avg(amount) AS avg_amount,
           min(amount) AS smallest, max(amount) AS largest
    FROM events WHERE amount > 0
    GROUP BY country, date_trunc('hour', ts AT TIME ZONE 'UTC') $$,
    schedule => '*/10 * * * *');

-- the view answers, exactly
SELECT count(*) AS groups FROM revenue_by_country;
SELECT diff_count('revenue_by_country');
SELECT * FROM revenue_by_country WHERE country = 'DE' ORDER BY hour LIMIT 3;

-- what lambda.views shows: the first batch is published by create_view
SELECT view, master, batch_table::text LIKE 'pg\_lambda.batch\_%' AS batch_in_lambda,
       schedule, batch_version, last_batch_finished IS NOT NULL AS finished,
       last_batch_duration >= '0'::interval AS duration_ok, batch_groups,
       speed_groups, speed_bytes > 0 AS speed_bytes, speed_state
  FROM lambda.views;
SELECT batch_diff_count('revenue_by_country');
-- the batch table has an index on the group keys
SELECT indexdef LIKE '%(country, hour)' AS key_index
  FROM pg_indexes i JOIN lambda.views v ON i.tablename = split_part(v.batch_table::text, '.', 2)
 WHERE v.view = 'revenue_by_country'::regclass;

-- the cron job runs the batch of this view in this database
SELECT jobname, schedule, command = format('SELECT lambda.scheduled_batch(%s)', (SELECT id FROM lambda.view WHERE view = 'revenue_by_country'::regclass)) AS command_ok,
       database = current_database() AS here, username = current_user AS mine
  FROM cron.job;

-- more events, then a batch: version 2, batch equals the master again
INSERT INTO events VALUES ('2026-01-03 00:00+00', 1, 'BR', 99);
SELECT batch_diff_count('revenue_by_country') > 0 AS stale_until_batch;
SELECT diff_count('revenue_by_country');
SELECT lambda.run_batch('revenue_by_country');
SELECT batch_version, batch_groups FROM lambda.views;
SELECT batch_diff_count('revenue_by_country');

-- alter_schedule: change, remove, add back
SELECT lambda.alter_schedule('revenue_by_country', '0 * * * *');
SELECT v.schedule, j.schedule AS cron_schedule FROM lambda.views v, cron.job j;
SELECT lambda.alter_schedule('revenue_by_country', NULL);
SELECT schedule FROM lambda.views;
SELECT count(*) AS jobs FROM cron.job;
SELECT lambda.alter_schedule('revenue_by_country', '5 4 * * *');
SELECT v.schedule, j.schedule AS cron_schedule, j.jobname FROM lambda.views v, cron.job j;
-- a job removed behind our back is recreated
SELECT cron.unschedule(jobid) FROM cron.job;
SELECT lambda.alter_schedule('revenue_by_country', '6 4 * * *');
SELECT v.schedule, j.schedule AS cron_schedule FROM lambda.views v, cron.job j;

-- schema-qualified and quoted names, and a global (ungrouped) view
CREATE SCHEMA "Reports";
SELECT lambda.create_view('"Reports"."Totals"',
    'SELECT count(*) AS n, sum(amount) AS total FROM events');
SELECT * FROM "Reports"."Totals";
SELECT diff_count('"Reports"."Totals"');
SELECT view, batch_groups FROM lambda.views ORDER BY view::text;

-- the view keeps working when renamed (the job runs it by id)
ALTER VIEW "Reports"."Totals" RENAME TO "All Totals";
SELECT lambda.run_batch('"Reports"."All Totals"');
SELECT view FROM lambda.views ORDER BY view::text;

-- internal relations cannot be dropped on their own
DO $$
BEGIN
    EXECUTE format('DROP TABLE %s', (SELECT batch_table FROM lambda.views
                                      WHERE view = '"Reports"."All Totals"'::regclass));
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'dropping the batch table alone is refused: %', SQLSTATE;
END $$;

-- only the owner may run or reschedule a view's batch, as for REFRESH
CREATE ROLE lambda_reader;
GRANT USAGE ON SCHEMA "Reports" TO lambda_reader;
GRANT SELECT ON "Reports"."All Totals" TO lambda_reader;
SET ROLE lambda_reader;
SELECT n FROM "Reports"."All Totals";
SELECT lambda.run_batch('"Reports"."All Totals"');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.alter_schedule('"Reports"."All Totals"', '* * * * *');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.drop_view('"Reports"."All Totals"');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- drop_view removes the view, its batch table, its catalog row and its job
SELECT lambda.alter_schedule('"Reports"."All Totals"', '* * * * *');
SELECT count(*) AS jobs FROM cron.job;
SELECT lambda.drop_view('"Reports"."All Totals"');
SELECT view FROM lambda.views ORDER BY view::text;
SELECT * FROM leftovers();
-- so does a plain DROP VIEW
SELECT lambda.create_view('"Reports".by_user', 'SELECT user_id, count(*) FROM events GROUP BY user_id', '0 0 * * *');
SELECT * FROM leftovers();
DROP VIEW "Reports".by_user;
SELECT * FROM leftovers();
-- a view others depend on needs cascade
SELECT lambda.create_view('"Reports".by_user', 'SELECT user_id, count(*) FROM events GROUP BY user_id');
CREATE VIEW "Reports".top_users AS SELECT * FROM "Reports".by_user ORDER BY count DESC LIMIT 3;
SELECT lambda.drop_view('"Reports".by_user');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.drop_view('"Reports".by_user', cascade => true);
SELECT * FROM leftovers();
DROP SCHEMA "Reports";
DROP ROLE lambda_reader;

-- dropping the master drops its views, their batch tables and jobs
CREATE TABLE clicks (ts timestamp NOT NULL, page text);
SELECT lambda.create_master('clicks');
SELECT lambda.create_view('clicks_by_page', 'SELECT page, count(*) FROM clicks GROUP BY page', '* * * * *');
SELECT * FROM leftovers();
DROP TABLE clicks;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE clicks CASCADE;
SELECT * FROM leftovers();
SELECT master FROM lambda.master ORDER BY master::text;

-- dropping pg_cron forgets the schedules; lambda keeps working without it
SELECT lambda.alter_schedule('revenue_by_country', '*/5 * * * *');
DROP EXTENSION pg_cron;
SELECT view, schedule FROM lambda.views;
SELECT lambda.run_batch('revenue_by_country') > 0 AS batch_without_cron;
CREATE EXTENSION pg_cron;
-- (pg_cron caches its job table's OID per session: start a new one)
\c
SELECT lambda.alter_schedule('revenue_by_country', '*/5 * * * *');
SELECT jobname, schedule FROM cron.job;

-- DROP EXTENSION lambda: refused while views exist, unless CASCADE, which
-- leaves no view, batch table or job behind
DROP EXTENSION lambda;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS jobs FROM cron.job;
BEGIN;
DROP EXTENSION lambda CASCADE;
SELECT count(*) AS jobs FROM cron.job;
SELECT count(*) AS lambda_relations FROM pg_class WHERE relname = 'revenue_by_country';
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'events'::regclass;
SELECT count(*) AS lambda_schema FROM pg_namespace WHERE nspname = 'lambda';
ROLLBACK;
SELECT count(*) AS jobs FROM cron.job;
SELECT view FROM lambda.views;

-- a new owner takes the cron job and the right to read the partial view
-- along; the internal relations stay the extension's
CREATE ROLE lambda_new_owner LOGIN;  -- pg_cron runs jobs only as roles that can log in
GRANT SELECT ON events TO lambda_new_owner;
ALTER VIEW revenue_by_country OWNER TO lambda_new_owner;
SELECT c.relname LIKE 'batch\_%' AS is_batch, c.relowner = v.master_owner AS owned_by_new_owner,
       has_table_privilege('lambda_new_owner', c.oid, 'SELECT') AS new_owner_reads,
       has_table_privilege(current_user, c.oid, 'SELECT') AS extension_owner_reads
  FROM pg_class c JOIN (SELECT *, 'lambda_new_owner'::regrole AS master_owner FROM lambda.view) v
    ON c.oid IN (v.batch_table, v.partial_view)
 ORDER BY 1;
SELECT username FROM cron.job;
SET ROLE lambda_new_owner;
SELECT lambda.run_batch('revenue_by_country') > 0 AS new_owner_runs_batches;
RESET ROLE;
ALTER VIEW revenue_by_country OWNER TO CURRENT_USER;
SELECT username = current_user AS job_back FROM cron.job;
SELECT has_table_privilege('lambda_new_owner', partial_view, 'SELECT') AS old_owner_reads
  FROM lambda.view WHERE view = 'revenue_by_country'::regclass;
REVOKE SELECT ON events FROM lambda_new_owner;
DROP ROLE lambda_new_owner;

-- the definition of a lambda view cannot be replaced behind its back
CREATE OR REPLACE VIEW revenue_by_country AS
    SELECT country, date_trunc('hour', ts AT TIME ZONE 'UTC') AS hour,
           count(*) AS orders, sum(amount) AS revenue, avg(amount) AS avg_amount,
           min(amount) AS smallest, max(amount) AS largest
    FROM events GROUP BY country, date_trunc('hour', ts AT TIME ZONE 'UTC');
\echo :LAST_ERROR_SQLSTATE
SELECT diff_count('revenue_by_country');
