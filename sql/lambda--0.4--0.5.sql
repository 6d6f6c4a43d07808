/* lambda--0.4--0.5.sql: from 0.4 to 0.5 (the library's C names) */

\echo Use "ALTER EXTENSION lambda UPDATE TO '0.5'" to load this file. \quit

/*
 * From 0.5 every C symbol of the preloaded library carries the lambda_
 * prefix, so that none can clash with another library's in a backend's
 * symbol table (test/t/013_symbols.pl); the scripts of every version now
 * name the prefixed symbols, and 0.4's library was the last to export the
 * bare ones.  Point each C function made under an older script at its new
 * symbol: pg_get_functiondef restates the function exactly (arguments,
 * volatility, strictness, parallel safety, cost), and CREATE OR REPLACE
 * keeps its OID, owner, privileges, comment and what depends on it (views,
 * triggers, aggregates, event triggers).  The function of the
 * event trigger lambda_ddl_end goes first: that trigger fires at the end of
 * each CREATE FUNCTION here, and calls its function as the catalog then
 * stands (PostgreSQL makes the command's own changes visible to it), so
 * under its new symbol from the first.
 */
DO $$
DECLARE
    f record;
    old text;
    new text;
BEGIN
    FOR f IN
        SELECT p.oid, p.prosrc
        FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_depend d
          ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
         AND d.objid = p.oid
         AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
         AND d.deptype = 'e'
        JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
        WHERE e.extname = 'lambda'
          AND p.prolang = (SELECT l.oid FROM pg_catalog.pg_language l
                           WHERE l.lanname = 'c')
          AND p.prosrc OPERATOR(pg_catalog.!~) '^lambda_'
        ORDER BY p.oid IN (SELECT t.evtfoid FROM pg_catalog.pg_event_trigger t
                           WHERE t.evtevent = 'ddl_command_end') DESC
    LOOP
        old := pg_catalog.pg_get_functiondef(f.oid);
        new := pg_catalog.replace(old,
                                  '$function$' || f.prosrc || '$function$',
                                  '$function$lambda_' || f.prosrc || '$function$');
        IF new = old THEN
            RAISE EXCEPTION 'could not point function % at symbol lambda_%',
                f.oid::pg_catalog.regprocedure, f.prosrc
                USING ERRCODE = 'internal_error';
        END IF;
        EXECUTE new;
    END LOOP;
END
$$;
