#!/usr/bin/env bash
# Issue 10's check that the shared HTTP edge costs nothing measurable: two builds, BEFORE_BIN (say, a release build
# of the commit before the change) and this tree's release build, measured in one run, alternating ROUNDS times:
#   - client-credentials tokens/s at POST /oauth/token, and its ratio to `openssl speed rsa2048` (as Benchmarks/run.sh)
#   - GET /v0/pipes/sales_by_city.json requests/s with a workspace JWT (as Benchmarks/analytics.sh)
# Loopback only, bounded in time. Prints a Markdown block for BENCHMARKS.md.
#   BEFORE_BIN=/path/to/old/tessera Benchmarks/edge.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
: "${BEFORE_BIN:?set BEFORE_BIN to the tessera binary to compare with}"
. Benchmarks/common.sh edge
AFTER_BIN=$BIN
server=""
stop() { [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; server=""; }
trap 'stop; rm -rf "$data"' EXIT
urlencode() { python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=''))" "$1"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# One measurement of one build on a fresh data folder: "tokens/s sales/s".
measure() {
  local bin=$1 dir="$data/run"
  rm -rf "$dir"; mkdir -p "$dir"
  "$bin" serve --port "$PORT" --data-dir "$dir" --log-level warning --apply examples/tessera.yaml >"$dir/stdout.log" 2>"$dir/stderr.log" &
  server=$!
  for _ in $(seq 300); do curl -sf "${BASE}healthz" >/dev/null && break; sleep 0.1; done
  local id secret audience jwt
  id=$(json "['client_id']" < "$dir/admin-client.json")
  secret=$(json "['client_secret']" < "$dir/admin-client.json")
  audience="http://127.0.0.1:$PORT/api/v2/"
  export BODY="grant_type=client_credentials&client_id=$id&client_secret=$(urlencode "$secret")&audience=$(urlencode "$audience")"
  wrk -t2 -c32 -d"${DURATION}s" -s Benchmarks/token.lua "${BASE}oauth/token" >"$dir/token.txt"
  jwt=$("$bin" token create --data-dir "$dir" --workspace demo --pipe sales_by_city --ttl 1h 2>/dev/null)
  wrk -t2 -c8 -d"${DURATION}s" -H "Authorization: Bearer $jwt" "${BASE}v0/pipes/sales_by_city.json" >"$dir/sales.txt"
  stop
  for file in token sales; do
    if grep -q Non-2xx "$dir/$file.txt"; then echo "non-2xx answers in $file:" >&2; cat "$dir/$file.txt" >&2; exit 1; fi
  done
  echo "$(awk '/Requests\/sec/ {print $2}' "$dir/token.txt") $(awk '/Requests\/sec/ {print $2}' "$dir/sales.txt")"
}

echo "== openssl speed -multi 2 -seconds $DURATION rsa2048" >&2
signs=$(openssl speed -multi 2 -seconds "$DURATION" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
rows=""
before_tokens=(); before_sales=(); after_tokens=(); after_sales=()
for round in $(seq "$ROUNDS"); do
  for side in before after; do
    bin=$BEFORE_BIN; [ "$side" = after ] && bin=$AFTER_BIN
    echo "== round $round: $side" >&2
    read -r tokens sales <<<"$(measure "$bin")"
    ratio=$(python3 -c "print(f'{$tokens/$signs:.2f}')")
    rows+="| $round | $side | $tokens | $ratio | $sales |"$'\n'
    if [ "$side" = before ]; then before_tokens+=("$tokens"); before_sales+=("$sales"); else after_tokens+=("$tokens"); after_sales+=("$sales"); fi
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
bt=$(median "${before_tokens[@]}"); at=$(median "${after_tokens[@]}")
bs=$(median "${before_sales[@]}"); as=$(median "${after_sales[@]}")
cat <<MD
Machine: $(nproc) cores, $(uname -sr); date: $(date -u +%Y-%m-%d)
Command: \`BEFORE_BIN=… Benchmarks/edge.sh\` (DURATION=$DURATION s, ROUNDS=$ROUNDS, alternating builds), release builds;
\`openssl speed -multi 2 rsa2048\`: $signs signs/s

| round | build | client-credentials tokens/s | ÷ openssl signs/s | \`sales_by_city.json\` requests/s |
|---|---|---|---|---|
${rows}| **median** | before | $bt | $(python3 -c "print(f'{$bt/$signs:.2f}')") | $bs |
| **median** | after | $at | $(python3 -c "print(f'{$at/$signs:.2f}')") | $as |
| **after ÷ before** | | $(python3 -c "print(f'{$at/$bt:.2f}')") | | $(python3 -c "print(f'{$as/$bs:.2f}')") |
MD
