#!/usr/bin/env bash
# make bench: throughput of the release binary on SQLite and PostgreSQL,
# measured with wrk (Debian package) from this machine, loopback only.
#
# Per backend, on a fresh database:
#   1. the fixed dataset: 1 issuer, 10 achievements and BENCH_CREDENTIALS
#      (default 100,000) signed credentials, loaded as batches of 10,000
#      through POST /credentials/batch (the first batch is the timed
#      "batch of 10,000 signed");
#   2. a restart on the loaded database: milliseconds until /health/ready
#      answers 200 (migrations current);
#   3. under load: public GET of a signed credential (32 connections; the
#      same one, as the references measure, then 20,000 at random, then
#      its HTML page),
#      GET /credentials/{id}/verify (8; the same one, then up to 100,000
#      at random), signed issuance POST /credentials
#      (8), then GETs of 5,000 credentials at random (24) while 4 other
#      connections issue, and list pages at offset 1,000, at an offset
#      deep in the set and by cursor deep in the set (8, with an API key);
#      each run also prints the server's CPU time per request and the CPU
#      time the hypervisor stole;
#   4. the server's peak resident memory (VmHWM) while serving, then one
#      more 10,000 batch and the peak with it;
#   5. the references the read targets are stated against, measured in the
#      same run: our own GET /health (HTTP plus a database ping) at the
#      same concurrency, and on PostgreSQL `pgbench -M prepared` running the
#      query each public GET runs, at the same concurrency; every public GET
#      is printed with its ratio to them;
#   6. storage: the database's own size per signed credential
#      (pg_database_size; SQLite's pages in use, page_count - freelist_count,
#      after a checkpoint), each table's, index's and TOAST table's share
#      (pg_relation_size; SQLite's dbstat), and the average stored size of
#      each column of assertions (pg_column_size; SQLite's length).
#
# Environment: BENCH_SECONDS (default 10) per load run, BENCH_BACKENDS
# (default "sqlite postgresql"), BENCH_CREDENTIALS
# (a multiple of 10,000), BENCH_STORAGE_ONLY (set: only step 1 and the
# storage figures, for large BENCH_CREDENTIALS), BENCH_RUNS (default
# "reads verify issue lists": which load runs of step 3 to make; "issue"
# alone measures signed issuance, with steps 1, 2, 4 and 6 as always),
# BENCH_BINARY (a server binary to measure instead of building this
# tree's: for comparing two builds back to back), TEST_DATABASE_URL for
# PostgreSQL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${BENCH_SECONDS:-10}
credentials=${BENCH_CREDENTIALS:-100000}
if [ $((credentials % 10000)) -ne 0 ] || [ "$credentials" -lt 10000 ]; then
    echo "BENCH_CREDENTIALS must be a positive multiple of 10000" >&2
    exit 2
fi
server_url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
runs=" ${BENCH_RUNS:-reads verify issue lists} "
for run in $runs; do
    case $run in
        reads | verify | issue | lists) ;;
        *) echo "BENCH_RUNS: unknown run '$run' (reads, verify, issue, lists)" >&2; exit 2 ;;
    esac
done
# wanted RUN: whether BENCH_RUNS asks for RUN.
wanted() { [[ $runs == *" $1 "* ]]; }
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
if [ -n "${BENCH_BINARY:-}" ]; then
    binary=$BENCH_BINARY
else
    cargo build --release -q -p openbadges-server
    binary=${CARGO_TARGET_DIR:-target}/release/openbadges-server
