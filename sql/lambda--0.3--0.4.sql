/* lambda--0.3--0.4.sql: from 0.3 to 0.4 (compaction) */

\echo Use "ALTER EXTENSION lambda UPDATE TO '0.4'" to load this file. \quit

/*
 * A compaction publishes the batch table merged with the speed layer as a
 * new batch (src/compact.c): batch_version and batch_snapshot move on, the
 * batch_started/finished/duration columns keep describing the last batch
 * computed from the master.
 */
ALTER TABLE lambda.view
    ADD COLUMN compactions bigint NOT NULL DEFAULT 0,
    ADD COLUMN compaction_finished timestamptz,
    ADD COLUMN compaction_duration interval;
COMMENT ON COLUMN lambda.view.compactions IS
'compactions published since the view was created: batches made from the batch table and the speed layer, not from the master';

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
       v.id,
       v.compactions,
       v.compaction_finished AS last_compaction_finished,
       v.compaction_duration AS last_compaction_duration
FROM lambda.view v, LATERAL lambda.view_status(v.view) s;

CREATE FUNCTION lambda.compact(view regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'lambda_compact'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION lambda.compact(regclass) IS
'publishes a lambda view''s batch table merged with its speed layer as a new batch, without reading the master; returns the number of groups written';

/*
 * The speed layer's shared memory over all databases: what a DBA sizes
 * lambda.speed_memory by, and what shows that nothing leaks once views are
 * gone (TAP 014).  Cluster-wide, so for pg_monitor and superusers.
 */
CREATE FUNCTION lambda.speed_memory_used(OUT views bigint, OUT chunks bigint, OUT bytes bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'lambda_speed_memory_used'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lambda.speed_memory_used() IS
'the speed layer''s shared memory over all databases: view slots in use, memory chunks held, bytes accounted to views';
REVOKE EXECUTE ON FUNCTION lambda.speed_memory_used() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lambda.speed_memory_used() TO pg_monitor;
