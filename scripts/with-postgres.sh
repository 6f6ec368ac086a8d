#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh CMD [ARG...]
#
# Runs CMD with TEST_DATABASE_URL pointing at a PostgreSQL server on which the
# tests may create databases.
#
# - If the server at TEST_DATABASE_URL (default
#   postgres://postgres@127.0.0.1:5432/postgres) answers, CMD uses it.
# - Otherwise a throwaway cluster is started under target/pg-test/ (trust
#   auth, superuser `postgres`, 127.0.0.1 on a free port from 55432 up), CMD
#   runs against it, and the cluster is stopped and removed when CMD ends.
#
# Exits with CMD's exit status. Needs the PostgreSQL server binaries
# (Debian package `postgresql`, found under /usr/lib/postgresql/*/bin) only in
# the second case; `make deps` installs them.
set -euo pipefail

log() { printf 'with-postgres: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$#" -gt 0 ] || die "usage: $0 CMD [ARG...]"

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
default_url=postgres://postgres@127.0.0.1:5432/postgres
url=${TEST_DATABASE_URL:-$default_url}

# Hide a password before printing a URL.
redact() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

# True when a server answers at URL and lets us in.
answers() {
    local target=$1
    if command -v psql >/dev/null 2>&1; then
        PGCONNECT_TIMEOUT=5 psql -X -q -A -t -d "$target" -c 'select 1' \
            </dev/null >/dev/null 2>&1
    elif command -v pg_isready >/dev/null 2>&1; then
        PGCONNECT_TIMEOUT=5 pg_isready -q -d "$target" </dev/null
    else
        return 1
    fi
}

if answers "$url"; then
    log "using the PostgreSQL server at $(redact "$url")"
    export TEST_DATABASE_URL=$url
    exec "$@"
fi

# --- No server answers: start a throwaway cluster of our own. ---------------

pg_bin=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' \
    2>/dev/null | sort -V | tail -n 1 | xargs -r dirname)
[ -n "$pg_bin" ] && [ -x "$pg_bin/pg_ctl" ] ||
    die "no PostgreSQL at $(redact "$url") and no server binaries under /usr/lib/postgresql/*/bin (run: make deps)"

# initdb refuses to run as root: as root, the cluster belongs to the
# `postgres` system user (created by Debian's postgresql package).
as_owner() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 ||
        die "running as root but there is no 'postgres' system user to own the test cluster"
    if command -v runuser >/dev/null 2>&1; then
        as_owner() { runuser -u postgres -- "$@"; }
    else
        as_owner() { su -s /bin/bash postgres -c "$(printf '%q ' "$@")"; }
    fi
fi

# Each run gets its own directory, so concurrent runs (a shared target dir)
# never share a cluster. The directory must be reachable by the owner; when
# the checkout is somewhere `postgres` cannot enter (e.g. under /root), fall
# back to the system temporary directory.
base="${CARGO_TARGET_DIR:-$repo_root/target}/pg-test"
mkdir -p "$base"
run_dir=$(mktemp -d "$base/run.XXXXXX")
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$run_dir"
    if ! as_owner test -w "$run_dir"; then
        rm -rf "$run_dir"
        run_dir=$(mktemp -d "${TMPDIR:-/tmp}/openbadges-pg-test.XXXXXX")
        chown postgres: "$run_dir"
    fi
fi
data_dir=$run_dir/data
log_file=$run_dir/postgres.log

cleanup() {
    local status=$?
    if [ -f "$data_dir/postmaster.pid" ]; then
        as_owner "$pg_bin/pg_ctl" -D "$data_dir" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$run_dir"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_owner "$pg_bin/initdb" -D "$data_dir" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$run_dir/initdb.log" 2>&1 || {
    cat "$run_dir/initdb.log" >&2
    die "initdb failed"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Pick a free port; another process may take it between the check and the
# start, so a failed start moves on to the next port.
port=${PG_TEST_PORT:-55432}
started=
for _ in $(seq 1 20); do
    if port_in_use "$port"; then
        port=$((port + 1))
        continue
    fi
    # No Unix socket: its path length is limited and TCP is all the tests use.
    # fsync off: the cluster is thrown away, durability buys nothing.
    if as_owner "$pg_bin/pg_ctl" -D "$data_dir" -l "$log_file" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null 2>&1; then
        started=1
        break
    fi
    port=$((port + 1))
done
if [ -z "$started" ]; then
    tail -n 20 "$log_file" >&2 2>/dev/null || true
    die "could not start a throwaway PostgreSQL cluster (log above)"
fi

export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
log "no PostgreSQL answers at $(redact "$url"); using a throwaway cluster at $TEST_DATABASE_URL ($data_dir)"

status=0
"$@" || status=$?
exit "$status"
