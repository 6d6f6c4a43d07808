-- Master tables: append-only, idempotent, and what cannot be one.
CREATE TABLE events (ts timestamptz NOT NULL, user_id bigint, country text, amount numeric);
SELECT lambda.create_master('events');
-- idempotent
SELECT lambda.create_master('events');
SELECT master FROM lambda.master;

-- inserts and COPY still work
INSERT INTO events VALUES ('2026-01-01 10:00+00', 1, 'DE', 10), ('2026-01-01 11:00+00', 2, 'FR', 20);
COPY events FROM stdin;
2026-01-01 12:00:00+00	3	US	30
\.
SELECT count(*) FROM events;

-- every other change fails, naming the table, with SQLSTATE 0A000
UPDATE events SET amount = 0;
\echo :LAST_ERROR_SQLSTATE
UPDATE events SET amount = 0 WHERE false;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM events WHERE user_id = 1;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE events;
\echo :LAST_ERROR_SQLSTATE
MERGE INTO events e USING (VALUES (1)) s(id) ON e.user_id = s.id
    WHEN MATCHED THEN UPDATE SET amount = 0;
\echo :LAST_ERROR_SQLSTATE
MERGE INTO events e USING (VALUES (1)) s(id) ON e.user_id = s.id
    WHEN MATCHED THEN DELETE;
\echo :LAST_ERROR_SQLSTATE
-- a MERGE that only inserts is an insert
MERGE INTO events e USING (VALUES (4)) s(id) ON e.user_id = s.id
    WHEN NOT MATCHED THEN INSERT VALUES ('2026-01-01 13:00+00', s.id, 'JP', 40);
SELECT count(*) FROM events;

-- the triggers fire under logical replication's session_replication_role too
SET session_replication_role = replica;
DELETE FROM events;
\echo :LAST_ERROR_SQLSTATE
RESET session_replication_role;
SELECT count(*) FROM events;

-- partitioned master: partitions are protected as well, also ones added later
CREATE TABLE pevents (ts timestamptz NOT NULL, amount numeric) PARTITION BY RANGE (ts);
CREATE TABLE pevents_2026 PARTITION OF pevents FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT lambda.create_master('pevents');
CREATE TABLE pevents_2027 PARTITION OF pevents FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
INSERT INTO pevents VALUES ('2026-05-01', 1), ('2027-05-01', 2);
UPDATE pevents SET amount = 0;
\echo :LAST_ERROR_SQLSTATE
UPDATE pevents_2026 SET amount = 0;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM pevents_2027;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE pevents_2026;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE pevents_2027;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE pevents;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM pevents;

-- what cannot be a master; nothing is registered or added after a refusal
CREATE VIEW events_view AS SELECT * FROM events;
SELECT lambda.create_master('events_view');
\echo :LAST_ERROR_SQLSTATE
CREATE MATERIALIZED VIEW events_mv AS SELECT * FROM events;
SELECT lambda.create_master('events_mv');
\echo :LAST_ERROR_SQLSTATE
CREATE FOREIGN DATA WRAPPER dummy_fdw;
CREATE SERVER dummy_server FOREIGN DATA WRAPPER dummy_fdw;
CREATE FOREIGN TABLE events_foreign (ts timestamptz) SERVER dummy_server;
SELECT lambda.create_master('events_foreign');
\echo :LAST_ERROR_SQLSTATE
CREATE TEMP TABLE events_temp (ts timestamptz);
SELECT lambda.create_master('events_temp');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE events_rls (ts timestamptz, owner_name text);
ALTER TABLE events_rls ENABLE ROW LEVEL SECURITY;
SELECT lambda.create_master('events_rls');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_master('no_such_table');
\echo :LAST_ERROR_SQLSTATE
SELECT lambda.create_master(NULL);
CREATE INDEX events_ts_idx ON events (ts);
SELECT lambda.create_master('events_ts_idx');
\echo :LAST_ERROR_SQLSTATE
DROP INDEX events_ts_idx;
-- only the owner may make a table a master
CREATE TABLE not_mine (ts timestamptz);
CREATE ROLE lambda_intruder;
SET ROLE lambda_intruder;
SELECT lambda.create_master('not_mine');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE lambda_intruder;

SELECT master FROM lambda.master ORDER BY master::text;
SELECT count(*) AS guard_triggers FROM pg_trigger
 WHERE tgrelid IN ('events_rls'::regclass, 'not_mine'::regclass, 'events_mv'::regclass);

-- dropping a master forgets it
CREATE TABLE short_lived (ts timestamptz);
SELECT lambda.create_master('short_lived');
DROP TABLE short_lived;
SELECT master FROM lambda.master ORDER BY master::text;
-- dropping a column of a master does not
ALTER TABLE events ADD COLUMN extra int;
ALTER TABLE events DROP COLUMN extra;
SELECT master FROM lambda.master ORDER BY master::text;

DROP TABLE pevents;
DROP VIEW events_view;
DROP MATERIALIZED VIEW events_mv;
DROP FOREIGN TABLE events_foreign;
DROP SERVER dummy_server;
DROP FOREIGN DATA WRAPPER dummy_fdw;
DROP TABLE events_rls, not_mine;
