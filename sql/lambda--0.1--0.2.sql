/* lambda--0.1--0.2.sql: from 0.1 to 0.2 (security, edges, operations) */

\echo Use "ALTER EXTENSION lambda UPDATE TO '0.2'" to load this file. \quit

/*
 * The internal schema: every view's batch table and partial view, owned by
 * the extension's owner and guarded (src/guard.c).  USAGE lets a view's
 * owner read its own partial view; nothing in it is readable otherwise.
 * pg_dump leaves "pg_" schemas out: a restore makes these anew
 * (src/restore.c).
 */
SELECT pg_catalog.set_config('allow_system_table_mods', 'on', true);
CREATE SCHEMA pg_lambda;
SELECT pg_catalog.set_config('allow_system_table_mods', 'off', true);
GRANT USAGE ON SCHEMA pg_lambda TO PUBLIC;
COMMENT ON SCHEMA pg_lambda IS
'lambda''s internal objects: batch tables and partial-state views of lambda views';

/*
 * Views get ids, which a dump keeps where OIDs change: a 0.1 view's id is
 * its OID, which 0.1 put into its internal names, its capture triggers'
 * names and arguments, its definition and its job, so that those stay
 * right; the definition and the job then name the view by id (below).
 * The catalog records internal relations as plain OIDs, which a restore
 * replaces: as regclass, a dump would hold names that do not exist yet.
 * lambda.views stops reading batch_table while its type changes.
 */
CREATE OR REPLACE VIEW lambda.views AS
SELECT v.view,
       v.master,
       NULL::pg_catalog.regclass AS batch_table,
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
ALTER TABLE lambda.view ALTER COLUMN batch_table TYPE pg_catalog.oid,
                        ALTER COLUMN partial_view TYPE pg_catalog.oid,
                        ADD COLUMN id pg_catalog.int8;
UPDATE lambda.view SET id = view::pg_catalog.oid::pg_catalog.int8;
CREATE SEQUENCE lambda.view_id_seq AS bigint;
SELECT pg_catalog.setval('lambda.view_id_seq',
                         pg_catalog.max(id) OPERATOR(pg_catalog.+) 1, false)
  FROM lambda.view HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0;
ALTER TABLE lambda.view ALTER COLUMN id SET DEFAULT pg_catalog.nextval('lambda.view_id_seq'),
                        ALTER COLUMN id SET NOT NULL,
                        ADD UNIQUE (id);
COMMENT ON COLUMN lambda.view.query IS
'the view''s query as PostgreSQL normalized it, every name qualified';

/* A parallel restore loads lambda.master and lambda.view in any order */
DO $$
DECLARE
    c name;
BEGIN
    FOR c IN SELECT conname FROM pg_catalog.pg_constraint
              WHERE conrelid OPERATOR(pg_catalog.=) 'lambda.view'::pg_catalog.regclass
                AND contype OPERATOR(pg_catalog.=) 'f'
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE lambda.view DROP CONSTRAINT %I', c);
    END LOOP;
END $$;

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

