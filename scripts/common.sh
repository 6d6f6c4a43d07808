# shellcheck shell=bash
# Shared helpers for scripts/test.sh and scripts/demo.sh. Source it, don't run it.
#
# PostgreSQL refuses to run as root, so when we are root the tests and the
# demo server run as an ordinary system user ($TEST_USER) in a scratch copy of
# the source tree that this user owns. When we are not root we run as
# ourselves and use sudo only for `make install`.

PG_BIN=/usr/lib/postgresql/15/bin
PG_CONFIG=$PG_BIN/pg_config
TEST_USER=lambdatest
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Connection settings inherited from the caller would point our clients at
# some other server; the scripts always say explicitly where to connect.
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE PGOPTIONS PGDATA

is_root() { [[ $(id -u) -eq 0 ]]; }

# Run a command as root: directly if we are root, else through sudo.
as_root() {
    if is_root; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "common: need root or sudo to run: $*" >&2
        return 1
    fi
}

# The user that runs builds, servers and tests.
run_user() {
    if is_root; then echo "$TEST_USER"; else id -un; fi
}

# Create the ordinary test user (when root) if it does not exist yet.
ensure_test_user() {
    is_root || return 0
    if ! id -u "$TEST_USER" >/dev/null 2>&1; then
        echo "common: creating system user $TEST_USER"
        useradd --system --create-home --home-dir "/home/$TEST_USER" \
            --shell /bin/bash "$TEST_USER"
    fi
}

# Run a command as the test user, with the PostgreSQL binaries first in PATH
# (TAP tests call initdb/pg_ctl from PATH) and a fixed locale so output
# (sorting, messages) is the same on every machine.
as_test_user() {
    local home
    if is_root; then
        home=$(getent passwd "$TEST_USER" | cut -d: -f6)
        runuser -u "$TEST_USER" -- env HOME="$home" USER="$TEST_USER" \
            LOGNAME="$TEST_USER" PATH="$PG_BIN:$PATH" LC_ALL=C.UTF-8 "$@"
    else
        env PATH="$PG_BIN:$PATH" LC_ALL=C.UTF-8 "$@"
    fi
}

# Make a fresh scratch dir owned by the run user: mktemp_scratch PREFIX
mktemp_scratch() {
    local dir
    dir=$(mktemp -d "/tmp/$1-XXXXXX")
    if is_root; then chown "$TEST_USER:" "$dir"; fi
    echo "$dir"
}

# Copy the source tree into DEST (an existing dir), leaving out git metadata
# and anything a previous build or test run produced, and hand it to the run
# user. We never build inside the work tree, so it stays clean.
copy_source_tree() {
    local dest=$1
    tar -C "$REPO_ROOT" -cf - \
        --exclude=./.git \
        --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
        --exclude=./tmp_check --exclude=./tmp_check_regress \
        --exclude=./tmp_check_isolation \
        --exclude=./results --exclude=./output_iso --exclude=./log \
        --exclude=./regression.diffs --exclude=./regression.out \
        . | tar -C "$dest" -xf -
    if is_root; then chown -R "$TEST_USER:" "$dest"; fi
}

# Build (as the run user, warnings are errors per the Makefile) and install
# (as root) the extension from source dir SRC. Explicit returns because
# set -e is off when the caller tests our status (if ! build_and_install).
build_and_install() {
    local src=$1
    shift
    echo "=== build ==="
    as_test_user make -C "$src" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" "$@" || return 1
    echo "=== install ==="
    as_root make -C "$src" install PG_CONFIG="$PG_CONFIG" || return 1
}

# The servers listen only on a unix socket in their scratch dir, so the port
# number just names the socket; still pick one nothing listens on over TCP.
free_port() {
    local port
    for _ in $(seq 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "common: no free port found" >&2
    return 1
}

# Create and start a throwaway cluster in DIR/data with pg_cron and lambda
# preloaded and pg_cron serving database DB (created); sets PORT.  Extra
# postgresql.conf lines can be passed in CLUSTER_CONF.
start_cluster() {
    local dir=$1 db=$2
    PORT=$(free_port) || return 1
    as_test_user initdb -D "$dir/data" -U postgres --auth=trust --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; return 1; }
    as_test_user tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
# throwaway lambda cluster
listen_addresses = ''
unix_socket_directories = '$dir'
port = $PORT
shared_preload_libraries = 'pg_cron,lambda'
cron.database_name = '$db'
cron.use_background_workers = on
max_worker_processes = 32
max_prepared_transactions = 10
${CLUSTER_CONF:-}
CONF
    if ! as_test_user pg_ctl -D "$dir/data" -l "$dir/server.log" -w start >/dev/null; then
        cat "$dir/server.log"
        return 1
    fi
    as_test_user createdb -h "$dir" -p "$PORT" -U postgres "$db"
}
