-- Install the extensions and the helpers the other suites use.
CREATE EXTENSION pg_cron;
CREATE EXTENSION lambda;

-- Rows by which a lambda view and its own query run on the master differ,
-- counted both ways: 0 means the view is exact.
CREATE FUNCTION diff_count(v regclass) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    q text;
    n bigint;
BEGIN
    SELECT query INTO STRICT q FROM lambda.view WHERE view = v;
    EXECUTE format('SELECT count(*) FROM ((TABLE %s EXCEPT ALL (%s)) '
                   'UNION ALL ((%s) EXCEPT ALL TABLE %s)) d', v, q, q, v)
        INTO n;
    RETURN n;
END $$;

-- Rows by which a view's batch table and its partial-state query run now
-- on the master differ: 0 right after a batch with no writes since.
CREATE FUNCTION batch_diff_count(v regclass) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    b regclass;
    p regclass;
    n bigint;
BEGIN
    SELECT batch_table, partial_view INTO STRICT b, p
      FROM lambda.view WHERE view = v;
    EXECUTE format('SELECT count(*) FROM ((TABLE %s EXCEPT ALL TABLE %s) '
                   'UNION ALL (TABLE %s EXCEPT ALL TABLE %s)) d', b, p, p, b)
        INTO n;
    RETURN n;
END $$;

-- Objects a lambda view may leave behind: catalog rows, internal relations
-- and cron jobs.  A function, so that pg_cron can still be dropped.
CREATE FUNCTION leftovers(OUT views bigint, OUT relations bigint, OUT jobs bigint)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT count(*) INTO views FROM lambda.view;
    SELECT count(*) INTO relations FROM pg_class
     WHERE relnamespace = 'pg_lambda'::regnamespace
       AND (relname LIKE 'batch\_%' OR relname LIKE 'partial\_%');
    IF to_regclass('cron.job') IS NOT NULL THEN
        EXECUTE 'SELECT count(*) FROM cron.job WHERE jobname LIKE ''lambda: %''' INTO jobs;
    END IF;
END $$;

SELECT extname, extversion FROM pg_extension WHERE extname = 'lambda';
SELECT * FROM leftovers();
