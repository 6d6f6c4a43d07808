#!/usr/bin/env bash
# The benchmark: every performance figure of lambda, each measured side by
# side in the same run, on the same throwaway cluster, against the plain
# PostgreSQL way of getting the same thing:
#
#   1. COPY into a master with 3 views      vs  COPY into a plain table
#   2. single-row INSERT throughput         vs  the same on a plain table
#   3. point query on the merged view       vs  the view's query on the master,
#                                               and a materialized view's index look-up
#   4. full read of the merged view         vs  reading the batch table alone
#   5. freshness: commit to visible, and how long the worker takes to settle
#   6. run_batch                            vs  CREATE TABLE AS of the query, and
#                                               REFRESH MATERIALIZED VIEW CONCURRENTLY
#   7. speed-layer memory per group         vs  a batch table row (the partial state)
#   8. clean restart: start to fast path    vs  start to reading the batch table;
#      after a crash: slow-path point query vs  the query on the master, while the
#      recovery batch runs, and the time until the fast path is back
#   9. COPY into a master with a view of    vs  COPY into a plain table
#      stddev, hll and tdigest (capture by the aggregates' own transition)
#  10. compaction of the speed layer        vs  run_batch (6)
#  11. full read after a compaction         vs  reading the batch table alone
#  12. COPY into a master with 1 and 10     vs  COPY into a plain table (1)
#      views (how capture grows with views)
#
#   bench/run.sh [--rows N] [--copy-rows N] [--groups N] [--fresh N]
#                [--seconds S] [--clients C] [--trials N] [--out DIR]
#
# Prints a markdown table and writes it to DIR/results.md, the numbers to
# DIR/results.dat and a chart of each ratio against its target to
# DIR/results.png (DIR defaults to bench/results in the repository).  Exits
# non-zero when the merged views are not exact, not on the fast path, or a
# committed row was not visible to the next query; targets not met are
# reported, not fatal.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ROWS=10000000       # master rows for the serving and batch figures (3, 4, 6, 7)
COPY_ROWS=1000000   # rows per COPY (1)
NGROUPS=10000       # groups of the serving view
FRESH=10000         # rows inserted after the last batch (3, 4, 7)
SECONDS_PER=10      # per pgbench run (not SECONDS: bash's own counter)
CLIENTS=8           # INSERT clients (2)
TRIALS=200          # freshness trials (5)
OUT=$REPO_ROOT/bench/results
usage() {
    echo "usage: $0 [--rows N] [--copy-rows N] [--groups N] [--fresh N] [--seconds S]" \
        "[--clients C] [--trials N] [--out DIR]" >&2
    exit 2
}
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || usage
    case $1 in
        --rows) ROWS=$2 ;;
        --copy-rows) COPY_ROWS=$2 ;;
        --groups) NGROUPS=$2 ;;
        --fresh) FRESH=$2 ;;
        --seconds) SECONDS_PER=$2 ;;
        --clients) CLIENTS=$2 ;;
        --trials) TRIALS=$2 ;;
        --out) OUT=$2 ;;
        *) usage ;;
    esac
    shift 2
done
for n in "$ROWS" "$COPY_ROWS" "$NGROUPS" "$FRESH" "$SECONDS_PER" "$CLIENTS" "$TRIALS"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || usage
done
# Freshness trials write brand-new groups: user ids -1..-N fall in groups
# -1..-N of "user_id % groups", which exist only while N < groups.
if ((TRIALS >= NGROUPS)); then TRIALS=$((NGROUPS - 1)); fi
((TRIALS > 0)) || usage
# bench_cluster moves to the scratch dir: pin --out down first.
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STARTED=$(date +%s)

# shared_buffers holds the whole master; a large max_wal_size keeps
# checkpoints out of the timed statements (each is preceded by one);
# speed_memory as in production sizing, far above what the run needs.
bench_cluster "shared_buffers = '1GB'
max_connections = 50
max_wal_size = '16GB'
checkpoint_timeout = '30min'
lambda.speed_memory = '512MB'"
sql -c "CREATE EXTENSION lambda" -c "CREATE EXTENSION dblink"

# The event tables' columns, the same for masters and plain tables
COLUMNS='ts timestamptz NOT NULL, user_id bigint, country text, amount numeric'

# The serving view: one group per user bucket, every kind of aggregate
VIEW_QUERY="SELECT user_id % $NGROUPS AS k, count(*) AS n, sum(amount) AS total,
       avg(amount) AS mean, min(amount) AS lo, max(amount) AS hi
  FROM events GROUP BY 1"

