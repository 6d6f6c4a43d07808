/* lambda--0.1--0.2.sql: from 0.1 to 0.2 (security, edges, operations) */

\echo Use "ALTER EXTENSION lambda UPDATE TO '0.2'" to load this file. \quit

/*
 * The internal schema: every view's batch table and partial view, owned by
 * the extension's owner and guarded (src/guard.c).  USAGE lets a view's
 * owner read its own partial view; nothing in it is readable otherwise.
 */
CREATE SCHEMA lambda_internal;
GRANT USAGE ON SCHEMA lambda_internal TO PUBLIC;
COMMENT ON SCHEMA lambda_internal IS
'lambda''s internal objects: batch tables and partial-state views of lambda views';

/* Tests wait for a worker round with it */
CREATE FUNCTION lambda.settle_rounds(view regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'settle_rounds'
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
AS 'MODULE_PATHNAME', 'speed_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.view_status(regclass) IS
'lambda.speed_status, and why and since when queries of the view take the slow path';

CREATE OR REPLACE VIEW lambda.views AS
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
       s.pending AS speed_pending,
       s.reason AS slow_reason,
       s.since AS slow_since
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
    FOR v IN SELECT l.batch_table, l.partial_view,
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
        EXECUTE pg_catalog.format('ALTER TABLE %s SET SCHEMA lambda_internal', v.batch_table);
        EXECUTE pg_catalog.format('ALTER VIEW %s SET SCHEMA lambda_internal', v.partial_view);
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
