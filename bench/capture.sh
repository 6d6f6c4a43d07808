#!/usr/bin/env bash
# Capture benchmark: what the speed layer's capture costs writers, measured
# side by side in one run against the same table without lambda.
#
#   bench/capture.sh [--rows N] [--seconds S] [--clients C]
#
# Defaults: COPY of 1,000,000 rows into a master with 3 views against COPY
# into a plain table (best of 3 each), and single-row INSERT throughput with
# 8 clients for 10 s each.  Runs its own throwaway cluster.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ROWS=1000000
SECONDS_PER=10
CLIENTS=8
while [[ $# -gt 0 ]]; do
    case $1 in
        --rows) ROWS=$2; shift 2 ;;
        --seconds) SECONDS_PER=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        *) echo "usage: $0 [--rows N] [--seconds S] [--clients C]" >&2; exit 2 ;;
    esac
done

bench_cluster "shared_buffers = '1GB'
max_connections = 50
lambda.speed_memory = '512MB'"

echo "bench: a plain table and a master with 3 views"
sql <<'SQL'
CREATE EXTENSION lambda;
CREATE TABLE plain (ts timestamptz NOT NULL, user_id bigint, country text, amount numeric);
CREATE TABLE events (ts timestamptz NOT NULL, user_id bigint, country text, amount numeric);
SELECT lambda.create_master('events');
SELECT lambda.create_view('by_country', $$
    SELECT country, count(*) AS n, sum(amount) AS revenue, avg(amount) AS mean
      FROM events GROUP BY country $$);
SELECT lambda.create_view('by_hour', $$
    SELECT date_trunc('hour', ts AT TIME ZONE 'UTC') AS hour, count(*) AS n,
           min(amount) AS lo, max(amount) AS hi
      FROM events WHERE amount > 0 GROUP BY 1 $$);
SELECT lambda.create_view('by_user', $$
    SELECT user_id % 1000 AS bucket, count(*) AS n, sum(amount) AS total
      FROM events GROUP BY 1 $$);
SQL
sql -c "COPY (SELECT '2026-01-01'::timestamptz + i * interval '1 second', i % 100000,
                     (ARRAY['DE','FR','US','JP','BR'])[1 + i % 5], (i % 1000) / 10.0
                FROM generate_series(1, $ROWS) i) TO '$DIR/events.copy'"

# Milliseconds of the fastest of 3 COPYs of the rows into table $1
copy_ms() {
    local best='' t0 t1 ms
    for _ in 1 2 3; do
        sql -c "TRUNCATE plain" >/dev/null
        t0=$(date +%s%N)
        sql -c "COPY $1 FROM '$DIR/events.copy'"
        t1=$(date +%s%N)
        ms=$(( (t1 - t0) / 1000000 ))
        if [[ -z $best || $ms -lt $best ]]; then best=$ms; fi
    done
    echo "$best"
}

echo "bench: COPY of $ROWS rows, best of 3"
COPY_PLAIN=$(copy_ms plain)
# the master is append-only: COPY into fresh masters each time
COPY_LAMBDA=''
for i in 1 2 3; do
    sql <<SQL >/dev/null
CREATE TABLE m$i (LIKE events);
SELECT lambda.create_master('m$i');
SELECT lambda.create_view('m${i}_a', 'SELECT country, count(*) AS n, sum(amount) AS revenue, avg(amount) AS mean FROM m$i GROUP BY country');
SELECT lambda.create_view('m${i}_b', \$\$SELECT date_trunc('hour', ts AT TIME ZONE 'UTC') AS hour, count(*) AS n, min(amount) AS lo, max(amount) AS hi FROM m$i WHERE amount > 0 GROUP BY 1\$\$);
SELECT lambda.create_view('m${i}_c', 'SELECT user_id % 1000 AS bucket, count(*) AS n, sum(amount) AS total FROM m$i GROUP BY 1');
SQL
    t0=$(date +%s%N)
    sql -c "COPY m$i FROM '$DIR/events.copy'"
    t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 ))
    if [[ -z $COPY_LAMBDA || $ms -lt $COPY_LAMBDA ]]; then COPY_LAMBDA=$ms; fi
done

# Transactions per second of single-row inserts into table $1
insert_tps() {
    printf '%s\n' "\\set u random(1, 100000)" \
        "INSERT INTO $1 VALUES (now(), :u, 'DE', 9.99);" >"$DIR/insert.sql"
    as_test_user pgbench -n -h "$DIR" -p "$PORT" -U postgres -c "$CLIENTS" -j 2 \
        -T "$SECONDS_PER" -f "$DIR/insert.sql" bench 2>&1 |
        awk '/^tps/ { print int($3) }'
}

echo "bench: single-row INSERT, $CLIENTS clients, $SECONDS_PER s each"
TPS_PLAIN=$(insert_tps plain)
TPS_LAMBDA=$(insert_tps events)
EXACT=$(sql -c "SELECT count(*) FROM ((TABLE by_country EXCEPT ALL SELECT country, count(*), sum(amount), avg(amount) FROM events GROUP BY country) UNION ALL (SELECT country, count(*), sum(amount), avg(amount) FROM events GROUP BY country EXCEPT ALL TABLE by_country)) d")
FAST=$(sql -c "SELECT lambda.fast_path('by_country')")

cat <<REPORT

lambda capture benchmark: $(machine)
after the inserts, by_country on the fast path: $FAST; rows differing from its query: $EXACT

| figure | with lambda (3 views) | plain table | ratio |
| --- | ---: | ---: | ---: |
| COPY of $ROWS rows (ms, best of 3) | $COPY_LAMBDA | $COPY_PLAIN | $(ratio "$COPY_LAMBDA" "$COPY_PLAIN") time |
| single-row INSERT, $CLIENTS clients (tps) | $TPS_LAMBDA | $TPS_PLAIN | $(ratio "$TPS_LAMBDA" "$TPS_PLAIN") of plain |
REPORT
[[ $EXACT == 0 && $FAST == t ]]
