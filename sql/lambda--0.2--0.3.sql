/* lambda--0.2--0.3.sql: from 0.2 to 0.3 (any aggregate with a combine function) */

\echo Use "ALTER EXTENSION lambda UPDATE TO '0.3'" to load this file. \quit

/*
 * A generic aggregate's partial state (src/aggregate.c): its serialized
 * transition state, headed by the aggregate it belongs to.  No input
 * function, no binary I/O and no casts: only lambda makes one, since
 * aggregates' deserialize functions trust their input.
 */
CREATE TYPE lambda.state;

CREATE FUNCTION lambda.state_in(cstring)
    RETURNS lambda.state
    AS 'MODULE_PATHNAME', 'lambda_state_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lambda.state_in(cstring) IS
'input of lambda.state: refused, since only lambda makes partial states';

CREATE FUNCTION lambda.state_out(lambda.state)
    RETURNS cstring
    AS 'MODULE_PATHNAME', 'lambda_state_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lambda.state_out(lambda.state) IS
'output of lambda.state, in hexadecimal';

CREATE TYPE lambda.state (
    INPUT = lambda.state_in,
    OUTPUT = lambda.state_out,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE lambda.state IS
'partial state of an aggregate of a lambda view: its serialized transition state';

/*
 * lambda.partial_agg(aggregate, arguments...): the aggregate's partial
 * state, as a parallel worker computes it; the batch layer's query for an
 * aggregate without specialised code.  It combines across parallel workers
 * itself.  lambda.partial_agg_restricted does the same for aggregates not
 * marked PARALLEL SAFE.
 */
CREATE FUNCTION lambda.partial_agg_trans(internal, regprocedure, VARIADIC "any")
    RETURNS internal
    AS 'MODULE_PATHNAME', 'lambda_partial_agg_trans'
    LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION lambda.partial_agg_trans(internal, regprocedure, VARIADIC "any") IS
'transition of lambda.partial_agg: the aggregate''s own';

CREATE FUNCTION lambda.partial_agg_final(internal)
    RETURNS lambda.state
    AS 'MODULE_PATHNAME', 'lambda_partial_agg_final'
    LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION lambda.partial_agg_final(internal) IS
'final function of lambda.partial_agg: the serialized state';

CREATE FUNCTION lambda.partial_agg_combine(internal, internal)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'lambda_partial_agg_combine'
    LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION lambda.partial_agg_combine(internal, internal) IS
'combine function of lambda.partial_agg: the aggregate''s own';

CREATE FUNCTION lambda.partial_agg_serial(internal)
    RETURNS bytea
    AS 'MODULE_PATHNAME', 'lambda_partial_agg_serial'
    LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lambda.partial_agg_serial(internal) IS
'serialize function of lambda.partial_agg';

CREATE FUNCTION lambda.partial_agg_deserial(bytea, internal)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'lambda_partial_agg_deserial'
    LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lambda.partial_agg_deserial(bytea, internal) IS
'deserialize function of lambda.partial_agg';

CREATE AGGREGATE lambda.partial_agg(regprocedure, VARIADIC "any") (
    SFUNC = lambda.partial_agg_trans,
    STYPE = internal,
    FINALFUNC = lambda.partial_agg_final,
    COMBINEFUNC = lambda.partial_agg_combine,
    SERIALFUNC = lambda.partial_agg_serial,
    DESERIALFUNC = lambda.partial_agg_deserial,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE lambda.partial_agg(regprocedure, VARIADIC "any") IS
'partial state of an aggregate (PARALLEL SAFE ones) over its arguments';

CREATE AGGREGATE lambda.partial_agg_restricted(regprocedure, VARIADIC "any") (
    SFUNC = lambda.partial_agg_trans,
    STYPE = internal,
    FINALFUNC = lambda.partial_agg_final,
    PARALLEL = RESTRICTED
);
COMMENT ON AGGREGATE lambda.partial_agg_restricted(regprocedure, VARIADIC "any") IS
'partial state of an aggregate not marked PARALLEL SAFE over its arguments';

CREATE FUNCTION lambda.finalize(state lambda.state, aggregate regprocedure, result anyelement)
    RETURNS anyelement
    AS 'MODULE_PATHNAME', 'lambda_finalize'
    LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.finalize(lambda.state, regprocedure, anyelement) IS
'the aggregate''s result from its merged partial state; result gives the type';

/*
 * The event trigger also refuses to change an aggregate or function a
 * lambda view's layers compute with (src/ddl.c): CREATE OR REPLACE
 * AGGREGATE or FUNCTION, ALTER FUNCTION of what it computes.  Tags cannot
 * be altered: made again.
 */
DROP EVENT TRIGGER lambda_ddl_end;
CREATE EVENT TRIGGER lambda_ddl_end ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER VIEW', 'CREATE TABLE', 'CREATE VIEW',
                 'CREATE SCHEMA', 'CREATE AGGREGATE', 'CREATE FUNCTION',
                 'ALTER FUNCTION', 'ALTER ROUTINE', 'ALTER AGGREGATE', 'ALTER TYPE',
                 'ALTER DOMAIN', 'ALTER SCHEMA', 'ALTER EXTENSION', 'ALTER OPERATOR',
                 'ALTER COLLATION', 'ALTER SEQUENCE', 'ALTER INDEX',
                 'ALTER MATERIALIZED VIEW', 'ALTER FOREIGN TABLE', 'ALTER CONVERSION',
                 'ALTER TEXT SEARCH CONFIGURATION', 'ALTER TEXT SEARCH DICTIONARY',
                 'ALTER TEXT SEARCH PARSER', 'ALTER TEXT SEARCH TEMPLATE')
    EXECUTE FUNCTION lambda.on_ddl_end();
COMMENT ON FUNCTION lambda.on_ddl_end() IS
'follows the owner of lambda views, refuses to replace their definition or the functions and aggregates they compute with, keeps their stored query current after renames, and gives new partitions of masters their capture triggers';

/*
 * The catalog keeps each view's analyzed query beside its text (src/ddl.c):
 * after a rename of what the view reads, the text is deparsed again from
 * it, so that a dump's text still reads.  A restore analyzes the text anew
 * (src/restore.c).  0.2's views get theirs from their stored text.
 */
ALTER TABLE lambda.view ADD COLUMN query_tree text;
COMMENT ON COLUMN lambda.view.query_tree IS
'the analyzed query, which names objects by OID (internal: a restore analyzes query again)';
CREATE FUNCTION lambda.query_tree(view regclass)
RETURNS text
AS 'MODULE_PATHNAME', 'lambda_query_tree'
LANGUAGE C STRICT VOLATILE;
DO $$
DECLARE
    v regclass;
    t text;
BEGIN
    FOR v IN SELECT l.view FROM lambda.view l
    LOOP
        t := lambda.query_tree(v);
        IF t IS NULL THEN
            RAISE WARNING 'the query of lambda view % no longer reads as stored', v
                USING DETAIL = 'Something it names was renamed. A dump of this database would not restore the view.',
                      HINT = 'Drop the view and create it again with lambda.create_view().';
        ELSE
            UPDATE lambda.view SET query_tree = t WHERE view OPERATOR(pg_catalog.=) v;
        END IF;
    END LOOP;
END $$;
DROP FUNCTION lambda.query_tree(regclass);
