# shellcheck shell=bash
# Shared set-up of the benchmarks: source it after scripts/common.sh.
#
# bench_cluster CONF: install what is needed, build and install lambda from
# a scratch copy of the tree, and start a throwaway cluster in $DIR with the
# extra postgresql.conf lines CONF and a database "bench"; it is stopped and
# removed when the script exits.  sql runs psql there, unaligned.
# ratio A B prints A / B with two decimals.  The rest are measuring helpers:
# ms_of (time of a statement), pgb (pgbench), latency, pct and lat_summary
# (latency percentiles from pgbench's per-transaction log), min, max, met
# (is a target met).

bench_cluster() {
    bash "$REPO_ROOT/scripts/install-deps.sh"
    ensure_test_user
    DIR=$(mktemp_scratch lambda-bench)
    trap bench_cleanup EXIT
    mkdir "$DIR/src"
    copy_source_tree "$DIR/src"
    cd "$DIR" || return 1
    build_and_install "$DIR/src" >/dev/null
    CLUSTER_CONF="$1" start_cluster "$DIR" bench
}

bench_cleanup() {
    if [[ -f $DIR/data/postmaster.pid ]]; then
        as_test_user pg_ctl -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
}

sql() {
    as_test_user psql -X -q -At -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres -d bench "$@"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# The machine and server a report was measured on
machine() {
    echo "$(nproc) cores, $(free -g | awk '/^Mem/ { print $2 }') GiB, PostgreSQL $(sql -c "SHOW server_version")"
}

say() { echo "bench: $*"; }

# Milliseconds one statement takes, each through its own psql (the few ms
# of connection set-up are on both sides of every comparison).
ms_of() {
    local t0 t1
    t0=$(date +%s%N)
    sql -c "$1" >/dev/null
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

# Smallest and largest of the arguments
min() { printf '%s\n' "$@" | sort -g | head -1; }
max() { printf '%s\n' "$@" | sort -g | tail -1; }

# The end of the server's log, for the report of a failed run
server_log() {
    echo "bench: the end of the server log (checkpoints left out):" >&2
    grep -v checkpoint "$DIR/server.log" | tail -n 20 >&2
}

# pgb CLIENTS ARGS...: pgbench against the bench database, one thread per
# core at most
pgb() {
    local clients=$1 threads
    shift
    threads=$((clients < $(nproc) ? clients : $(nproc)))
    as_test_user pgbench -n -h "$DIR" -p "$PORT" -U postgres -c "$clients" -j "$threads" \
        "$@" bench
}

# pgb_script NAME LINE...: write a pgbench script $DIR/NAME.sql
pgb_script() {
    local name=$1
    shift
    printf '%s\n' "$@" | as_test_user tee "$DIR/$name.sql" >/dev/null
}

# latency NAME SCRIPT PGBENCH-ARGS...: run SCRIPT on one client with
# prepared statements, logging every transaction; leave the latencies (ms,
# sorted) in $DIR/NAME.lat for pct.
latency() {
    local name=$1
    pgb_script "$name" "$2"
    shift 2
    pgb 1 -M prepared -l --log-prefix="$DIR/$name.log" -f "$DIR/$name.sql" "$@" \
        >"$DIR/$name.out" 2>&1 || { cat "$DIR/$name.out" >&2; server_log; return 1; }
    cat "$DIR/$name.log".* | awk '{ printf "%.3f\n", $3 / 1000 }' | sort -g >"$DIR/$name.lat"
}

# pct NAME P: the P-th percentile (nearest rank) of the latencies of NAME
pct() {
    awk -v p="$2" '{ v[NR] = $1 }
        END { i = int(p * NR / 100); if (i < p * NR / 100) i++; if (i < 1) i = 1; print v[i] }' \
        "$DIR/$1.lat"
}

# lat_summary NAME: count, percentiles and maximum of the latencies of NAME
lat_summary() {
    echo "$1: n=$(wc -l <"$DIR/$1.lat") p50=$(pct "$1" 50) p90=$(pct "$1" 90)" \
        "p99=$(pct "$1" 99) p99.9=$(pct "$1" 99.9) max=$(tail -n 1 "$DIR/$1.lat") ms"
}

# met VALUE OP TARGET: yes or no
met() {
    awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
        ok = (op == "<=") ? v <= t : (op == ">=") ? v >= t : (op == "<") ? v < t : v == t
        print ok ? "yes" : "no" }'
}
