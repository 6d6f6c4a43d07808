/* lambda--0.2.sql: the catalog, the SQL API and the drop bookkeeping */

\echo Use "CREATE EXTENSION lambda" to load this file. \quit

CREATE SCHEMA lambda;
GRANT USAGE ON SCHEMA lambda TO PUBLIC;

/*
 * The internal schema: every view's batch table and partial view, owned by
 * the extension's owner and guarded (src/guard.c).  USAGE lets a view's
 * owner read its own partial view; nothing in it is readable otherwise.
 * Its name starts with "pg_", which only a superuser may give a schema:
 * pg_dump leaves such schemas out, as it leaves out pg_toast, so a dump
 * holds none of these relations and a restore makes them anew from the
 * catalog (src/restore.c).  Tools list what is in them as system objects.
 */
SELECT pg_catalog.set_config('allow_system_table_mods', 'on', true);
CREATE SCHEMA pg_lambda;
SELECT pg_catalog.set_config('allow_system_table_mods', 'off', true);
GRANT USAGE ON SCHEMA pg_lambda TO PUBLIC;
COMMENT ON SCHEMA pg_lambda IS
'lambda''s internal objects: batch tables and partial-state views of lambda views';

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

/*
 * A view's id names what must outlive its OID, which a dump and restore
 * changes: its internal relations (pg_lambda.batch_<id>, partial_<id>),
 * its capture triggers and their argument, the function its definition
 * reads (lambda.serve(<id>)) and its pg_cron job's command.
 */
CREATE SEQUENCE lambda.view_id_seq AS bigint;

