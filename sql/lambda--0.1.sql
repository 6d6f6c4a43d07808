/* lambda--0.1.sql: the catalog, the SQL API and the drop bookkeeping */

\echo Use "CREATE EXTENSION lambda" to load this file. \quit

CREATE SCHEMA lambda;
GRANT USAGE ON SCHEMA lambda TO PUBLIC;

/*
 * Refuse to install unless the library was preloaded: the speed layer's
 * shared memory and workers only exist when it is.
 */
CREATE FUNCTION lambda.check_preloaded()
RETURNS void
AS 'MODULE_PATHNAME', 'lambda_check_preloaded'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION lambda.check_preloaded() IS
'raises an error unless lambda is in shared_preload_libraries';
SELECT lambda.check_preloaded();

/*
 * Catalog.  Written only by the extension's C functions (which switch to the
 * catalog owner for it); readable by everyone.
 */
CREATE TABLE lambda.master (
    master      regclass PRIMARY KEY
);
COMMENT ON TABLE lambda.master IS 'append-only master tables';

CREATE TABLE lambda.view (
    view            regclass PRIMARY KEY,
    master          regclass NOT NULL REFERENCES lambda.master,
    batch_table     regclass NOT NULL,
    partial_view    regclass NOT NULL,
    query           text NOT NULL,
    schedule        text,
    cron_jobid      bigint,
    batch_version   bigint NOT NULL DEFAULT 0,
    batch_started   timestamptz,
    batch_finished  timestamptz,
    batch_duration  interval,
    batch_groups    bigint,
    batch_snapshot  pg_snapshot
);
COMMENT ON TABLE lambda.view IS
'lambda views: their definition, batch table and the last published batch';
COMMENT ON COLUMN lambda.view.batch_snapshot IS
'the snapshot the published batch was computed under: the cut between batch and speed layer';

REVOKE ALL ON lambda.master, lambda.view FROM PUBLIC;
GRANT SELECT ON lambda.master, lambda.view TO PUBLIC;

CREATE FUNCTION lambda.speed_status(view regclass,
                                    OUT groups bigint, OUT bytes bigint, OUT state text,
                                    OUT pending bigint)
AS 'MODULE_PATHNAME', 'lambda_speed_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.speed_status(regclass) IS
'groups and bytes the speed layer holds for a view, whether it is ready, rebuilding or overflowed, and how many handed-off transactions wait to be settled';

CREATE VIEW lambda.views AS
SELECT v.view,
       v.master,
       v.batch_table,
       v.schedule,
       v.batch_version,
       v.batch_finished AS last_batch_finished,
       v.batch_duration AS last_batch_duration,
       v.batch_groups,
       s.groups AS speed_groups,
       s.bytes AS speed_bytes,
       s.state AS speed_state,
       s.pending AS speed_pending
FROM lambda.view v, LATERAL lambda.speed_status(v.view) s;
COMMENT ON VIEW lambda.views IS
'one row per lambda view: its layers, how fresh and how big they are';
GRANT SELECT ON lambda.views TO PUBLIC;

/* Master tables */

CREATE FUNCTION lambda.create_master(master regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'lambda_create_master'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.create_master(regclass) IS
'makes a table an append-only master for lambda views';

CREATE FUNCTION lambda.master_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'lambda_master_guard'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION lambda.master_guard() IS
'trigger that keeps a master table append-only';

/* Capture and serving */

CREATE FUNCTION lambda.capture()
RETURNS trigger
AS 'MODULE_PATHNAME', 'lambda_capture'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.capture() IS
'trigger that folds the rows a statement inserted into a lambda view''s speed layer';

CREATE FUNCTION lambda.capture_row()
RETURNS trigger
AS 'MODULE_PATHNAME', 'lambda_capture_row'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.capture_row() IS
'trigger that captures rows a logical replication apply worker inserts, which fires no statement triggers';

CREATE FUNCTION lambda.speed(view regclass)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'lambda_speed'
LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.speed(regclass) IS
'partial states of a lambda view''s speed layer, as the caller''s snapshot sees them';

CREATE FUNCTION lambda.exact(view regclass)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'lambda_exact'
LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.exact(regclass) IS
'partial states of a lambda view computed from its master, as the caller''s snapshot sees it: the exact slow path';

CREATE FUNCTION lambda.fast_path(view regclass)
RETURNS boolean
AS 'MODULE_PATHNAME', 'lambda_fast_path'
LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.fast_path(regclass) IS
'whether the caller''s snapshot of a lambda view can be served by batch table and speed layer';

CREATE FUNCTION lambda.merged(view regclass)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'lambda_merged'
LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.merged(regclass) IS
'partial states of a lambda view, batch table and speed layer merged, as the caller''s snapshot sees them';

/* Views */

CREATE FUNCTION lambda.create_view(name text, query text, schedule text DEFAULT NULL)
RETURNS regclass
AS 'MODULE_PATHNAME', 'lambda_create_view'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.create_view(text, text, text) IS
'defines a lambda view over a master table and computes its first batch';

CREATE FUNCTION lambda.run_batch(view regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'lambda_run_batch'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.run_batch(regclass) IS
'recomputes a lambda view''s batch table from its whole master; returns the number of groups';

CREATE FUNCTION lambda.alter_schedule(view regclass, schedule text)
RETURNS void
AS 'MODULE_PATHNAME', 'lambda_alter_schedule'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.alter_schedule(regclass, text) IS
'changes (or, given NULL, removes) the pg_cron schedule of a lambda view''s batch';

CREATE FUNCTION lambda.drop_view(view regclass, cascade boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'lambda_drop_view'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.drop_view(regclass, boolean) IS
'drops a lambda view with its batch table, catalog row and pg_cron job';

/*
 * DDL bookkeeping (see src/ddl.c).  Dropping a lambda view (directly,
 * through drop_view or by cascade from its master) drops its batch table and
 * partial view with it through internal dependencies; these triggers forget
 * the catalog rows and cron jobs of whatever went, remove all jobs before
 * the extension goes, and follow a view's owner.
 */
CREATE FUNCTION lambda.on_ddl_start()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'lambda_on_ddl_start'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.on_ddl_start() IS
'removes the cron jobs of all lambda views before the extension is dropped';

CREATE EVENT TRIGGER lambda_ddl_start ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
    EXECUTE FUNCTION lambda.on_ddl_start();

CREATE FUNCTION lambda.on_ddl_end()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'lambda_on_ddl_end'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.on_ddl_end() IS
'follows the owner of lambda views, refuses to replace their definition, and gives new partitions of masters their capture triggers';

CREATE EVENT TRIGGER lambda_ddl_end ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER VIEW', 'CREATE TABLE', 'CREATE VIEW')
    EXECUTE FUNCTION lambda.on_ddl_end();

CREATE FUNCTION lambda.on_sql_drop()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'lambda_on_sql_drop'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.on_sql_drop() IS
'forgets lambda views and masters that were dropped';

CREATE EVENT TRIGGER lambda_sql_drop ON sql_drop
    EXECUTE FUNCTION lambda.on_sql_drop();