CREATE FUNCTION lambda.serve(view_id bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'lambda_serve'
LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.serve(bigint) IS
'lambda.merged of the lambda view with this id (lambda.views.id): what the view''s own definition reads';

CREATE FUNCTION lambda.scheduled_batch(view_id bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'lambda_scheduled_batch'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.scheduled_batch(bigint) IS
'lambda.run_batch of the lambda view with this id (lambda.views.id): what its pg_cron job runs';

/*
 * 0.1 stored a view's query as its creator typed it; a restore reads it
 * under a pinned search_path, so store it normalized, every name qualified,
 * as 0.2's create_view does.  A query that does not normalize (its names
 * resolved through a search_path other than the master's schema and
 * public) is kept as it was, and said.
 */
CREATE FUNCTION lambda.normalized_query(view regclass)
RETURNS text
AS 'MODULE_PATHNAME', 'lambda_normalized_query'
LANGUAGE C STRICT VOLATILE;
DO $$
DECLARE
    v regclass;
    q text;
BEGIN
    FOR v IN SELECT l.view FROM lambda.view l
    LOOP
        q := lambda.normalized_query(v);
        IF q IS NULL THEN
            RAISE WARNING 'the query of lambda view % could not be stored normalized', v
                USING DETAIL = 'A dump of this database would not restore the view.',
                      HINT = 'Drop the view and create it again with lambda.create_view().';
        ELSE
            UPDATE lambda.view SET query = q WHERE view OPERATOR(pg_catalog.=) v;
        END IF;
    END LOOP;
END $$;
DROP FUNCTION lambda.normalized_query(regclass);

/*
 * Definitions and jobs name their view by id.  A view's definition is
 * replaced through its rule: an update script may not CREATE OR REPLACE a
 * view that is not a member of the extension.
 */
DO $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT l.view, l.id, l.cron_jobid FROM lambda.view l
    LOOP
        EXECUTE pg_catalog.format('CREATE OR REPLACE RULE "_RETURN" AS ON SELECT TO %s DO INSTEAD %s', v.view,
            pg_catalog.rtrim(pg_catalog.regexp_replace(pg_catalog.pg_get_viewdef(v.view),
                                                       'lambda\.merged\(\(\d+\)::regclass\)',
                                                       pg_catalog.format('lambda.serve(%L::bigint)', v.id)),
                             ';'));
        IF v.cron_jobid IS NOT NULL AND pg_catalog.to_regclass('cron.job') IS NOT NULL THEN
            EXECUTE 'UPDATE cron.job SET command = $1 WHERE jobid OPERATOR(pg_catalog.=) $2'
              USING pg_catalog.format('SELECT lambda.scheduled_batch(%s)', v.id), v.cron_jobid;
        END IF;
    END LOOP;
END $$;

/* Tests wait for a worker round with it */
CREATE FUNCTION lambda.settle_rounds(view regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'lambda_settle_rounds'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.settle_rounds(regclass) IS
'how many times a worker has settled a view''s speed layer since it was set up: a round that began after a call has ended once this grew by two';

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

/*
 * lambda.views says why a view takes the slow path, and since when: two
 * columns more, from a function that says it (views of lambda.views that
 * users made keep working: the view is replaced, not dropped).
 */
CREATE FUNCTION lambda.view_status(view regclass,
                                   OUT groups bigint, OUT bytes bigint, OUT state text,
                                   OUT pending bigint, OUT reason text,
                                   OUT since timestamptz)
AS 'MODULE_PATHNAME', 'lambda_speed_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.view_status(regclass) IS
'lambda.speed_status, and why and since when queries of the view take the slow path';

CREATE OR REPLACE VIEW lambda.views AS
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

/* capture() and the event trigger functions are lambda's alone */
REVOKE ALL ON FUNCTION lambda.capture() FROM PUBLIC;
REVOKE ALL ON FUNCTION lambda.on_ddl_start(), lambda.on_ddl_end(), lambda.on_sql_drop()
    FROM PUBLIC;

/* Partitions created inside CREATE SCHEMA get their capture triggers too */
DROP EVENT TRIGGER lambda_ddl_end;
CREATE EVENT TRIGGER lambda_ddl_end ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER VIEW', 'CREATE TABLE', 'CREATE VIEW',
                 'CREATE SCHEMA')
    EXECUTE FUNCTION lambda.on_ddl_end();

/*
 * Existing views: their batch tables and partial views move to the
 * internal schema and now belong to the extension's owner (the owner of lambda.view), nobody else holds a right
 * on them, the view's owner reads the partial view, and the partial view
 * reads the master with its reader's rights (security_invoker), which
 * lambda makes the view's owner.
 */
DO $$
DECLARE
    v record;
    keeper name := pg_catalog.pg_get_userbyid(
        (SELECT relowner FROM pg_catalog.pg_class
          WHERE oid OPERATOR(pg_catalog.=) 'lambda.view'::pg_catalog.regclass));
    grantee name;
    obj text;
BEGIN
    FOR v IN SELECT l.batch_table::pg_catalog.regclass AS batch_table,
                    l.partial_view::pg_catalog.regclass AS partial_view,
                    pg_catalog.pg_get_userbyid(c.relowner) AS owner
               FROM lambda.view l JOIN pg_catalog.pg_class c
                 ON c.oid OPERATOR(pg_catalog.=) l.view
    LOOP
        /*
         * 0.1 let a view's owner alter its internal relations: remove all
         * they may have attached, before they pass to the extension's owner,
         * for whom ANALYZE or a batch would otherwise run that code.
         */
        FOR obj IN SELECT pg_catalog.format('DROP STATISTICS %I.%I', n.nspname, x.stxname)
                     FROM pg_catalog.pg_statistic_ext x
                     JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.stxnamespace
                    WHERE x.stxrelid OPERATOR(pg_catalog.=) v.batch_table
                   UNION ALL
                   SELECT pg_catalog.format('DROP TRIGGER %I ON %s', t.tgname, t.tgrelid::pg_catalog.regclass)
                     FROM pg_catalog.pg_trigger t
                    WHERE t.tgrelid OPERATOR(pg_catalog.=) ANY (ARRAY[v.batch_table, v.partial_view]::pg_catalog.oid[])
                      AND NOT t.tgisinternal
                   UNION ALL
                   SELECT pg_catalog.format('DROP RULE %I ON %s', r.rulename, r.ev_class::pg_catalog.regclass)
                     FROM pg_catalog.pg_rewrite r
                    WHERE r.ev_class OPERATOR(pg_catalog.=) ANY (ARRAY[v.batch_table, v.partial_view]::pg_catalog.oid[])
                      AND r.rulename OPERATOR(pg_catalog.<>) '_RETURN'
                   UNION ALL
                   SELECT pg_catalog.format('DROP POLICY %I ON %s', p.polname, p.polrelid::pg_catalog.regclass)
                     FROM pg_catalog.pg_policy p
                    WHERE p.polrelid OPERATOR(pg_catalog.=) v.batch_table
                   UNION ALL
                   SELECT pg_catalog.format('DROP INDEX %s', i.indexrelid::pg_catalog.regclass)
                     FROM pg_catalog.pg_index i
                    WHERE i.indrelid OPERATOR(pg_catalog.=) v.batch_table
                      AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL
                           OR EXISTS (SELECT FROM pg_catalog.unnest(i.indclass) c(opc)
                                      JOIN pg_catalog.pg_opclass o ON o.oid OPERATOR(pg_catalog.=) c.opc
                                      WHERE NOT o.opcdefault))
                   UNION ALL
                   SELECT pg_catalog.format('ALTER TABLE %s NO INHERIT %s',
                                            h.inhrelid::pg_catalog.regclass, v.batch_table)
                     FROM pg_catalog.pg_inherits h
                    WHERE h.inhparent OPERATOR(pg_catalog.=) v.batch_table
        LOOP
            EXECUTE obj;
        END LOOP;
        EXECUTE pg_catalog.format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY',
                                  v.batch_table);
        EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %I', v.batch_table, keeper);
        EXECUTE pg_catalog.format('ALTER VIEW %s OWNER TO %I', v.partial_view, keeper);
        EXECUTE pg_catalog.format('ALTER VIEW %s SET (security_invoker = true)', v.partial_view);
        EXECUTE pg_catalog.format('ALTER TABLE %s SET SCHEMA pg_lambda', v.batch_table);
        EXECUTE pg_catalog.format('ALTER VIEW %s SET SCHEMA pg_lambda', v.partial_view);
        FOR grantee IN
            SELECT DISTINCT CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'public'
                                 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END
              FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
             WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY[v.batch_table, v.partial_view]::pg_catalog.oid[])
               AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
        LOOP
            EXECUTE pg_catalog.format('REVOKE ALL ON %s, %s FROM %s CASCADE',
                                      v.batch_table, v.partial_view, grantee);
        END LOOP;
        IF v.owner OPERATOR(pg_catalog.<>) keeper THEN
            EXECUTE pg_catalog.format('GRANT SELECT ON %s TO %I', v.partial_view, v.owner);
        END IF;
    END LOOP;
END $$;

/*
 * 0.2 lets only roles with TRIGGER on a master define views over it, since
 * a view's expressions run in every insert into the master, as the
 * inserting role.  Views 0.1 let others define are kept; say which.
 */
DO $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT l.view, l.master
               FROM lambda.view l JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) l.view
              WHERE NOT pg_catalog.has_table_privilege(c.relowner, l.master, 'TRIGGER')
    LOOP
        RAISE WARNING 'the owner of lambda view % has no TRIGGER privilege on its master %', v.view, v.master
            USING DETAIL = 'Its expressions run in every insert into the master, as the inserting role.',
                  HINT = 'Grant TRIGGER on the master to the view''s owner, or drop the view.';
    END LOOP;
END $$;