CREATE TABLE lambda.view (
    view            regclass PRIMARY KEY,
    id              bigint NOT NULL UNIQUE DEFAULT pg_catalog.nextval('lambda.view_id_seq'),
    master          regclass NOT NULL,
    batch_table     oid NOT NULL,
    partial_view    oid NOT NULL,
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
COMMENT ON COLUMN lambda.view.query IS
'the view''s query as PostgreSQL normalized it, every name qualified';

/*
 * pg_dump keeps the catalog's rows (views and masters by name, as regclass
 * prints them) and the sequence; a restore loads them after the views and
 * masters they name exist, and the trigger below makes each view's
 * internal relations anew.
 */
SELECT pg_catalog.pg_extension_config_dump('lambda.master', '');
SELECT pg_catalog.pg_extension_config_dump('lambda.view', '');
SELECT pg_catalog.pg_extension_config_dump('lambda.view_id_seq', '');

CREATE FUNCTION lambda.on_view_restore()
RETURNS trigger
AS 'MODULE_PATHNAME', 'lambda_on_view_restore'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.on_view_restore() IS
'makes the internal relations of a lambda view whose catalog row a restore loads';
REVOKE ALL ON FUNCTION lambda.on_view_restore() FROM PUBLIC;

CREATE TRIGGER lambda_view_restore BEFORE INSERT ON lambda.view
    FOR EACH ROW EXECUTE FUNCTION lambda.on_view_restore();
ALTER TABLE lambda.view ENABLE ALWAYS TRIGGER lambda_view_restore;

REVOKE ALL ON lambda.master, lambda.view FROM PUBLIC;
GRANT SELECT ON lambda.master, lambda.view TO PUBLIC;

CREATE FUNCTION lambda.speed_status(view regclass,
                                    OUT groups bigint, OUT bytes bigint, OUT state text,
                                    OUT pending bigint)
AS 'MODULE_PATHNAME', 'lambda_speed_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.speed_status(regclass) IS
'groups and bytes the speed layer holds for a view, whether it is ready, rebuilding or overflowed, and how many handed-off transactions wait to be settled';

CREATE FUNCTION lambda.view_status(view regclass,
                                   OUT groups bigint, OUT bytes bigint, OUT state text,
                                   OUT pending bigint, OUT reason text,
                                   OUT since timestamptz)
AS 'MODULE_PATHNAME', 'lambda_speed_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.view_status(regclass) IS
'lambda.speed_status, and why and since when queries of the view take the slow path';

CREATE FUNCTION lambda.settle_rounds(view regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'lambda_settle_rounds'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.settle_rounds(regclass) IS
'how many times a worker has settled a view''s speed layer since it was set up: a round that began after a call has ended once this grew by two';

CREATE VIEW lambda.views AS
SELECT v.view,
       v.master,
       v.batch_table::pg_catalog.regclass AS batch_table,
       v.schedule,
       v.batch_version,
       v.batch_finished AS last_batch_finished,
       v.batch_duration AS last_batch_duration,
       v.batch_groups,
       s.groups AS speed_groups,
       s.bytes AS speed_bytes,
       s.state AS speed_state,
       s.pending AS speed_pending,
       s.reason AS slow_reason,
       s.since AS slow_since,
       v.id
FROM lambda.view v, LATERAL lambda.view_status(v.view) s;
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

/* What a view's definition reads: lambda.merged, the view named by its id */
CREATE FUNCTION lambda.serve(view_id bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'lambda_serve'
LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.serve(bigint) IS
'lambda.merged of the lambda view with this id (lambda.views.id): what the view''s own definition reads';

/*
 * capture() is lambda's to attach: nobody may hang it on a table of their
 * own to feed someone else's view (it also refuses to fire on any table but
 * its view's master).  Triggers fire without an EXECUTE check.  The row
 * trigger functions stay executable: PostgreSQL checks EXECUTE when it
 * clones a master's row triggers onto a new partition as the role creating
 * or attaching it, and both are harmless elsewhere (master_guard only
 * refuses changes; capture_row acts only in the logical replication apply
 * worker, and only on its view's master).
 */
REVOKE ALL ON FUNCTION lambda.capture() FROM PUBLIC;

/*
 * Trust, but verify: the partial-state rows by which what the view returns
 * (lambda.merged: batch table and speed layer) and what its query computes
 * on the master (lambda.exact) differ, both under the caller's snapshot.
 * None when all is well.  Float sums may differ in their last digits, as
 * between a parallel and a serial plan of the query.
 */
CREATE FUNCTION lambda.verify(view regclass)
RETURNS TABLE (side text, partial_state text)
LANGUAGE plpgsql STABLE STRICT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cols text;
BEGIN
    SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)),
                      ', ' ORDER BY a.attnum)
      INTO cols
      FROM lambda.view l JOIN pg_attribute a ON a.attrelid = l.batch_table
     WHERE l.view = verify.view AND a.attnum > 0 AND NOT a.attisdropped;
    IF cols IS NULL THEN
        RAISE EXCEPTION '"%" is not a lambda view', verify.view
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'The view lambda.views lists the lambda views.';
    END IF;
    RETURN QUERY EXECUTE format(
        'WITH v AS (SELECT t::text AS r FROM lambda.merged(%1$L::regclass) AS t(%2$s)),
              q AS (SELECT t::text AS r FROM lambda.exact(%1$L::regclass) AS t(%2$s))
         (SELECT ''view''::text, r FROM (SELECT r FROM v EXCEPT ALL SELECT r FROM q) d)
         UNION ALL
         (SELECT ''query''::text, r FROM (SELECT r FROM q EXCEPT ALL SELECT r FROM v) d)
         ORDER BY 2, 1',
        verify.view, cols);
END $$;
COMMENT ON FUNCTION lambda.verify(regclass) IS
'partial-state rows by which a lambda view and its query run on the master differ, under one snapshot: none when all is well';

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

CREATE FUNCTION lambda.scheduled_batch(view_id bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'lambda_scheduled_batch'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.scheduled_batch(bigint) IS
'lambda.run_batch of the lambda view with this id (lambda.views.id): what its pg_cron job runs';

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
    WHEN TAG IN ('ALTER TABLE', 'ALTER VIEW', 'CREATE TABLE', 'CREATE VIEW',
                 'CREATE SCHEMA')
    EXECUTE FUNCTION lambda.on_ddl_end();

CREATE FUNCTION lambda.on_sql_drop()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'lambda_on_sql_drop'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.on_sql_drop() IS
'forgets lambda views and masters that were dropped';

CREATE EVENT TRIGGER lambda_sql_drop ON sql_drop
    EXECUTE FUNCTION lambda.on_sql_drop();

REVOKE ALL ON FUNCTION lambda.on_ddl_start(), lambda.on_ddl_end(), lambda.on_sql_drop()
    FROM PUBLIC;
