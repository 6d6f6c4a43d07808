#!/usr/bin/env bash
# A loop of single-row INSERTs in one transaction (as ORMs and loaders
# write), into a master with one lambda view against the same loop into a
# plain table, side by side in one run on one throwaway cluster, at several
# loop lengths: the cost per insert must not grow with the loop (it did: each
# capture's subtransaction walked every row captured before it).
#
#   bench/loop.sh [--sizes "10000 20000 40000 80000"] [--trials N]
#
# Prints a markdown table: milliseconds for each loop, their ratio, and the
# lambda time per insert, which stays flat when the cost is linear.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
# shellcheck source=bench/common.sh
source "$REPO_ROOT/bench/common.sh"

SIZES="10000 20000 40000 80000"
TRIALS=3
while [[ $# -gt 0 ]]; do
    case $1 in
        --sizes) SIZES=$2; shift 2 ;;
        --trials) TRIALS=$2; shift 2 ;;
        *) echo "usage: bench/loop.sh [--sizes \"N ...\"] [--trials N]" >&2; exit 2 ;;
    esac
done

bench_cluster "shared_buffers = 512MB
max_wal_size = 4GB"

sql >/dev/null <<'SQL'
CREATE EXTENSION lambda;
CREATE TABLE plain (ts timestamptz NOT NULL, user_id bigint, amount numeric);
CREATE TABLE events (ts timestamptz NOT NULL, user_id bigint, amount numeric);
SELECT lambda.create_master('events');
SELECT lambda.create_view('by_user', $$
    SELECT user_id % 100 AS bucket, count(*) AS n, sum(amount) AS total
      FROM events GROUP BY user_id % 100 $$);
-- the loop, in one transaction: one INSERT statement per row
CREATE PROCEDURE loop(tab regclass, n int) LANGUAGE plpgsql AS $p$
BEGIN
    FOR i IN 1..n LOOP
        EXECUTE format('INSERT INTO %s VALUES (now(), $1, $2)', tab) USING i, i % 17;
    END LOOP;
END $p$;
SQL

# best of TRIALS, in ms, of the loop of n into tab (each in its own transaction)
best() {
    local tab=$1 n=$2 t times=()
    for _ in $(seq "$TRIALS"); do
        sql -c "CHECKPOINT" >/dev/null
        t=$(ms_of "CALL loop('$tab', $n)")
        times+=("$t")
    done
    min "${times[@]}"
}

echo "| inserts in one transaction | lambda (1 view) | plain table | ratio | lambda per insert |"
echo "| ---: | ---: | ---: | ---: | ---: |"
for n in $SIZES; do
    l=$(best events "$n")
    p=$(best plain "$n")
    per=$(awk -v t="$l" -v n="$n" 'BEGIN { printf "%.1f", t * 1000 / n }')
    echo "| $n | $l ms | $p ms | $(ratio "$l" "$p") | $per µs |"
done

# the view is exact after all that
diff=$(sql -c "SELECT count(*) FROM ((TABLE by_user EXCEPT ALL
    SELECT user_id % 100, count(*), sum(amount) FROM events GROUP BY 1)
    UNION ALL (SELECT user_id % 100, count(*), sum(amount) FROM events GROUP BY 1
    EXCEPT ALL TABLE by_user)) d")
if [[ $diff != 0 ]]; then
    echo "bench: the view differs from its query in $diff rows" >&2
    exit 1
fi
echo
echo "Measured on: $(machine); the view exact afterwards."
