# shellcheck shell=bash
# Shared set-up of the benchmarks: source it after scripts/common.sh.
#
# bench_cluster CONF: install what is needed, build and install lambda from
# a scratch copy of the tree, and start a throwaway cluster in $DIR with the
# extra postgresql.conf lines CONF and a database "bench"; it is stopped and
# removed when the script exits.  sql runs psql there, unaligned.
# ratio A B prints A / B with two decimals.

bench_cluster() {
    bash "$REPO_ROOT/scripts/install-deps.sh"
    ensure_test_user
    DIR=$(mktemp_scratch lambda-bench)
    trap bench_cleanup EXIT
    mkdir "$DIR/src"
    copy_source_tree "$DIR/src"
    cd "$DIR"
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
