#!/usr/bin/env bash
# The project's demo: build and install lambda, start a throwaway PostgreSQL
# server, define a real-time aggregate view over an append-only table, stream
# events into it for a while and show that the merged view stays exact.
# Everything (server, data, socket) lives in one temp dir that is removed at
# the end, also on Ctrl-C or error.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

STREAM_SECONDS=30   # how long events are streamed in
STATUS_EVERY=5      # seconds between status displays while streaming

say() { echo; echo "demo: $*"; }

bash "$REPO_ROOT/scripts/install-deps.sh"
ensure_test_user

DEMO=$(mktemp_scratch lambda-demo)
STREAM_PID=
cleanup() {
    if [[ -n $STREAM_PID ]]; then kill "$STREAM_PID" 2>/dev/null || true; fi
    if [[ -f $DEMO/data/postmaster.pid ]]; then
        echo "demo: stopping the server"
        as_test_user pg_ctl -D "$DEMO/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DEMO"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$DEMO/src"
copy_source_tree "$DEMO/src"
cd "$DEMO"   # the server user can't necessarily read the caller's cwd
say "building and installing lambda (output in $DEMO/build.log, shown if it fails)"
if ! build_and_install "$DEMO/src" >"$DEMO/build.log" 2>&1; then
    cat "$DEMO/build.log"
    echo "demo: FAILED: build or install"
    exit 1
fi

say "creating a throwaway cluster in $DEMO/data (server runs as $(run_user))"
start_cluster "$DEMO" demo >"$DEMO/start.log" 2>&1 || { cat "$DEMO/start.log"; exit 1; }
say "server started (socket $DEMO/.s.PGSQL.$PORT)"

# psql as the cluster's superuser over the socket; stop at the first error.
sql() {
    as_test_user psql -X -q -v ON_ERROR_STOP=1 -h "$DEMO" -p "$PORT" \
        -U postgres -d demo "$@"
}

VIEW_QUERY=$(cat <<'SQL'
    SELECT country, date_trunc('hour', ts, 'UTC') AS hour,
           count(*) AS orders, sum(amount) AS revenue, avg(amount) AS avg_amount,
           min(amount) AS smallest, max(amount) AS largest
    FROM events WHERE amount > 0
    GROUP BY country, date_trunc('hour', ts, 'UTC')
SQL
)

# Unique users (HyperLogLog, postgresql-15-hll) and the 95th percentile of
# amounts (t-digest, postgresql-15-tdigest): aggregates whose partial states
# merge by their own combine functions.
AUDIENCE_QUERY=$(cat <<'SQL'
    SELECT country, count(*) AS orders,
           hll_cardinality(hll_add_agg(hll_hash_bigint(user_id)))::bigint AS unique_users,
           round(tdigest_percentile(amount::float8, 100, 0.95)::numeric, 2) AS p95_amount
    FROM events GROUP BY country HAVING count(*) > 0
SQL
)

say "installing pg_cron (schedules the batch layer), hll, tdigest and lambda"
sql -a <<'SQL'
CREATE EXTENSION pg_cron;
CREATE EXTENSION hll;
CREATE EXTENSION tdigest;
CREATE EXTENSION lambda;
SQL

say "creating the append-only master table and registering it with lambda"
sql -a <<'SQL'
CREATE TABLE events (ts timestamptz NOT NULL, user_id bigint, country text, amount numeric);
SELECT lambda.create_master('events');
SQL

say "defining the real-time aggregate view, batch-recomputed every minute"
sql -a <<SQL
SELECT lambda.create_view('revenue_by_country', \$\$
${VIEW_QUERY} \$\$,
    schedule => '* * * * *');
SQL

say "defining unique users (hll) and the 95th percentile of amounts (tdigest) per country"
sql -a <<SQL
SELECT lambda.create_view('audience_by_country', \$\$
${AUDIENCE_QUERY} \$\$);
SQL

cat <<'TEXT'

What the status tables below show:
  the view, summed per country: orders and revenue, exact at every moment
  batch_version   how many batches have been published (1 by create_view)
  batch_finished  when the newest batch was published
  batch_groups    groups in the batch table (the last batch's result)
  speed_groups    groups the speed layer holds on top of that batch: rows
                  committed since its snapshot; grows as events stream in,
                  drops when a batch publishes
  speed_pending   committed transactions not yet settled by the worker
  speed_state     ready: queries read batch table + speed layer (fast path)
  fast_path       whether this very query was answered by the fast path
TEXT

show_status() {
    sql <<'SQL'
SELECT r.country, sum(r.orders) AS orders, round(sum(r.revenue),2) AS revenue,
       min(a.unique_users) AS unique_users, min(a.p95_amount) AS p95_amount
FROM revenue_by_country r JOIN audience_by_country a USING (country)
GROUP BY r.country ORDER BY r.country;
SELECT view, batch_version, to_char(last_batch_finished, 'HH24:MI:SS') AS batch_finished,
       batch_groups, speed_groups, speed_pending, speed_state,
       lambda.fast_path(view) AS fast_path
FROM lambda.views ORDER BY view::text DESC;
SQL
}

# The live event stream: 200 random events every half second, in the
# background, for a bounded time.
stream_events() {
    local end=$((SECONDS + STREAM_SECONDS))
    while ((SECONDS < end)); do
        sql -c "INSERT INTO events
            SELECT now() - random()*interval '3 hours', (random()*1000)::bigint,
                   (ARRAY['DE','FR','US','JP','BR'])[1+floor(random()*5)::int],
                   round((random()*200-10)::numeric, 2)
            FROM generate_series(1,200);"
        sleep 0.5
    done
}
say "streaming events for ${STREAM_SECONDS}s (200 every 0.5s) in the background"
stream_events &
STREAM_PID=$!

elapsed=0
batch_done=0
while kill -0 "$STREAM_PID" 2>/dev/null; do
    sleep "$STATUS_EVERY"
    elapsed=$((elapsed + STATUS_EVERY))
    say "t+${elapsed}s: the view while events stream in"
    show_status
    # Half way through, run the batch layer by hand instead of waiting for
    # pg_cron: the speed layer's backlog moves into the batch table.
    if ((batch_done == 0 && elapsed * 2 >= STREAM_SECONDS)); then
        say "running the batch layer by hand: speed_groups drops, batch_groups grows"
        sql -a -c "SELECT lambda.run_batch('revenue_by_country') AS groups_in_batch;"
        show_status
        batch_done=1
    fi
done
wait "$STREAM_PID"   # fails the demo if the stream hit an error
STREAM_PID=

say "stream stopped; final state"
sql -c "SELECT count(*) AS events FROM events;"
show_status

# pg_cron runs the view's batch every minute, on the minute: wait for it
# (at most 75 seconds) and show the speed layer emptied by it.
say "waiting for pg_cron to run the batch on the next minute (at most 75s)"
version=$(sql -At -c "SELECT batch_version FROM lambda.views WHERE view = 'revenue_by_country'::regclass")
waited=0
while (( waited < 75 )); do
    now=$(sql -At -c "SELECT batch_version FROM lambda.views WHERE view = 'revenue_by_country'::regclass")
    if (( now > version )); then break; fi
    sleep 1
    waited=$((waited + 1))
done
if (( now > version )); then
    say "pg_cron published batch $now after ${waited}s:"
    sql -c "SELECT status, return_message, to_char(end_time, 'HH24:MI:SS') AS finished
            FROM cron.job_run_details ORDER BY runid DESC LIMIT 1;"
    show_status
else
    echo "demo: FAILED: pg_cron did not run the batch within 75s"
    exit 1
fi

say "exactness check: lambda.verify lists the rows by which the view and its query differ"
sql -c "SELECT * FROM lambda.verify('revenue_by_country');"
say "and the same by hand: rows in the view but not in the query, plus the reverse"
mismatches=$(sql -At <<SQL
SELECT (SELECT count(*) FROM ((TABLE revenue_by_country) EXCEPT ALL (${VIEW_QUERY})) a)
     + (SELECT count(*) FROM ((${VIEW_QUERY}) EXCEPT ALL (TABLE revenue_by_country)) b);
SQL
)
echo "mismatching rows: $mismatches"
if [[ $mismatches != 0 ]]; then
    echo "demo: FAILED: the merged view differs from the query on the master"
    exit 1
fi
echo "demo: merged view equals the query on the master"
say "unique users per country, from HyperLogLogs merged across the layers, against the query"
mismatches=$(sql -At <<SQL
SELECT count(*) FROM audience_by_country a FULL JOIN (${AUDIENCE_QUERY}) q USING (country)
 WHERE a.unique_users IS DISTINCT FROM q.unique_users OR a.orders IS DISTINCT FROM q.orders;
SQL
)
echo "mismatching countries: $mismatches"
if [[ $mismatches != 0 ]]; then
    echo "demo: FAILED: unique users differ from the query on the master"
    exit 1
fi
echo "demo: HyperLogLog union is lossless: unique users equal the query's"
