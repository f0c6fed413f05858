#!/usr/bin/env bash
# Tessera's issue-2 benchmarks, all in one run on one machine so the ratios are fair:
#   1. RSA-2048 signing rate of this machine (openssl speed -multi 2)
#   2. client-credentials tokens/s at POST /oauth/token (wrk, loopback)
#   3. GET /api/v2/users?q=... p50/p99 with 100,000 users in the store (wrk --latency)
# STORE=postgres runs the server on a loopback PostgreSQL instead of SQLite (see common.sh).
#   4. resident memory of `tessera serve`, idle and after load
# Loopback only, every load bounded in time. Prints a Markdown block for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15}
USERS=${USERS:-100000}
. Benchmarks/common.sh tokens
BASE=${BASE%/}
server=""
stop() { [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; server=""; }
trap 'stop; stop_store; rm -rf "$data"' EXIT
start() {
  # shellcheck disable=SC2046  # store_args is words by design
  "$BIN" serve --port "$PORT" --data-dir "$data" --log-level warning $(store_args) >"$data/stdout.log" 2>"$data/stderr.log" &
  server=$!
  for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; cat "$data/stderr.log" >&2; exit 1
}
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$server/status"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# First start migrates and creates the bootstrap admin client; then seed users while the server is down.
start; stop
python3 Benchmarks/seed_users.py "${STORE_URL:-$data/tessera.sqlite}" "$USERS" >/dev/null
start
idle_rss=$(rss)

admin_id=$(json "['client_id']" < "$data/admin-client.json")
admin_secret=$(json "['client_secret']" < "$data/admin-client.json")
audience="http://127.0.0.1:$PORT/api/v2/"
token=$(curl -s -X POST "$BASE/oauth/token" -d grant_type=client_credentials -d "client_id=$admin_id" \
  --data-urlencode "client_secret=$admin_secret" --data-urlencode "audience=$audience" | json "['access_token']")

echo "== openssl speed -multi 2 -seconds $DURATION rsa2048" >&2
rsa_signs=$(openssl speed -multi 2 -seconds "$DURATION" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')

echo "== wrk POST /oauth/token" >&2
export BODY="grant_type=client_credentials&client_id=$admin_id&client_secret=$admin_secret&audience=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=''))" "$audience")"
wrk -t2 -c32 -d"${DURATION}s" --latency -s Benchmarks/token.lua "$BASE/oauth/token" >"$data/token.txt"
tokens=$(awk '/Requests\/sec/ {print $2}' "$data/token.txt")
token_errors=$(awk '/Non-2xx/ {print $5}' "$data/token.txt"); token_errors=${token_errors:-0}
token_p50=$(awk '/ 50%/ {print $2}' "$data/token.txt"); token_p99=$(awk '/ 99%/ {print $2}' "$data/token.txt")

export TOKEN="$token"
search_rows=""
for q in 'email:"user50000@bench0.test"' 'app_metadata.plan:pro' 'name:"Ada Lovelace" AND app_metadata.plan:team' 'email.domain:bench7.test' 'given_name:gra*'; do
  enc=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=''))" "$q")
  echo "== wrk GET /api/v2/users?q=$q" >&2
  wrk -t2 -c4 -d"${DURATION}s" --latency -s Benchmarks/bearer.lua "$BASE/api/v2/users?q=$enc&per_page=50" >"$data/search.txt"
  p50=$(awk '/ 50%/ {print $2}' "$data/search.txt"); p99=$(awk '/ 99%/ {print $2}' "$data/search.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' "$data/search.txt"); non2xx=$(awk '/Non-2xx/ {print $5}' "$data/search.txt")
  search_rows+="| \`$q\` | $p50 | $p99 | $rps | ${non2xx:-0} |"$'\n'
done
loaded_rss=$(rss); peak_rss=$(hwm)

ratio=$(python3 -c "print(f'{float(\"$tokens\")/float(\"$rsa_signs\"):.2f}')")
cat <<MD
Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); date: $(date -u +%Y-%m-%d)
Command: \`STORE=$STORE Benchmarks/run.sh\` (DURATION=$DURATION s per load, USERS=$USERS); store: $STORE

| measure | value |
|---|---|
| RSA-2048 signs/s (\`openssl speed -multi 2 rsa2048\`) | $rsa_signs |
| client-credentials tokens/s (\`wrk -t2 -c32\`, POST /oauth/token) | $tokens |
| **tokens/s ÷ RSA signs/s** | **$ratio** |
| token latency p50 / p99 | $token_p50 / $token_p99 |
| non-2xx token responses | $token_errors |

\`GET /api/v2/users?q=…&per_page=50\` with $USERS users in $STORE (\`wrk -t2 -c4\`):

| q | p50 | p99 | req/s | non-2xx |
|---|---|---|---|---|
$search_rows
| resident memory of \`tessera serve\` | KiB |
|---|---|
| idle, $USERS users, after start | $idle_rss |
| after the loads above | $loaded_rss |
| peak (VmHWM) | $peak_rss |
MD
