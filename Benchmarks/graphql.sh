#!/usr/bin/env bash
# Issue 13's figures: `users_by_pk` as admin through /v1/graphql with wrk (requests/s, p50/p99, resident memory), and
# the same row read by a bare prepared statement on the same database in the same run, on the embedded SQLite file
# and on PostgreSQL (when POSTGRES_URL names a server, or scripts/postgres.sh can start one).
# Loopback only, bounded (DURATION seconds per wrk run). Prints a Markdown block for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
ROWS=${ROWS:-10000}
export SECRET=bench-graphql-admin-secret-0123456789
. Benchmarks/common.sh graphql
python3 -c "import psycopg" 2>/dev/null || pip install -q "psycopg[binary]>=3.1"

pg_started=""
if [ -z "${POSTGRES_URL:-}" ]; then
  pg_started=$(mktemp -d /tmp/tessera-bench-pg.XXXXXX); rmdir "$pg_started"
  POSTGRES_URL=$(scripts/postgres.sh start "$pg_started")
fi
stop_pg() { [ -n "$pg_started" ] && scripts/postgres.sh stop "$pg_started" >/dev/null 2>&1 || true; }

BODY='{"query":"query User($id: String!) { users_by_pk(userId: $id) { userId userName lastSeen } }","variables":{"id":"user-5000"}}'
export QUERY_BODY=$BODY

measure() {  # $1: label, $2: database URL for the bare read ("" = the SQLite file)
  local label=$1 url=$2
  python3 Benchmarks/graphql_setup.py "$BASE" "$SECRET" "$ROWS"
  # Warm the plan cache and the connections, then measure at the two loads people quote.
  wrk -t1 -c1 -d2s -s Benchmarks/graphql.lua "${BASE}v1/graphql" >/dev/null
  local one=$(wrk -t1 -c1 -d"${DURATION}s" --latency -s Benchmarks/graphql.lua "${BASE}v1/graphql")
  local many=$(wrk -t2 -c16 -d"${DURATION}s" --latency -s Benchmarks/graphql.lua "${BASE}v1/graphql")
  local rss=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
  local bare=$(python3 Benchmarks/graphql_bare.py "${url:-$data/graphql.sqlite}")
  python3 - "$label" "$one" "$many" "$rss" "$bare" <<'PY'
import re, sys
label, one, many, rss, bare = sys.argv[1:6]
def figures(text):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    def percentile(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    return rps, percentile(50), percentile(99)
r1, p50_1, p99_1 = figures(one)
r16, p50_16, p99_16 = figures(many)
bare_p50, bare_p99 = (float(x) for x in bare.split())
print(f"| {label} | 1 connection | {r1:,.0f} | {p50_1:.3f} | {p99_1:.3f} | {bare_p50:.3f} | **{p50_1 - bare_p50:.3f}** |")
print(f"| {label} | 16 connections, 2 threads | {r16:,.0f} | {p50_16:.3f} | {p99_16:.3f} | | |")
print(f"| {label} | peak resident memory (VmHWM) | {int(rss) / 1024:.1f} MiB | | | | |")
PY
}

cat <<MD
Machine: $(nproc) cores, $(uname -sr); date: $(date -u +%Y-%m-%d)
Command: \`Benchmarks/graphql.sh\` (DURATION=$DURATION, ROWS=$ROWS), release build, wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')

| database | load | requests/s | p50 ms | p99 ms | bare prepared read p50 ms | engine adds at p50, ms |
|---|---|---|---|---|---|---|
MD
HASURA_GRAPHQL_ADMIN_SECRET=$SECRET serve_tessera
measure "SQLite (embedded)" ""
kill -TERM $server; wait $server 2>/dev/null || true
rm -rf "$data"; mkdir -p "$data"
pgdb="tessera_bench_$RANDOM"
psql "$POSTGRES_URL" -qc "CREATE DATABASE $pgdb" >/dev/null
GRAPHQL_URL="${POSTGRES_URL%/*}/$pgdb"
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; psql "$POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1; stop_pg; rm -rf "$data"' EXIT
HASURA_GRAPHQL_ADMIN_SECRET=$SECRET HASURA_GRAPHQL_DATABASE_URL=$GRAPHQL_URL "$BIN" serve --port "$PORT" --data-dir "$data" --log-level warning >"$data/stdout.log" 2>"$data/stderr.log" &
server=$!
for _ in $(seq 300); do curl -sf "${BASE}healthz" >/dev/null && break; sleep 0.1; done
measure "PostgreSQL" "$GRAPHQL_URL"
