#!/usr/bin/env bash
# Serving benchmark: what a query on a lambda view costs after a batch over
# a master of a few million rows plus fresh inserts, measured side by side
# in one run against reading the batch table alone and against the plain
# PostgreSQL way (the view's query run on the master).
#
#   bench/serving.sh [--rows N] [--groups G] [--fresh F] [--seconds S]
#
# Defaults: 3,000,000 rows in 10,000 groups, 10,000 fresh rows after the
# batch, 10 s per pgbench measurement.  Runs its own throwaway cluster.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ROWS=3000000
NGROUPS=10000
FRESH=10000
SECONDS_PER=10
while [[ $# -gt 0 ]]; do
    case $1 in
        --rows) ROWS=$2; shift 2 ;;
        --groups) NGROUPS=$2; shift 2 ;;
        --fresh) FRESH=$2; shift 2 ;;
        --seconds) SECONDS_PER=$2; shift 2 ;;
        *) echo "usage: $0 [--rows N] [--groups G] [--fresh F] [--seconds S]" >&2; exit 2 ;;
    esac
done

bench_cluster "shared_buffers = '1GB'"

# Average latency in ms of a pgbench script run for $SECONDS_PER seconds.
latency() {
    local script=$1
    printf '%s\n' "$script" >"$DIR/bench.sql"
    as_test_user pgbench -n -h "$DIR" -p "$PORT" -U postgres -T "$SECONDS_PER" \
        -f "$DIR/bench.sql" bench 2>&1 | awk '/^latency average/ { print $4 }'
}

echo "bench: loading $ROWS rows in $NGROUPS groups"
sql <<SQL
CREATE EXTENSION lambda;
CREATE TABLE events (ts timestamptz NOT NULL, g int NOT NULL, amount numeric NOT NULL);
SELECT lambda.create_master('events');
INSERT INTO events
SELECT '2026-01-01'::timestamptz + i * interval '1 second', i % $NGROUPS, (i % 997) / 10.0
  FROM generate_series(1, $ROWS) i;
ANALYZE events;
SQL
echo "bench: create_view (first batch)"
sql <<'SQL'
SELECT lambda.create_view('by_group', $$
    SELECT g, count(*) AS n, sum(amount) AS total, avg(amount) AS mean,
           min(amount) AS lo, max(amount) AS hi
      FROM events GROUP BY g $$);
SQL
BATCH=$(sql -c "SELECT batch_table FROM lambda.views WHERE view = 'by_group'::regclass")
echo "bench: $FRESH fresh rows after the batch, in 100 transactions"
for _ in $(seq 100); do
    sql -c "INSERT INTO events SELECT now(), (random() * $NGROUPS)::int, 1 FROM generate_series(1, $((FRESH / 100)))"
done
sleep 1
sql -c "ANALYZE $BATCH"
STATE=$(sql -c "SELECT speed_state || ', ' || speed_groups || ' speed groups, ' || batch_groups || ' batch groups' FROM lambda.views")
FAST=$(sql -c "SELECT lambda.fast_path('by_group')")
EXACT=$(sql -c "SELECT count(*) FROM ((TABLE by_group EXCEPT ALL SELECT g, count(*), sum(amount), avg(amount), min(amount), max(amount) FROM events GROUP BY g) UNION ALL (SELECT g, count(*), sum(amount), avg(amount), min(amount), max(amount) FROM events GROUP BY g EXCEPT ALL TABLE by_group)) d")

echo "bench: measuring ($SECONDS_PER s each)"
POINT_VIEW=$(latency "\\set id random(0, $((NGROUPS - 1)))
SELECT * FROM by_group WHERE g = :id;")
POINT_BATCH=$(latency "\\set id random(0, $((NGROUPS - 1)))
SELECT * FROM $BATCH WHERE g = :id;")
POINT_MASTER=$(latency "\\set id random(0, $((NGROUPS - 1)))
SELECT g, count(*), sum(amount), avg(amount), min(amount), max(amount) FROM events WHERE g = :id GROUP BY g;")
FULL_VIEW=$(latency "SELECT * FROM by_group;")
FULL_BATCH=$(latency "SELECT * FROM $BATCH;")
FULL_MASTER=$(latency "SELECT g, count(*), sum(amount), avg(amount), min(amount), max(amount) FROM events GROUP BY g;")

cat <<REPORT

lambda serving benchmark: $(machine)
master: $ROWS rows, view: $NGROUPS groups, $FRESH rows inserted after the batch
speed layer: $STATE; fast path: $FAST; rows differing from the query on the master: $EXACT

| query | lambda view (ms) | batch table alone (ms) | view's query on the master (ms) | view / batch | master / view |
| --- | ---: | ---: | ---: | ---: | ---: |
| one group | $POINT_VIEW | $POINT_BATCH | $POINT_MASTER | $(ratio "$POINT_VIEW" "$POINT_BATCH") | $(ratio "$POINT_MASTER" "$POINT_VIEW") |
| all groups | $FULL_VIEW | $FULL_BATCH | $FULL_MASTER | $(ratio "$FULL_VIEW" "$FULL_BATCH") | $(ratio "$FULL_MASTER" "$FULL_VIEW") |
REPORT
[[ $EXACT == 0 && $FAST == t ]]
