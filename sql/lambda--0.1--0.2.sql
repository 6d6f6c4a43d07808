/* lambda--0.1--0.2.sql: from 0.1 to 0.2 (security, edges, operations) */

\echo Use "ALTER EXTENSION lambda UPDATE TO '0.2'" to load this file. \quit

/* Tests wait for a worker round with it */
CREATE FUNCTION lambda.settle_rounds(view regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'settle_rounds'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.settle_rounds(regclass) IS
'how many times a worker has settled a view''s speed layer since it was set up: a round that began after a call has ended once this grew by two';

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
 * Existing views: their batch tables and partial views now belong to the
 * extension's owner (the owner of lambda.view), nobody else holds a right
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
BEGIN
    FOR v IN SELECT l.batch_table, l.partial_view,
                    pg_catalog.pg_get_userbyid(c.relowner) AS owner
               FROM lambda.view l JOIN pg_catalog.pg_class c
                 ON c.oid OPERATOR(pg_catalog.=) l.view
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %I', v.batch_table, keeper);
        EXECUTE pg_catalog.format('ALTER VIEW %s OWNER TO %I', v.partial_view, keeper);
        EXECUTE pg_catalog.format('ALTER VIEW %s SET (security_invoker = true)', v.partial_view);
        FOR grantee IN
            SELECT DISTINCT CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'public'
                                 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END
              FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
             WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY[v.batch_table, v.partial_view]::pg_catalog.oid[])
               AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
        LOOP
            EXECUTE pg_catalog.format('REVOKE ALL ON %s, %s FROM %s',
                                      v.batch_table, v.partial_view, grantee);
        END LOOP;
        IF v.owner OPERATOR(pg_catalog.<>) keeper THEN
            EXECUTE pg_catalog.format('GRANT SELECT ON %s TO %I', v.partial_view, v.owner);
        END IF;
    END LOOP;
END $$;