# Rows of the report: markdown for results.md, numbers for results.dat
TABLE=()
DAT=()
# row ID NAME LABEL LAMBDA PLAIN UNIT RATIO OP TARGET LAMBDA-TEXT PLAIN-TEXT
# NAME is short, for results.dat and the chart; PLAIN and RATIO are NaN
# when there is nothing to compare with, OP and TARGET "-" when the figure
# is only reported.
row() {
    local id=$1 name=$2 label=$3 l=$4 p=$5 unit=$6 r=$7 op=$8 t=$9 ok='-' target=reported
    if [[ $op != - ]]; then
        ok=$(met "$([[ $r == NaN ]] && echo "$l" || echo "$r")" "$op" "$t")
        target="$op $t"
    fi
    TABLE+=("| $id. $label | ${10} | ${11} | ${r/NaN/-} | $target | $ok |")
    DAT+=("$id $name $l $p $unit $r $op $t $ok")
}

# ---------------------------------------------------------------------------
# 1. COPY into a master with the 3 views of a typical dashboard (different
# keys, a filter, every aggregate) against COPY into a plain table.

# SQL for a master $1 with its 3 views
capture_master() {
    cat <<SQL
CREATE TABLE $1 ($COLUMNS);
SELECT lambda.create_master('$1');
SELECT lambda.create_view('$1_by_country',
    'SELECT country, count(*) AS n, sum(amount) AS revenue, avg(amount) AS mean
       FROM $1 GROUP BY country');
SELECT lambda.create_view('$1_by_hour', \$\$
    SELECT date_trunc('hour', ts AT TIME ZONE 'UTC') AS hour, count(*) AS n,
           min(amount) AS lo, max(amount) AS hi
      FROM $1 WHERE amount > 0 GROUP BY 1 \$\$);
SELECT lambda.create_view('$1_by_user',
    'SELECT user_id % 1000 AS bucket, count(*) AS n, sum(amount) AS total
       FROM $1 GROUP BY 1');
SQL
}

say "1. COPY of $COPY_ROWS rows, best of 3, alternating"
sql -c "COPY (SELECT '2026-01-01'::timestamptz + i * interval '1 second', i % 100000,
                     (ARRAY['DE','FR','US','JP','BR'])[1 + i % 5], (i % 1000) / 10.0
                FROM generate_series(1, $COPY_ROWS) i) TO '$DIR/events.copy'"
COPY_PLAIN_RUNS=()
COPY_LAMBDA_RUNS=()
for i in 1 2 3; do
    # masters are append-only, so every run gets fresh, empty tables
    { echo "CREATE TABLE copy_plain_$i ($COLUMNS);"; capture_master "copy_lambda_$i"; } |
        sql >/dev/null
    # plain first in odd runs, lambda first in even ones: drift hits both
    for kind in $(if ((i % 2)); then echo plain lambda; else echo lambda plain; fi); do
        sql -c CHECKPOINT
        ms=$(ms_of "COPY copy_${kind}_$i FROM '$DIR/events.copy'")
        if [[ $kind == plain ]]; then COPY_PLAIN_RUNS+=("$ms"); else COPY_LAMBDA_RUNS+=("$ms"); fi
    done
    sql -c "SET client_min_messages = warning" -c "DROP TABLE copy_plain_$i, copy_lambda_$i CASCADE"
done
COPY_PLAIN=$(min "${COPY_PLAIN_RUNS[@]}")
COPY_LAMBDA=$(min "${COPY_LAMBDA_RUNS[@]}")
row 1 copy "COPY of $COPY_ROWS rows into a master with 3 views (best of 3)" \
    "$COPY_LAMBDA" "$COPY_PLAIN" ms "$(ratio "$COPY_LAMBDA" "$COPY_PLAIN")" '<=' 1.30 \
    "$COPY_LAMBDA ms" "$COPY_PLAIN ms"

# ---------------------------------------------------------------------------
# 9. The capture cost of aggregates without specialised code: COPY into a
# master with one view of stddev, hll and t-digest (each advanced by the
# aggregate's own transition function, its state serialized per statement),
# against COPY into a plain table.  Reported, with no target.
say "9. COPY of $COPY_ROWS rows into a master with a stddev/hll/tdigest view, best of 3"
sql -c "CREATE EXTENSION IF NOT EXISTS hll" -c "CREATE EXTENSION IF NOT EXISTS tdigest" >/dev/null
GEN_PLAIN_RUNS=()
GEN_LAMBDA_RUNS=()
for i in 1 2 3; do
    sql >/dev/null <<SQL
CREATE TABLE gen_plain_$i ($COLUMNS);
CREATE TABLE gen_lambda_$i ($COLUMNS);
SELECT lambda.create_master('gen_lambda_$i');
SELECT lambda.create_view('gen_lambda_${i}_stats', \$\$
    SELECT country, stddev(amount) AS sd,
           hll_cardinality(hll_add_agg(hll_hash_bigint(user_id))) AS users,
           tdigest_percentile(amount::float8, 100, 0.95) AS p95
      FROM gen_lambda_$i GROUP BY country \$\$);
SQL
    for kind in $(if ((i % 2)); then echo plain lambda; else echo lambda plain; fi); do
        sql -c CHECKPOINT
        ms=$(ms_of "COPY gen_${kind}_$i FROM '$DIR/events.copy'")
        if [[ $kind == plain ]]; then GEN_PLAIN_RUNS+=("$ms"); else GEN_LAMBDA_RUNS+=("$ms"); fi
    done
    sql -c "SET client_min_messages = warning" -c "DROP TABLE gen_plain_$i, gen_lambda_$i CASCADE"
done
GEN_PLAIN=$(min "${GEN_PLAIN_RUNS[@]}")
GEN_LAMBDA=$(min "${GEN_LAMBDA_RUNS[@]}")
row 9 copy_generic "COPY of $COPY_ROWS rows into a master with a stddev/hll/tdigest view (best of 3)" \
    "$GEN_LAMBDA" "$GEN_PLAIN" ms "$(ratio "$GEN_LAMBDA" "$GEN_PLAIN")" - - \
    "$GEN_LAMBDA ms" "$GEN_PLAIN ms"

# ---------------------------------------------------------------------------
# 12. How capture grows with the number of views: COPY into a master with 1
# view (figure 1's first) and with 10 (figure 1's 3, and 7 more of other
# keys and aggregates), against figure 1's plain table.  Reported.
say "12. COPY of $COPY_ROWS rows into a master with 1 and with 10 views, best of 2"
views_master() {
    local t=$1 n=$2 i
    echo "CREATE TABLE $t ($COLUMNS); SELECT lambda.create_master('$t');"
    echo "SELECT lambda.create_view('${t}_v1', 'SELECT country, count(*) AS n, sum(amount) AS revenue, avg(amount) AS mean FROM $t GROUP BY country');"
    ((n > 1)) || return 0
    echo "SELECT lambda.create_view('${t}_v2', \$\$SELECT date_trunc('hour', ts AT TIME ZONE 'UTC') AS hour, count(*) AS n, min(amount) AS lo, max(amount) AS hi FROM $t WHERE amount > 0 GROUP BY 1\$\$);"
    echo "SELECT lambda.create_view('${t}_v3', 'SELECT user_id % 1000 AS bucket, count(*) AS n, sum(amount) AS total FROM $t GROUP BY 1');"
    for i in 4 5 6 7 8 9 10; do
        echo "SELECT lambda.create_view('${t}_v$i', 'SELECT user_id % $((i * 7)) AS k, country, count(*) AS n, sum(amount) AS total, max(amount) AS hi FROM $t GROUP BY 1, 2');"
    done
}
VIEWS1_RUNS=()
VIEWS10_RUNS=()
for i in 1 2; do
    { views_master "copy_v1_$i" 1; views_master "copy_v10_$i" 10; } | sql >/dev/null
    for n in 1 10; do
        sql -c CHECKPOINT
        ms=$(ms_of "COPY copy_v${n}_$i FROM '$DIR/events.copy'")
        if ((n == 1)); then VIEWS1_RUNS+=("$ms"); else VIEWS10_RUNS+=("$ms"); fi
    done
    sql -c "SET client_min_messages = warning" -c "DROP TABLE copy_v1_$i, copy_v10_$i CASCADE"
done
VIEWS1=$(min "${VIEWS1_RUNS[@]}")
VIEWS10=$(min "${VIEWS10_RUNS[@]}")

# ---------------------------------------------------------------------------
# 2. Single-row INSERT throughput, same 3 views.  These tables stay to the
# end: the exactness check covers their views too.
say "2. single-row INSERT, $CLIENTS clients, $SECONDS_PER s per run, plain/lambda twice"
{ echo "CREATE TABLE insert_plain ($COLUMNS);"; capture_master insert_lambda; } | sql >/dev/null
INSERT_PLAIN_RUNS=()
INSERT_LAMBDA_RUNS=()
for _ in 1 2; do
    for kind in plain lambda; do
        pgb_script "insert_$kind" "\\set u random(1, 100000)" \
            "INSERT INTO insert_$kind VALUES (now(), :u, 'DE', 9.99);"
        tps=$(pgb "$CLIENTS" -T "$SECONDS_PER" -f "$DIR/insert_$kind.sql" 2>&1 |
            awk '/^tps/ { print int($3) }')
        if [[ $kind == plain ]]; then INSERT_PLAIN_RUNS+=("$tps"); else INSERT_LAMBDA_RUNS+=("$tps"); fi
    done
done
TPS_PLAIN=$(max "${INSERT_PLAIN_RUNS[@]}")
TPS_LAMBDA=$(max "${INSERT_LAMBDA_RUNS[@]}")
row 2 insert "single-row INSERT, $CLIENTS clients, 3 views (best of 2)" \
    "$TPS_LAMBDA" "$TPS_PLAIN" tps "$(ratio "$TPS_LAMBDA" "$TPS_PLAIN")" '>=' 0.95 \
    "$TPS_LAMBDA tps" "$TPS_PLAIN tps"

# ---------------------------------------------------------------------------
# The serving master: loaded before create_view, so its first batch covers
# every row (rows inserted after it would go through capture into the speed
# layer instead); VACUUM so that no timed statement pays for hint bits.
say "loading $ROWS rows in $NGROUPS groups"
sql >/dev/null <<SQL
CREATE TABLE events ($COLUMNS);
SELECT lambda.create_master('events');
INSERT INTO events
SELECT '2026-01-01'::timestamptz + i * interval '1 second', i % 1000003,
       (ARRAY['DE','FR','US','JP','BR'])[1 + i % 5], (i % 9973) / 100.0
  FROM generate_series(1, $ROWS) i;
VACUUM (ANALYZE) events;
SQL
say "create_view (first batch) and a materialized view of the same query"
sql >/dev/null <<SQL
SELECT lambda.create_view('per_group', \$\$ $VIEW_QUERY \$\$);
CREATE MATERIALIZED VIEW per_group_mv AS $VIEW_QUERY;
CREATE UNIQUE INDEX ON per_group_mv (k);
SQL
BATCH=$(sql -c "SELECT batch_table FROM lambda.views WHERE view = 'per_group'::regclass")

# Wait (bounded) until the worker has settled every handed-off transaction
settled() {
    for _ in $(seq 300); do
        [[ $(sql -c "SELECT speed_pending FROM lambda.views WHERE view = 'per_group'::regclass") == 0 ]] &&
            return 0
        sleep 0.1
    done
    echo "bench: the speed layer did not settle in 30 s" >&2
    return 1
}

# ---------------------------------------------------------------------------
# 6. run_batch against CREATE TABLE AS of the view's query and REFRESH
# MATERIALIZED VIEW CONCURRENTLY of a matview of it.  Before each round a
# few rows arrive, so the refresh has something to change; the order
# rotates so that no method always runs first.
say "6. run_batch / CREATE TABLE AS / REFRESH CONCURRENTLY over $ROWS rows, best of 3"
CHUNK=$(((FRESH + 9) / 10))
BATCH_RUNS=()
CTAS_RUNS=()
REFRESH_RUNS=()
for round in 0 1 2; do
    sql -c "INSERT INTO events SELECT now(), (random() * 1e9)::bigint, 'DE', 1.5
              FROM generate_series(1, $CHUNK)"
    methods=(batch ctas refresh)
    for j in 0 1 2; do
        sql -c CHECKPOINT
        case ${methods[(round + j) % 3]} in
            batch) BATCH_RUNS+=("$(ms_of "SELECT lambda.run_batch('per_group')")") ;;
            ctas) CTAS_RUNS+=("$(ms_of "CREATE TABLE ctas AS $VIEW_QUERY")")
                sql -c "DROP TABLE ctas" ;;
            refresh) REFRESH_RUNS+=("$(ms_of "REFRESH MATERIALIZED VIEW CONCURRENTLY per_group_mv")") ;;
        esac
    done
