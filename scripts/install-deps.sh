#!/usr/bin/env bash
# Install everything needed to build, test and demo the lambda extension on
# Debian 12. Idempotent: when every package is already installed it does not
# touch apt at all, so repeat runs take well under a second.
set -euo pipefail

# build-essential: gcc + make for PGXS.
# postgresql-15 / postgresql-server-dev-15: the server and the PGXS headers.
#   (server-dev pulls clang/llvm, which PGXS uses to emit JIT bitcode.)
# postgresql-client-15: psql and pgbench (demo).
# postgresql-15-cron: lambda schedules its batch layer through pg_cron.
# postgresql-15-hll, postgresql-15-tdigest: optional mergeable aggregates
#   (unique counts, percentiles) that the tests and the demo use.
# libipc-run-perl, libio-pty-perl: PostgreSQL::Test::Cluster (TAP tests).
# util-linux (runuser) and passwd (useradd): run the tests as an ordinary
#   user, because PostgreSQL refuses to run as root.
# gnuplot-nox: benchmark plots.
PACKAGES=(
    build-essential
    postgresql-15
    postgresql-server-dev-15
    postgresql-client-15
    postgresql-15-cron
    postgresql-15-hll
    postgresql-15-tdigest
    libipc-run-perl
    libio-pty-perl
    util-linux
    passwd
    gnuplot-nox
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all ${#PACKAGES[@]} packages already installed"
    exit 0
fi

# apt needs root: use it directly when we are root, sudo otherwise.
if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
"${SUDO[@]}" apt-get update -q
# noninteractive: CI has no stdin; no recommends: keeps the install small
# (what we need from Recommends is listed explicitly above).
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"

# Debian's postgresql package may have created and started a "main" cluster
# on port 5432. Nothing here uses it: tests and the demo start their own
# throwaway servers.
echo "install-deps: done"