fi

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
    # Warm-up, not measured: the pool opens its connections lazily.
    wrk -t 2 -c "$connections" -d 2s "$@" "$url" > /dev/null 2>&1
    local cpu_before cpu_after steal_before steal_after
    cpu_before=$(cpu_ticks)
    steal_before=$(steal_ticks)
    wrk -t 2 -c "$connections" -d "${seconds}s" --latency "$@" "$url" > "$work/wrk.txt" 2>&1
    cpu_after=$(cpu_ticks)
    steal_after=$(steal_ticks)
    local rps p50 p99 non2xx requests cpu
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
    last_rps=$rps
    p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
    non2xx=$(awk '/Non-2xx/ {print $5}' "$work/wrk.txt")
    requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
    # The server's own CPU time per request: steadier than req/s when
    # other work shares the machine.
    cpu=$(awk -v t=$((cpu_after - cpu_before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
        'BEGIN { if (n > 0) printf "%.0f", t / hz * 1e6 / n }')
    # Time the hypervisor ran something else on this machine's CPUs
    # (summed over them): a pause of both for 100 ms stalls every request
    # in flight, and a p99 above 10 ms in this bench comes with it.
    local steal
    steal=$(( (steal_after - steal_before) * 1000 / $(getconf CLK_TCK) ))
    printf '  %-34s %10s req/s   p50 %-9s p99 %-9s c=%-3s cpu %5s us/req  peak RSS %-8s steal %4s ms %s\n' \
        "$name" "$rps" "$p50" "$p99" "$connections" "$cpu" "$(rss)" "$steal" "${non2xx:+non-2xx: $non2xx}"
}

# steal_ticks: CPU time stolen from this machine by the hypervisor so far,
# in clock ticks (/proc/stat).
steal_ticks() { awk '$1 == "cpu" {print $9}' /proc/stat; }

# cpu_ticks: user and system CPU time of the server so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }

# start_server BACKEND PORT: starts the server in the background.
start_server() {
    local backend=$1 port=$2
    env "${db_env[@]}" PORT="$port" BASE_URL="http://127.0.0.1:$port" LOG_LEVEL=warn \
        RATE_LIMIT_PER_MINUTE=0 KEY_ENCRYPTION_KEY="$kek" JWT_SECRET="bench-jwt-secret-0123456789abcdef" \
        "AUTH_API_KEY_BENCH=$key:admin:bench" "$binary" >> "$work/server-$backend.log" 2>&1 &
    server_pid=$!
}

stop_server() {
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

# batch FILE BADGE FROM: writes a batch body of 10,000 awards of BADGE.
batch_body() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
path, badge, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
awards = [{"badge": badge, "recipient": {"identity": f"learner{start + i}@example.org"}}
          for i in range(10000)]
json.dump({"credentials": awards}, open(path, "w"))
PY
}

# post_batch BASE FILE: POSTs a batch; prints the seconds it took.
post_batch() {
    local start end
    start=$(date +%s.%N)
    local code
    code=$(curl -s -X POST "$1/credentials/batch" -H "X-API-Key: $key" --data-binary @"$2" \
        -o "$work/batch-answer.json" -w '%{http_code}')
    if [ "${code:0:1}" != 2 ]; then
        echo "bench: POST /credentials/batch answered $code: $(head -c 600 "$work/batch-answer.json")" >&2
        return 1
    fi
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }'
}

# deep_cursor BASE DEPTH: the URL of the cursor page that starts after
# about DEPTH credentials, found by following rel="next" links.
deep_cursor() {
    python3 - "$1" "$2" "$key" <<'PY'
import re, sys, urllib.request
base, depth, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
url, seen = f"{base}/credentials?cursor=&limit=100", 0
while seen < depth:
    request = urllib.request.Request(url, headers={"X-API-Key": key})
    with urllib.request.urlopen(request) as response:
        link = response.headers.get("Link", "")
    nxt = re.search(r'<([^>]+)>;\s*rel="next"', link)
    if not nxt:
        break
    url, seen = nxt.group(1), seen + 100
print(re.sub(r"limit=100", "limit=50", url))
PY
}

# ratio NAME VALUE REFERENCE REFNAME: VALUE / REFERENCE, printed.
ratio() {
    awk -v n="$1" -v v="$2" -v r="$3" -v rn="$4" \
        'BEGIN { if (r > 0) printf "  %-34s %10.2f x %s\n", n, v / r, rn }'
}

# pg_reference NAME DB CLIENTS SQL: pgbench running SQL (prepared) with
# CLIENTS connections for the run's length; prints and sets last_tps.
pg_reference() {
    local name=$1 db=$2 clients=$3 sql=$4
    printf '%s;\n' "$sql" > "$work/pgbench.sql"
    pgbench -n -M prepared -j 2 -c "$clients" -T 2 -f "$work/pgbench.sql" "$db" > /dev/null 2>&1
    pgbench -n -M prepared -j 2 -c "$clients" -T "$seconds" -f "$work/pgbench.sql" "$db" > "$work/pgbench.txt" 2>&1
    last_tps=$(awk '/^tps = / {printf "%.0f", $3}' "$work/pgbench.txt")
    printf '  %-34s %10s q/s     c=%-3s (pgbench -M prepared: %s)\n' "$name" "$last_tps" "$clients" "$sql"
}

