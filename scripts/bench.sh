#!/usr/bin/env bash
# make bench: throughput of the release binary on SQLite and PostgreSQL,
# measured with wrk (Debian package) from this machine, loopback only.
#
# Per backend: a fresh database; one issuer and one achievement; then
#   - signed issuance: POST /credentials (each one signed, eddsa-rdfc-2022)
#     under load, and one POST /credentials/batch of 10,000 signed awards;
#   - public GET of a signed credential (32 connections);
#   - GET /credentials/{id}/verify (8 connections);
#   - a list page deep in the set (offset 9,000, with an API key);
# and the server's peak resident memory (VmHWM).
#
# Environment: BENCH_SECONDS (default 10) per load run, TEST_DATABASE_URL
# for PostgreSQL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${BENCH_SECONDS:-10}
server_url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
key="bench-key-0123456789abcdef"
kek="0011223344556677889900aabbccddeeff00112233445566778899aabbccddee"
work=$(mktemp -d)
server_pid=""

cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
    sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y --no-install-recommends wrk >/dev/null
fi
cargo build --release -q -p openbadges-server
binary=${CARGO_TARGET_DIR:-target}/release/openbadges-server

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $((20000 + RANDOM % 20000))
}

# json_field FILE FIELD: the string value of a top-level field.
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# load NAME CONNECTIONS URL [wrk args...]: one wrk run, summarised.
load() {
    local name=$1 connections=$2 url=$3
    shift 3
    wrk -t 2 -c "$connections" -d "${seconds}s" --latency "$@" "$url" > "$work/wrk.txt" 2>&1
    local rps p50 p99 non2xx
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
    non2xx=$(awk '/Non-2xx/ {print $5}' "$work/wrk.txt")
    printf '  %-34s %10s req/s   p50 %-9s p99 %-9s c=%-3s %s\n' \
        "$name" "$rps" "$p50" "$p99" "$connections" "${non2xx:+non-2xx: $non2xx}"
}

bench_backend() {
    local backend=$1
    local port db_env=()
    port=$(free_port)
    if [ "$backend" = postgresql ]; then
        local db="ob_bench_$$"
        psql "$server_url" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db" >/dev/null
        db_env=(DB_TYPE=postgresql "DATABASE_URL=${server_url%/*}/$db")
    else
        db_env=(DB_TYPE=sqlite "SQLITE_FILE=$work/bench.sqlite")
    fi
    env "${db_env[@]}" PORT="$port" BASE_URL="http://127.0.0.1:$port" LOG_LEVEL=warn \
        RATE_LIMIT_PER_MINUTE=0 KEY_ENCRYPTION_KEY="$kek" JWT_SECRET="bench-jwt-secret-0123456789abcdef" \
        "AUTH_API_KEY_BENCH=$key:admin:bench" "$binary" > "$work/server-$backend.log" 2>&1 &
    server_pid=$!
    local base="http://127.0.0.1:$port"
    for _ in $(seq 100); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done

    curl -sf -X POST "$base/issuers" -H "X-API-Key: $key" \
        -d '{"name":"Bench University","url":"https://bench.example.org","email":"b@bench.example.org"}' > "$work/issuer.json"
    local issuer; issuer=$(json_field "$work/issuer.json" id); issuer=${issuer##*/}
    curl -sf -X POST "$base/achievements" -H "X-API-Key: $key" \
        -d "{\"issuer\":\"$issuer\",\"name\":\"Bench badge\",\"description\":\"Measured.\",\"image\":\"https://bench.example.org/b.png\",\"criteria\":{\"narrative\":\"Be fast.\"}}" > "$work/badge.json"
    local badge; badge=$(json_field "$work/badge.json" id); badge=${badge##*/}

    echo "$backend:"
    # A batch of 10,000 signed credentials in one request (one transaction).
    {
        printf '{"credentials":['
        for i in $(seq 10000); do
            [ "$i" -gt 1 ] && printf ','
            printf '{"badge":"%s","recipient":{"identity":"learner%d@example.org"}}' "$badge" "$i"
        done
        printf ']}'
    } > "$work/batch.json"
    local start end
    start=$(date +%s.%N)
    curl -sf -X POST "$base/credentials/batch" -H "X-API-Key: $key" --data-binary @"$work/batch.json" -o /dev/null
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "  %-34s %10.0f credentials/s (10,000 in %.2f s)\n", "batch of 10,000 signed", 10000/(e-s), e-s }'

    cat > "$work/issue.lua" <<LUA
wrk.method = "POST"
wrk.headers["X-API-Key"] = "$key"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"badge":"$badge","recipient":{"identity":"wrk@example.org"}}'
LUA
    load "signed issuance (POST /credentials)" 8 "$base/credentials" -s "$work/issue.lua"

    curl -sf -X POST "$base/credentials" -H "X-API-Key: $key" \
        -d "{\"badge\":\"$badge\",\"recipient\":{\"identity\":\"get@example.org\"}}" > "$work/credential.json"
    local credential; credential=$(json_field "$work/credential.json" id); credential=${credential##*/}
    load "public GET /v3/credentials/{id}" 32 "$base/v3/credentials/$credential"
    load "GET /credentials/{id}/verify" 8 "$base/credentials/$credential/verify"
    load "list page (offset 9000, limit 50)" 8 "$base/credentials?limit=50&offset=9000" -H "X-API-Key: $key"

    local rss; rss=$(awk '/VmHWM/ {print $2, $3}' "/proc/$server_pid/status")
    printf '  %-34s %s\n' "server peak RSS (VmHWM)" "$rss"
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    if [ "$backend" = postgresql ]; then
        psql "$server_url" -qc "DROP DATABASE IF EXISTS ob_bench_$$ WITH (FORCE)" >/dev/null
    fi
}

echo "openbadges-server bench: $(nproc) cores, wrk on the same machine, ${seconds}s per run"
bench_backend sqlite
bench_backend postgresql
