#!/usr/bin/env bash
# Issue 5's figures, in one run: GET /v0/pipes/sales_by_city.json with a seed-shaped JWT (3,000 sample rows,
# two nodes, a GROUP BY), against the same request to /healthz-free baseline of one tiny pipe, so the ratio shows
# what the query costs over the HTTP and JWT path. Loopback only, bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15}
. Benchmarks/common.sh analytics
serve_demo
curl -sf -X POST -H "Authorization: Bearer $TINYBIRD_ADMIN_TOKEN" "${BASE}v0/pipes?name=one_row" \
     --data-binary $'NODE one\nSQL >\n    SELECT 1 AS one\nTYPE ENDPOINT' >/dev/null
token=$("$BIN" token create --data-dir "$data" --workspace demo --pipe sales_by_city --pipe one_row --ttl 1h 2>/dev/null)
run() {
  wrk -t2 -c8 -d"${DURATION}s" --latency -H "Authorization: Bearer $token" "${BASE}v0/pipes/$1" >"$data/$2.txt"
  echo "$(awk '/Requests\/sec/ {print $2}' "$data/$2.txt") $(awk '$1=="50%" {print $2}' "$data/$2.txt") $(awk '$1=="99%" {print $2}' "$data/$2.txt") $(awk '/Non-2xx/ {print $5}' "$data/$2.txt")"
}
echo "== one_row" >&2
read -r one_rps one_p50 one_p99 one_bad <<<"$(run one_row.json one)"
echo "== sales_by_city" >&2
read -r sales_rps sales_p50 sales_p99 sales_bad <<<"$(run sales_by_city.json sales)"
echo "== sales_by_city filtered" >&2
read -r filtered_rps filtered_p50 filtered_p99 filtered_bad <<<"$(run 'sales_by_city.json?cities=Madrid,Lisbon&start_date=2026-11-01' filtered)"
ratio=$(python3 -c "print(f'{float(\"$sales_rps\")/float(\"$one_rps\"):.2f}')")
cat <<MD
Machine: $(nproc) cores, $(uname -sr); date: $(date -u +%Y-%m-%d)
Command: \`Benchmarks/analytics.sh\` (DURATION=$DURATION s, \`wrk -t2 -c8\`, JWT in the Authorization header), release build

| endpoint | requests/s | p50 | p99 | non-2xx |
|---|---|---|---|---|
| \`one_row.json\` (\`SELECT 1\`: HTTP, JWT check, catalog reads) | $one_rps | $one_p50 | $one_p99 | ${one_bad:-0} |
| \`sales_by_city.json\` (3,000 rows, two nodes, GROUP BY city) | $sales_rps | $sales_p50 | $sales_p99 | ${sales_bad:-0} |
| \`sales_by_city.json?cities=Madrid,Lisbon&start_date=…\` | $filtered_rps | $filtered_p50 | $filtered_p99 | ${filtered_bad:-0} |
| **sales_by_city ÷ one_row** | **$ratio** | | | |
MD
