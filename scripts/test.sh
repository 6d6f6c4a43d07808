#!/usr/bin/env bash
# The project's test command: install deps, build, install, then run every
# suite of `make installcheck` (pg_regress, isolation, TAP) as an ordinary
# user in a scratch copy of the tree, and end with "N passed, M failed".
#
# Set LAMBDA_KEEP_SCRATCH=1 to keep the scratch tree (results/, logs) after
# the run; its path is printed.
# shellcheck disable=SC2016  # the single-quoted '$(...)' are make expressions
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash "$REPO_ROOT/scripts/install-deps.sh"
ensure_test_user

SCRATCH=$(mktemp_scratch lambda-test)
LOGS=$(mktemp -d /tmp/lambda-test-logs-XXXXXX)

cleanup() {
    # A suite interrupted mid-run (Ctrl-C) can leave its throwaway server up.
    local pidfile
    while IFS= read -r pidfile; do
        as_test_user pg_ctl stop -D "$(dirname "$pidfile")" -m immediate \
            >/dev/null 2>&1 || true
    done < <(find "$SCRATCH" -name postmaster.pid 2>/dev/null)
    if [[ ${LAMBDA_KEEP_SCRATCH:-0} == 1 ]]; then
        echo "test: scratch tree kept at $SCRATCH"
    else
        rm -rf "$SCRATCH"
    fi
    rm -rf "$LOGS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

copy_source_tree "$SCRATCH"
cd "$SCRATCH"   # the test user can't necessarily read the caller's cwd
echo "test: scratch tree $SCRATCH (running as $(run_user))"

# Ask the Makefile which tests it defines, so that tests that never ran
# (build failure, server that would not start) still count as failed.
make_eval() {
    make -s --no-print-directory -f Makefile -f - PG_CONFIG="$PG_CONFIG" \
        print <<<"print: ; @echo $1"
}
count_words() { { make_eval "$1" || true; } | wc -w; }
REGRESS_TESTS=$(count_words '$(REGRESS)')
ISOLATION_TESTS=$(count_words '$(ISOLATION)')
TAP_FILES=$(count_words '$(if $(TAP_TESTS),$(wildcard $(or $(PROVE_TESTS),t/*.pl)))')
TOTAL=$((REGRESS_TESTS + ISOLATION_TESTS + TAP_FILES))

summary() {  # summary PASSED FAILED [SKIPPED]
    if [[ ${3:-0} -gt 0 ]]; then
        echo "$1 passed, $2 failed, $3 skipped"
    else
        echo "$1 passed, $2 failed"
    fi
}

if ! build_and_install "$SCRATCH" WERROR=1; then
    echo "test: build or install failed"
    summary 0 "$((TOTAL > 0 ? TOTAL : 1))"
    exit 1
fi

# One make invocation per suite (the others blanked out on the command line)
# so that a failing regress suite does not stop isolation and TAP from
# running, as a single `make installcheck` would.
PASSED=0 FAILED=0 SKIPPED=0 STATUS=0
FAILED_SUITES=()

run_suite() {  # run_suite NAME EXPECTED MAKE_VARS...
    local name=$1 expected=$2 log="$LOGS/$1.log" status passed skipped=0
    shift 2
    if [[ $expected -eq 0 ]]; then
        echo "=== $name: no tests defined, skipped ==="
        return 0
    fi
    echo "=== $name ($expected) ==="
    set +e
    as_test_user make installcheck PG_CONFIG="$PG_CONFIG" "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e

    if [[ $name == tap ]]; then
        # prove prints "test/t/001_x.pl .. ok" / ".. skipped: why" per file.
        passed=$(grep -Ec '^[^ ]+\.pl \.+ ok' "$log" || true)
        skipped=$(grep -Ec '^[^ ]+\.pl \.+ skipped' "$log" || true)
    else
        # pg_regress prints "test name ... ok   12 ms" per test.
        passed=$(grep -Ec '\.\.\. ok( |$)' "$log" || true)
    fi

    if [[ $status -eq 0 ]]; then
        # make is the authority: whatever we failed to parse, it passed.
        passed=$((expected - skipped))
    else
        STATUS=1
        FAILED_SUITES+=("$name")
        # Tests that never printed a result (e.g. the server did not start)
        # count as failed too; a failing make always counts at least one.
        local failed=$((expected - passed - skipped))
        ((failed > 0)) || failed=1
        FAILED=$((FAILED + failed))
    fi
    PASSED=$((PASSED + passed))
    SKIPPED=$((SKIPPED + skipped))
}

run_suite regress "$REGRESS_TESTS" ISOLATION= TAP_TESTS=
run_suite isolation "$ISOLATION_TESTS" REGRESS= TAP_TESTS=
run_suite tap "$TAP_FILES" REGRESS= ISOLATION=

# Show what went wrong right in the output: CI keeps nothing else.
show_file() {  # show_file FILE head|tail MAXLINES
    local lines
    lines=$(wc -l <"$1")
    echo "----- $1 ($lines lines) -----"
    if ((lines > $3)); then
        echo "(only the $2 $3 lines)"
        "$2" -n "$3" "$1"
    else
        cat "$1"
    fi
}
show_suite_failure() {  # show_suite_failure OUTPUTDIR
    # pg_regress leaves regression.diffs and the throwaway server's logs in
    # its output dir; initdb.log only matters if the server never started.
    local dir=$1
    if [[ -s $dir/regression.diffs ]]; then
        show_file "$dir/regression.diffs" head 1000
    fi
    if [[ -f $dir/log/postmaster.log ]]; then
        show_file "$dir/log/postmaster.log" tail 150
    elif [[ -f $dir/log/initdb.log ]]; then
        show_file "$dir/log/initdb.log" tail 100
    fi
}
show_tap_failure() {
    # Logs of the TAP files that did not report ok (all of them if none
    # can be told apart), from tmp_check/log: regress_log_NAME, NAME_*.log.
    local f base log ok_files shown=0
    ok_files=$(grep -Eo '^[^ ]+\.pl \.+ (ok|skipped)' "$LOGS/tap.log" \
        | cut -d' ' -f1 || true)
    for f in $(make_eval '$(wildcard $(or $(PROVE_TESTS),t/*.pl))'); do
        if grep -Fxq -- "$f" <<<"$ok_files"; then
            continue
        fi
        base=$(basename "$f" .pl)
        for log in "tmp_check/log/regress_log_$base" tmp_check/log/"$base"_*.log; do
            if [[ -f $log ]]; then show_file "$log" tail 300; shown=1; fi
        done
    done
    if [[ $shown -eq 0 ]]; then
        for log in tmp_check/log/*; do
            if [[ -f $log ]]; then show_file "$log" tail 300; fi
        done
    fi
}

if [[ $STATUS -ne 0 ]]; then
    echo "=== failure details ==="
    for suite in "${FAILED_SUITES[@]}"; do
        case $suite in
            regress) show_suite_failure . ;;
            isolation) show_suite_failure output_iso ;;
            tap) show_tap_failure ;;
        esac
    done
    echo "test: failed suites: ${FAILED_SUITES[*]}"
    summary "$PASSED" "$FAILED" "$SKIPPED"
    exit 1
fi

summary "$PASSED" 0 "$SKIPPED"