done
BATCH_MS=$(min "${BATCH_RUNS[@]}")
CTAS_MS=$(min "${CTAS_RUNS[@]}")
REFRESH_MS=$(min "${REFRESH_RUNS[@]}")

# ---------------------------------------------------------------------------
# Fresh rows after the last batch, in small transactions with random users,
# so the speed layer holds thousands of groups when 3, 4 and 7 measure.
say "$FRESH fresh rows after the batch, 10 per transaction"
pgb_script fresh "INSERT INTO events SELECT now(), (random() * 1e9)::bigint, 'FR',
    round((random() * 100)::numeric, 2) FROM generate_series(1, 10);"
pgb 1 -t "$(((FRESH + 9) / 10))" -f "$DIR/fresh.sql" >/dev/null
settled
sql -c "ANALYZE $BATCH"
FAST=$(sql -c "SELECT lambda.fast_path('per_group')")
read -r SPEED_GROUPS SPEED_BYTES BATCH_GROUPS SPEED_STATE < <(sql -F ' ' -c "
    SELECT speed_groups, speed_bytes, batch_groups, speed_state
      FROM lambda.views WHERE view = 'per_group'::regclass")
say "speed layer: $SPEED_STATE, $SPEED_GROUPS groups, $SPEED_BYTES bytes on $BATCH_GROUPS batch groups; fast path: $FAST"
[[ $FAST == t ]] || { echo "bench: per_group is not on the fast path" >&2; exit 1; }

# ---------------------------------------------------------------------------
# 3. Point query: the merged view against the view's query on the master.
say "3. point query: view $SECONDS_PER s, master 20 queries"
RANDOM_KEY="\\set k random(0, $((NGROUPS - 1)))"
latency point_view "$RANDOM_KEY
SELECT * FROM per_group WHERE k = :k;" -T "$SECONDS_PER"
latency point_master "$RANDOM_KEY
SELECT user_id % $NGROUPS AS k, count(*) AS n, sum(amount) AS total, avg(amount) AS mean,
       min(amount) AS lo, max(amount) AS hi
  FROM events WHERE user_id % $NGROUPS = :k GROUP BY 1;" -t 20
latency point_mv "$RANDOM_KEY
SELECT * FROM per_group_mv WHERE k = :k;" -T "$SECONDS_PER"
for p in 50 99; do
    v=$(pct point_view $p)
    m=$(pct point_master $p)
    row 3 "point_p$p" "point query (one group), p$p" "$v" "$m" ms "$(ratio "$m" "$v")" '>=' 1000 \
        "$v ms" "$m ms (query on master)"
done
v=$(pct point_view 50)
m=$(pct point_mv 50)
row 3 point_mv "point query (one group), p50, against a materialized view's index look-up" \
    "$v" "$m" ms "$(ratio "$v" "$m")" '<=' 1.2 "$v ms" "$m ms (materialized view, unique index)"

# ---------------------------------------------------------------------------
# 4. Full read: the merged view against the batch table alone.
say "4. full read of $NGROUPS groups, $SECONDS_PER s each"
latency full_view "SELECT * FROM per_group;" -T "$SECONDS_PER"
latency full_batch "SELECT * FROM $BATCH;" -T "$SECONDS_PER"
v=$(pct full_view 50)
b=$(pct full_batch 50)
row 4 full_p50 "full read ($NGROUPS groups, $SPEED_GROUPS of them in the speed layer), p50" "$v" "$b" ms "$(ratio "$v" "$b")" '<=' 1.3 \
    "$v ms" "$b ms (batch table alone)"

# ---------------------------------------------------------------------------
# 5. Freshness.  A second session (dblink) commits a row of a brand-new
# group; the very next query of this session must see it; then poll
# speed_pending every 2 ms until the worker has settled it.  Each step is
# its own statement: a snapshot taken before the commit would hold back the
# horizon the worker settles at (a procedure looping with COMMIT keeps its
# xmin, so that does not work).  Each trial first waits a random part of
# the worker's nap: without it every commit would come just after the round
# that settled the previous one, and every lag would be a whole nap.
say "5. freshness, $TRIALS trials"
sql <<SQL
CREATE TABLE fresh_trial (trial int, seen bigint, settle_ms float8);
CREATE FUNCTION settle_ms(t0 timestamptz) RETURNS float8 LANGUAGE plpgsql AS \$\$
BEGIN
    WHILE (SELECT speed_pending FROM lambda.views WHERE view = 'per_group'::regclass) > 0 LOOP
        IF clock_timestamp() - t0 > interval '2 s' THEN
            RETURN -1;   -- not settled: counted, left out of the percentiles
        END IF;
        PERFORM pg_sleep(0.002);
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
SQL
{
    echo "SELECT dblink_connect('writer', 'host=$DIR port=$PORT user=postgres dbname=bench');"
    for i in $(seq "$TRIALS"); do
        cat <<SQL
SELECT pg_sleep(random() * setting::float8 / 1000) FROM pg_settings WHERE name = 'lambda.naptime';
SELECT dblink_exec('writer', 'INSERT INTO events VALUES (now(), -$i, ''JP'', 2.5)'),
       clock_timestamp() AS t0 \gset
SELECT coalesce(sum(n), 0) AS seen FROM per_group WHERE k = -$i \gset
SELECT settle_ms(:'t0') AS settle \gset
INSERT INTO fresh_trial VALUES ($i, :seen, :settle);
SQL
    done
} | sql >/dev/null
read -r MISSES UNSETTLED SETTLE_P50 SETTLE_P99 < <(sql -F ' ' -c "
    SELECT count(*) FILTER (WHERE seen <> 1), count(*) FILTER (WHERE settle_ms < 0),
           round(percentile_disc(0.5) WITHIN GROUP (ORDER BY settle_ms)
                 FILTER (WHERE settle_ms >= 0)::numeric, 1),
           round(percentile_disc(0.99) WITHIN GROUP (ORDER BY settle_ms)
                 FILTER (WHERE settle_ms >= 0)::numeric, 1)
      FROM fresh_trial")
row 5 fresh_misses "commit to visible in the merged view" "$MISSES" NaN misses NaN '==' 0 \
    "$MISSES misses of $TRIALS" "-"
row 5 settle_p50 "settle lag (worker), p50" "$SETTLE_P50" NaN ms NaN - - "$SETTLE_P50 ms" "-"
row 5 settle_p99 "settle lag (worker), p99" "$SETTLE_P99" NaN ms NaN - - \
    "$SETTLE_P99 ms ($UNSETTLED unsettled)" "-"

# 6's rows, in figure order
row 6 batch_vs_ctas "run_batch over $ROWS rows vs CREATE TABLE AS (best of 3)" \
    "$BATCH_MS" "$CTAS_MS" ms "$(ratio "$BATCH_MS" "$CTAS_MS")" '<=' 1.1 \
    "$BATCH_MS ms" "$CTAS_MS ms"
row 6 batch_vs_refresh "run_batch vs REFRESH MATERIALIZED VIEW CONCURRENTLY (best of 3)" \
    "$BATCH_MS" "$REFRESH_MS" ms "$(ratio "$BATCH_MS" "$REFRESH_MS")" '<' 1 \
    "$BATCH_MS ms" "$REFRESH_MS ms"

# ---------------------------------------------------------------------------
# 7. Speed-layer memory per group (measured after the fresh rows settled,
# before 5 added its groups) against a batch table row: the same partial
# state, stored.
ROW_BYTES=$(sql -c "SELECT round(avg(pg_column_size(t.*)), 1) FROM $BATCH t")
PER_GROUP=$(awk -v b="$SPEED_BYTES" -v g="$SPEED_GROUPS" 'BEGIN { printf "%.1f", b / g }')
row 7 memory "speed-layer memory per group" "$PER_GROUP" "$ROW_BYTES" bytes \
    "$(ratio "$PER_GROUP" "$ROW_BYTES")" - - "$PER_GROUP B" "$ROW_BYTES B (batch table row)"

# ---------------------------------------------------------------------------
# 10. Compaction: the batch table merged with the speed layer, published as
# a new batch, against run_batch over the whole master (6).  Three rounds,
# each after $FRESH fresh rows have settled (the first also holds 5's
# rows); the time is the one the server measured (lambda.views).
say "10. compaction after $FRESH fresh rows, best of 3"
COMPACT_RUNS=()
COMPACT_WRITTEN=()
for round in 1 2 3; do
    if ((round > 1)); then
        pgb 1 -t "$(((FRESH + 9) / 10))" -f "$DIR/fresh.sql" >/dev/null
        settled
    fi
    COMPACT_WRITTEN+=("$(sql -c "SELECT lambda.compact('per_group')")")
    COMPACT_RUNS+=("$(sql -c "SELECT round(extract(epoch FROM last_compaction_duration) * 1000, 1)
                               FROM lambda.views WHERE view = 'per_group'::regclass")")
done
COMPACT_MS=$(min "${COMPACT_RUNS[@]}")
row 10 compact "compaction after $FRESH fresh rows (${COMPACT_WRITTEN[*]} groups written) vs run_batch over $ROWS rows (best of 3)" \
    "$COMPACT_MS" "$BATCH_MS" ms "$(ratio "$COMPACT_MS" "$BATCH_MS")" '<=' 0.02 \
    "$COMPACT_MS ms" "$BATCH_MS ms (run_batch, 6)"

# 11. A full read right after the compaction: the speed layer is empty.
say "11. full read after the compaction, $SECONDS_PER s each"
sql -c "VACUUM (ANALYZE) $BATCH"
latency full_view_compacted "SELECT * FROM per_group;" -T "$SECONDS_PER"
latency full_batch_compacted "SELECT * FROM $BATCH;" -T "$SECONDS_PER"
v=$(pct full_view_compacted 50)
b=$(pct full_batch_compacted 50)
row 11 full_compacted "full read ($NGROUPS groups) after a compaction, p50" "$v" "$b" ms "$(ratio "$v" "$b")" - - \
    "$v ms" "$b ms (batch table alone)"

# 12's rows, in figure order
row 12 copy_1view "COPY of $COPY_ROWS rows into a master with 1 view (best of 2)" \
    "$VIEWS1" "$COPY_PLAIN" ms "$(ratio "$VIEWS1" "$COPY_PLAIN")" - - "$VIEWS1 ms" "$COPY_PLAIN ms (1)"
row 12 copy_10views "COPY of $COPY_ROWS rows into a master with 10 views (best of 2)" \
    "$VIEWS10" "$COPY_PLAIN" ms "$(ratio "$VIEWS10" "$COPY_PLAIN")" - - "$VIEWS10 ms" "$COPY_PLAIN ms (1)"

# ---------------------------------------------------------------------------
# Exactness: every lambda view equals its query run on the master, both
# ways, and is served by the fast path.  Point queries take another path
# (a look-up through the batch table's index), so check them too: the
# view against the master for keys spread over the batch's groups, groups
# only the speed layer has (5's) and a group nobody has, each as a cached
# plan (custom plans first, then maybe a generic one) as in 3.
say "exactness of every view, and of point queries"
CHECK=$(sql <<SQL
CREATE FUNCTION pg_temp.differing(v regclass, q text) RETURNS bigint
LANGUAGE plpgsql AS \$\$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM ((TABLE %s EXCEPT ALL (%s))
                    UNION ALL ((%s) EXCEPT ALL TABLE %s)) d', v, q, q, v) INTO n;
    RETURN n;
END \$\$;
CREATE FUNCTION pg_temp.point_differing(keys bigint[]) RETURNS bigint
LANGUAGE plpgsql AS \$\$
DECLARE
    n bigint := 0;
    key bigint;
    v record;
    m record;
BEGIN
    FOREACH key IN ARRAY keys LOOP
        SELECT * INTO v FROM per_group WHERE k = key;
        SELECT user_id % $NGROUPS AS k, count(*) AS n, sum(amount) AS total,
               avg(amount) AS mean, min(amount) AS lo, max(amount) AS hi
          INTO m FROM events WHERE user_id % $NGROUPS = key GROUP BY 1;
        IF v IS DISTINCT FROM m THEN n := n + 1; END IF;
    END LOOP;
    RETURN n;
END \$\$;
SELECT string_agg(format('%s: %s rows differ, fast path %s', view,
                         pg_temp.differing(view, query), lambda.fast_path(view)), E'\\n'
                  ORDER BY view::text)
  FROM lambda.view;
SELECT format('per_group, point queries on 16 keys: %s rows differ, fast path %s',
              pg_temp.point_differing(ARRAY(SELECT i * $NGROUPS / 12 FROM generate_series(0, 11) i)
                                      || ARRAY[-1, -2, -3, $NGROUPS]::bigint[]),
              lambda.fast_path('per_group'));
SQL
)
echo "$CHECK"
EXACT=yes
if grep -qv ': 0 rows differ, fast path t$' <<<"$CHECK"; then EXACT=no; fi

# ---------------------------------------------------------------------------
# 8. Restarts, over the $ROWS-row master.  A clean restart (fast shutdown)
# saves the speed layer and the start loads it: the time from the start
# command to the first read of the view on the fast path, against the time
# to the first read of the batch table (how soon plain PostgreSQL serves a
# stored result).  A crash (immediate shutdown) loses it: until a recovery
# batch has rebuilt it, reads take the exact slow path; the latency of a
# point query on the view while the batch runs, against the same query run
# on the master (3), and how long until the fast path is back.
say "8. restarts: clean, then crash"
pgctl() { as_test_user pg_ctl -D "$DIR/data" -l "$DIR/server.log" -w "$@" >/dev/null; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# until_ms T0 SQL: ms from T0 until SQL returns t (polled every 5 ms, 10 min at most)
until_ms() {
    local out
    while :; do
        out=$(sql -c "$2" 2>/dev/null) && [[ $out == t ]] && break
        if (($(now_ms) - $1 > 600000)); then
            echo "bench: timed out waiting for: $2" >&2
            server_log
            exit 1
        fi
        sleep 0.005
    done
    echo $(($(now_ms) - $1))
}
FAST_READ="SELECT lambda.fast_path('per_group') AND count(*) > 0 FROM per_group"
VERSION_CLEAN=$(sql -c "SELECT batch_version FROM lambda.views WHERE view = 'per_group'::regclass")
pgctl stop -m fast
T0=$(now_ms)
pgctl start
RESTART_FAST_MS=$(until_ms "$T0" "$FAST_READ")
BATCHES_AFTER=$(sql -c "SELECT batch_version FROM lambda.views WHERE view = 'per_group'::regclass")
pgctl stop -m fast
T0=$(now_ms)
pgctl start
RESTART_PLAIN_MS=$(until_ms "$T0" "SELECT count(*) > 0 FROM $BATCH")
row 8 restart_fast "clean restart: start to first fast-path read" "$RESTART_FAST_MS" "$RESTART_PLAIN_MS" ms \
    "$(ratio "$RESTART_FAST_MS" "$RESTART_PLAIN_MS")" '<=' 2 \
    "$RESTART_FAST_MS ms" "$RESTART_PLAIN_MS ms (first read of the batch table)"

VERSION_BEFORE=$(sql -c "SELECT batch_version FROM lambda.views WHERE view = 'per_group'::regclass")
pgctl stop -m immediate
T0=$(now_ms)
pgctl start
# Point queries until one is served by the fast path; fast_path() and the
# query share the statement's snapshot, so each read is known to have taken
# the slow path or not.  The first reads find the buffer cache empty.
SLOW_RUNS=()
while :; do
    t0=$(now_ms)
    out=$(sql -c "SELECT lambda.fast_path('per_group'),
                         (SELECT count(*) FROM per_group WHERE k = $((RANDOM % NGROUPS)))")
    t1=$(now_ms)
    [[ $out == t\|* ]] && break
    SLOW_RUNS+=($((t1 - t0)))
    if ((t1 - T0 > 600000)); then
        echo "bench: no fast path 10 minutes after the crash" >&2
        server_log
        exit 1
    fi
done
CRASH_FAST_MS=$(($(now_ms) - T0))
VERSION_AFTER=$(sql -c "SELECT batch_version FROM lambda.views WHERE view = 'per_group'::regclass")
read -r SLOW_P50 SLOW_MAX < <(printf '%s\n' "${SLOW_RUNS[@]:-0}" | sort -g |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[NR] }')
M50=$(pct point_master 50)
row 8 crash_slow_p50 "after a crash: point query on the slow path while the recovery batch runs, p50 of ${#SLOW_RUNS[@]} (max $SLOW_MAX ms)" \
    "$SLOW_P50" "$M50" ms "$(ratio "$SLOW_P50" "$M50")" - - \
    "$SLOW_P50 ms" "$M50 ms (the query on the master, 3)"
row 8 crash_fast "after a crash: start to the fast path (recovery batch $VERSION_BEFORE -> $VERSION_AFTER)" \
    "$CRASH_FAST_MS" "$BATCH_MS" ms "$(ratio "$CRASH_FAST_MS" "$BATCH_MS")" - - \
    "$CRASH_FAST_MS ms" "$BATCH_MS ms (run_batch, 6)"
say "clean restart: fast path after $RESTART_FAST_MS ms with batch_version $BATCHES_AFTER (no batch);" \
    "crash: fast path after $CRASH_FAST_MS ms"
CHECK8=$(sql -c "SELECT format('after the restarts: per_group %s rows differ, fast path %s',
                    (SELECT count(*) FROM ((TABLE per_group EXCEPT ALL ($VIEW_QUERY))
                                           UNION ALL (($VIEW_QUERY) EXCEPT ALL TABLE per_group)) d),
                    lambda.fast_path('per_group'))")
echo "$CHECK8"
grep -q ': per_group 0 rows differ, fast path t$' <<<"$CHECK8" || EXACT=no
[[ $BATCHES_AFTER == "$VERSION_CLEAN" ]] || {
    echo "bench: a batch ran after the clean restart ($VERSION_CLEAN -> $BATCHES_AFTER)" >&2
    EXACT=no
}

# ---------------------------------------------------------------------------
# Report
ELAPSED=$(($(date +%s) - STARTED))
HEADER="lambda benchmark: $(machine); master $ROWS rows in $NGROUPS groups, $FRESH fresh rows\
 (speed layer: $SPEED_GROUPS groups), COPY $COPY_ROWS rows, $SECONDS_PER s per pgbench run,\
 $CLIENTS insert clients, $TRIALS freshness trials; exact and on the fast path: $EXACT;\
 took ${ELAPSED} s"
REPORT=$(
    echo "$HEADER"
    echo
    echo "| figure | lambda | plain PostgreSQL | ratio | target | met? |"
    echo "| --- | ---: | ---: | ---: | --- | --- |"
    printf '%s\n' "${TABLE[@]}"
)
echo
echo "$REPORT"
echo "$REPORT" >"$OUT/results.md"
{
    echo "# $HEADER"
    echo "# runs (ms or tps): copy plain ${COPY_PLAIN_RUNS[*]}; copy lambda ${COPY_LAMBDA_RUNS[*]};" \
        "insert plain ${INSERT_PLAIN_RUNS[*]}; insert lambda ${INSERT_LAMBDA_RUNS[*]};" \
        "run_batch ${BATCH_RUNS[*]}; ctas ${CTAS_RUNS[*]}; refresh ${REFRESH_RUNS[*]};" \
        "compact ${COMPACT_RUNS[*]}; copy 1 view ${VIEWS1_RUNS[*]}; copy 10 views ${VIEWS10_RUNS[*]}"
    for name in point_view point_master point_mv full_view full_batch full_view_compacted \
        full_batch_compacted; do
        echo "# latency $(lat_summary $name)"
    done
    echo "# figure label lambda plain unit ratio op target met"
    printf '%s\n' "${DAT[@]}"
} >"$OUT/results.dat"

# The chart: each measured ratio (green when its target is met, red when
# not, grey when only reported) with its target as a black line, log scale;
# figures without a ratio (freshness) are left out.
printf '%s\n' "${DAT[@]}" | awk '$6 != "NaN"' >"$DIR/plot.dat"
# a y range that shows every bar and every target line
read -r YMIN YMAX < <(awk '{ for (c = 6; c <= 8; c += 2) if ($c + 0 > 0) {
        if (lo == "" || $c < lo) lo = $c; if ($c > hi) hi = $c } }
    END { print lo / 3, hi * 3 }' "$DIR/plot.dat")
TERMINAL=png
if gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo; then TERMINAL=pngcairo; fi
gnuplot <<GNUPLOT
set terminal $TERMINAL size 1100,600
set output '$OUT/results.png'
set title "lambda vs plain PostgreSQL ($(nproc) cores): measured ratio (bar: green met, red not met, grey reported), target (black line)" noenhanced
set logscale y
set yrange [$YMIN:$YMAX]
set rmargin 10
set ylabel 'ratio: lambda / plain (3: plain / lambda, times faster)'
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -30 noenhanced
set grid ytics
set key off
set xrange [-0.7:*]
color(met) = met eq 'yes' ? 0x2ca02c : met eq 'no' ? 0xd62728 : 0x999999
plot '$DIR/plot.dat' using 0:6:(color(strcol(9))):xtic(strcol(1).'. '.strcol(2)) \\
         with boxes lc rgb variable, \\
     '' using (\$0 - 0.4):(\$8 > 0 ? \$8 : NaN):(0.8):(0) with vectors nohead lw 3 lc rgb 'black'
GNUPLOT
say "wrote $OUT/results.md, results.dat, results.png"

[[ $EXACT == yes ]] || { echo "bench: a view is not exact or not on the fast path" >&2; exit 1; }
((MISSES == 0 && UNSETTLED == 0)) || { echo "bench: committed rows not visible or not settled" >&2; exit 1; }