rss() { awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$server_pid/status"; }

# storage BACKEND: what the database itself says it holds, per credential
# (everything: tables, indexes, TOAST, free pages; the WAL for SQLite),
# then where it goes: each table, index and TOAST table of a byte or more
# per credential, and the average stored size of each column of
# assertions (of the rows where it is set).
storage() {
    local backend=$1 bytes count
    if [ "$backend" = postgresql ]; then
        local db="${server_url%/*}/ob_bench_$$"
        bytes=$(psql "$db" -XAtqc "SELECT pg_database_size(current_database())")
        count=$(psql "$db" -XAtqc "SELECT count(*) FROM assertions")
        # A TOAST table is named after the table it belongs to.
        psql "$db" -XAtqc "SELECT coalesce(t.relname || ' (TOAST)', c.relname), pg_relation_size(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_class t ON t.reltoastrelid = c.oid
            WHERE c.relkind IN ('r', 'i', 't')
                AND (n.nspname = 'public' OR t.relnamespace = 'public'::regnamespace)
            ORDER BY 2 DESC" \
            | awk -F'|' -v n="$count" '$2 / n >= 1 { printf "    %-40s %10.1f bytes/credential\n", $1, $2 / n }' > "$work/tables.txt"
        local names averages
        names=$(psql "$db" -XAtqc "SELECT column_name FROM information_schema.columns WHERE table_name = 'assertions' ORDER BY ordinal_position")
        averages=$(psql "$db" -XAtqc "SELECT $(psql "$db" -XAtqc "SELECT string_agg(format('avg(pg_column_size(%I))', column_name), ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'assertions'") FROM assertions" | tr '|' '\n')
        paste -d'|' <(echo "$names") <(echo "$averages") \
            | awk -F'|' '{ printf "      column %-33s %10.1f bytes (average where set)\n", $1, $2 }' >> "$work/tables.txt"
    else
        # Pages in use after a checkpoint (the WAL folded into the file),
        # and per table and index from the dbstat virtual table when it is
        # built in.
        python3 - "$work/bench.sqlite" "$work" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
db.execute("PRAGMA wal_checkpoint(PASSIVE)")
size = db.execute("PRAGMA page_size").fetchone()[0]
used = db.execute("PRAGMA page_count").fetchone()[0] - db.execute("PRAGMA freelist_count").fetchone()[0]
count = db.execute("SELECT count(*) FROM assertions").fetchone()[0]
open(sys.argv[2] + "/sqlite-size.txt", "w").write(f"{used * size} {count}\n")
lines = []
try:
    rows = db.execute("SELECT name, sum(pgsize), sum(unused) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    lines = [f"    {name:<40} {total / count:10.1f} bytes/credential ({unused / count:.0f} unused)\n"
             for name, total, unused in rows if total / count >= 1]
except sqlite3.Error:
    pass
for (name,) in db.execute("SELECT name FROM pragma_table_info('assertions')").fetchall():
    average = db.execute(f'SELECT avg(length(CAST("{name}" AS BLOB))) FROM assertions').fetchone()[0]
    lines.append(f"      column {name:<33} {average or 0:10.1f} bytes (average where set; numbers as text)\n")
open(sys.argv[2] + "/tables.txt", "w").write("".join(lines))
PY
        read -r bytes count < "$work/sqlite-size.txt"
    fi
    awk -v b="$bytes" -v n="$count" 'BEGIN { printf "  %-34s %10.0f bytes/credential (%d credentials, %.0f MiB)\n", "storage", b / n, n, b / 1048576 }'
    cat "$work/tables.txt"
}

bench_backend() {
    local backend=$1
    local port
    port=$(free_port)
    db_env=()
    if [ "$backend" = postgresql ]; then
        local db="ob_bench_$$"
        psql "$server_url" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db" >/dev/null
        db_env=(DB_TYPE=postgresql "DATABASE_URL=${server_url%/*}/$db")
    else
        db_env=(DB_TYPE=sqlite "SQLITE_FILE=$work/bench.sqlite")
    fi
    start_server "$backend" "$port"
    local base="http://127.0.0.1:$port"
    for _ in $(seq 100); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done

    curl -sf -X POST "$base/issuers" -H "X-API-Key: $key" \
        -d '{"name":"Bench University","url":"https://bench.example.org","email":"b@bench.example.org"}' > "$work/issuer.json"
    local issuer; issuer=$(json_field "$work/issuer.json" id); issuer=${issuer##*/}
    local badges=()
    for n in $(seq 10); do
        curl -sf -X POST "$base/achievements" -H "X-API-Key: $key" \
            -d "{\"issuer\":\"$issuer\",\"name\":\"Bench badge $n\",\"description\":\"Measured.\",\"image\":\"https://bench.example.org/b.png\",\"criteria\":{\"narrative\":\"Be fast.\"}}" > "$work/badge.json"
        local badge; badge=$(json_field "$work/badge.json" id); badges+=("${badge##*/}")
    done

    echo "$backend:"
    local batches=$((credentials / 10000)) loaded_start loaded_end first=""
    loaded_start=$(date +%s.%N)
    for n in $(seq 0 $((batches - 1))); do
        batch_body "$work/batch.json" "${badges[$((n % 10))]}" $((n * 10000))
        local took; took=$(post_batch "$base" "$work/batch.json")
        [ -z "$first" ] && first=$took
    done
    loaded_end=$(date +%s.%N)
    awk -v t="$first" 'BEGIN { printf "  %-34s %10.0f credentials/s (10,000 in %.2f s, first batch)\n", "batch of 10,000 signed", 10000/t, t }'
    awk -v s="$loaded_start" -v e="$loaded_end" -v n="$credentials" \
        'BEGIN { printf "  %-34s %10.0f credentials/s (%d signed in %.1f s)\n", "dataset load", n/(e-s), n, e-s }'

    # What autovacuum does within a minute of a bulk load: statistics and a
    # visibility map, so that PostgreSQL plans and counts as it would in
    # steady state.
    if [ "$backend" = postgresql ]; then
        psql "${server_url%/*}/ob_bench_$$" -qc "VACUUM ANALYZE" >/dev/null
    fi

    if [ -n "${BENCH_STORAGE_ONLY:-}" ]; then
        storage "$backend"
        stop_server
        if [ "$backend" = postgresql ]; then
            psql "$server_url" -qc "DROP DATABASE IF EXISTS ob_bench_$$ WITH (FORCE)" >/dev/null
        fi
        return
    fi

    # Restart on the loaded database: time to ready.
    stop_server
    local t0 t1
    t0=$(date +%s%N)
    start_server "$backend" "$port"
    until curl -sf "$base/health/ready" >/dev/null 2>&1; do sleep 0.005; done
    t1=$(date +%s%N)
    printf '  %-34s %10s ms (start to /health/ready 200, %s credentials)\n' "ready after restart" $(((t1 - t0) / 1000000)) "$credentials"

    cat > "$work/issue.lua" <<LUA
wrk.method = "POST"
wrk.headers["X-API-Key"] = "$key"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"badge":"${badges[0]}","recipient":{"identity":"wrk@example.org"}}'
LUA
    curl -sf -X POST "$base/credentials" -H "X-API-Key: $key" \
        -d "{\"badge\":\"${badges[0]}\",\"recipient\":{\"identity\":\"get@example.org\"}}" > "$work/credential.json"
    local credential; credential=$(json_field "$work/credential.json" id); credential=${credential##*/}
    local status_list; status_list=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d.get("credentialStatus"); s=s[0] if isinstance(s,list) else s; print(s["statusListCredential"])' "$work/credential.json")
    # Credentials of the set at random, for the runs that read many: the
    # first 20,000 of up to 100,000 in random order.
    if [ "$backend" = postgresql ]; then
        psql "${server_url%/*}/ob_bench_$$" -XAtqc "SELECT id FROM assertions ORDER BY random() LIMIT 100000" > "$work/ids-all.txt"
    else
        python3 -c 'import sqlite3,sys; db=sqlite3.connect(sys.argv[1], timeout=30); print("\n".join(r[0] for r in db.execute("SELECT id FROM assertions ORDER BY random() LIMIT 100000")))' \
            "$work/bench.sqlite" > "$work/ids-all.txt"
    fi
    head -n 20000 "$work/ids-all.txt" > "$work/ids.txt"
    random_script() { # random_script FILE IDS PATH-BEFORE-ID PATH-AFTER-ID
        { echo "ids = {"; sed 's/.*/"&",/' "$2"; echo "}"
          echo "request = function() return wrk.format(\"GET\", \"$3\" .. ids[math.random(#ids)] .. \"$4\") end"
        } > "$1"
    }
    random_script "$work/random.lua" "$work/ids.txt" /v3/credentials/ ""
    random_script "$work/random-verify.lua" "$work/ids-all.txt" /credentials/ /verify
    head -n 5000 "$work/ids.txt" > "$work/ids-viewed.txt"
    random_script "$work/random-viewed.lua" "$work/ids-viewed.txt" /v3/credentials/ ""
    # The reads: each public GET, then its references.
    if wanted reads; then
        load "GET /health (reference)" 32 "$base/health"
        local health_rps=$last_rps
        local -a read_names=() read_rps=() read_sql=()
        read_get() {
            load "$1" 32 "$2"
            read_names+=("$1"); read_rps+=("$last_rps"); read_sql+=("$3")
        }
        read_get "public GET /v3/credentials/{id}" "$base/v3/credentials/$credential" \
            "SELECT * FROM assertions WHERE id = '$credential'"
        read_get "public GET /v3/achievements/{id}" "$base/v3/achievements/${badges[0]}" \
            "SELECT * FROM badge_classes WHERE id = '${badges[0]}'"
        read_get "public GET /v3/issuers/{id}" "$base/v3/issuers/$issuer" \
            "SELECT * FROM issuers WHERE id = '$issuer'"
        read_get "public GET /issuers/{id}/did.json" "$base/issuers/$issuer/did.json" \
            "SELECT * FROM signing_keys WHERE issuer_id = '$issuer'"
        read_get "public GET /status-lists/{id}" "$status_list" \
            "SELECT * FROM status_lists WHERE id = '${status_list##*/}'"
        # The same credential read again and again is what the references
        # measure; a graduation day reads many. 20,000 credentials of the set
        # at random: more than the default document cache holds, so most
        # reads render (and the cache churns).
        load "GET of 20,000 credentials at random" 32 "$base/v3/credentials" -s "$work/random.lua"
        # What a person opening the badge gets: the HTML page, verified now.
        load "credential page (HTML, verified)" 32 "$base/credentials/$credential" -H "Accept: text/html"
        local i
        for i in "${!read_names[@]}"; do
            ratio "${read_names[$i]}" "${read_rps[$i]}" "$health_rps" "GET /health"
        done
        if [ "$backend" = postgresql ]; then
            for i in "${!read_names[@]}"; do
                pg_reference "same query as ${read_names[$i]#public GET }" "${server_url%/*}/ob_bench_$$" 32 "${read_sql[$i]}"
                ratio "${read_names[$i]}" "${read_rps[$i]}" "$last_tps" "pgbench, same query, c=32"
            done
        fi
    fi
    if wanted verify; then
        load "GET /credentials/{id}/verify" 8 "$base/credentials/$credential/verify"
        # The same credential again and again has its valid proof
        # remembered. Up to 100,000 at random: a run of a few seconds
        # verifies most of them for the first time.
        load "verify at random" 8 "$base/credentials" -s "$work/random-verify.lua"
    fi
    if wanted issue; then
        load "signed issuance (POST /credentials)" 8 "$base/credentials" -s "$work/issue.lua"
        # A graduation day issues while people look: 5,000 credentials at
        # random (what the document cache holds) on 24 connections while 4
        # others issue, through the warm-up and the measured run.
        wrk -t 1 -c 4 -d "$((seconds + 2))s" -s "$work/issue.lua" "$base/credentials" > "$work/wrk-issuing.txt" 2>&1 &
        local issuing=$!
        load "GET of 5,000 at random while issuing" 24 "$base/v3/credentials" -s "$work/random-viewed.lua"
        wait "$issuing"
        printf '  %-34s %10s req/s   c=4, beside the run above\n' "signed issuance meanwhile" \
            "$(awk '/Requests\/sec/ {print $2}' "$work/wrk-issuing.txt")"
    fi
    if wanted lists; then
        load "list page (offset 1,000, limit 50)" 8 "$base/credentials?limit=50&offset=1000" -H "X-API-Key: $key"
        local deep=$((credentials - 1000))
        load "list page (offset $deep, limit 50)" 8 "$base/credentials?limit=50&offset=$deep" -H "X-API-Key: $key"
        # A cursor deep in the set, found by walking the list by cursor.
        local cursor_url
        cursor_url=$(deep_cursor "$base" "$deep")
        load "cursor page (after $deep, limit 50)" 8 "$cursor_url" -H "X-API-Key: $key"
    fi
    printf '  %-34s %s\n' "peak RSS serving (VmHWM)" "$(rss)"
    storage "$backend"
    batch_body "$work/batch.json" "${badges[1]}" $((credentials + 1))
    post_batch "$base" "$work/batch.json" >/dev/null
    printf '  %-34s %s\n' "peak RSS with a 10,000 batch" "$(rss)"
    stop_server
    if [ "$backend" = postgresql ]; then
        psql "$server_url" -qc "DROP DATABASE IF EXISTS ob_bench_$$ WITH (FORCE)" >/dev/null
    fi
}

echo "openbadges-server bench: $(nproc) cores, wrk on the same machine, ${seconds}s per run, $credentials credentials"
for backend in ${BENCH_BACKENDS:-sqlite postgresql}; do
    bench_backend "$backend"
done
