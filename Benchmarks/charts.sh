#!/usr/bin/env bash
# Issue 6's figures, in one run: chart page renders/s for sales_by_city at the sample size (3,000 rows, 8 bars),
# next to the JSON endpoint with the same token and query, and the share of a page's server time spent in the
# query versus SVG rendering (from the page's Server-Timing header over sequential requests). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15}
SAMPLES=${SAMPLES:-300}
. Benchmarks/common.sh charts
export TESSERA_URL="${BASE%/}"
serve_tessera --issuer "$BASE" --apply examples/tessera.yaml
token=$("$BIN" token create --data-dir "$data" --workspace demo --pipe sales_by_city --ttl 1h 2>/dev/null)
page="${BASE}endpoints/sales_by_city/charts/78f0fec8-4a5e-4072-a4f7-b3e37e123839?token=$token"
run() {
  wrk -t2 -c8 -d"${DURATION}s" --latency "$1" >"$data/$2.txt"
  echo "$(awk '/Requests\/sec/ {print $2}' "$data/$2.txt") $(awk '$1=="50%" {print $2}' "$data/$2.txt") $(awk '$1=="99%" {print $2}' "$data/$2.txt") $(awk '/Non-2xx/ {print $5}' "$data/$2.txt")"
}
echo "== chart page" >&2
read -r page_rps page_p50 page_p99 page_bad <<<"$(run "$page" page)"
echo "== JSON endpoint" >&2
read -r json_rps json_p50 json_p99 json_bad <<<"$(run "${BASE}v0/pipes/sales_by_city.json?token=$token" json)"
echo "== Server-Timing" >&2
for _ in $(seq "$SAMPLES"); do curl -s -o /dev/null -D - "$page" | tr -d '\r' | awk -F': ' 'tolower($1)=="server-timing" {print $2}'; done >"$data/timing.txt"
shares=$(python3 - "$data/timing.txt" <<'PY'
import re, statistics, sys
query, render = [], []
for line in open(sys.argv[1]):
    parts = dict(re.findall(r"(\w+);dur=([\d.]+)", line))
    query.append(float(parts["query"])); render.append(float(parts["render"]))
q, r = statistics.median(query), statistics.median(render)
print(f"{len(query)} {q:.3f} {r:.3f} {100*q/(q+r):.0f} {100*r/(q+r):.0f}")
PY
)
read -r samples query_ms render_ms query_share render_share <<<"$shares"
bytes=$(curl -s "$page" | wc -c)
ratio=$(python3 -c "print(f'{float(\"$page_rps\")/float(\"$json_rps\"):.2f}')")
cat <<MD
Machine: $(nproc) cores, $(uname -sr); date: $(date -u +%Y-%m-%d)
Command: \`Benchmarks/charts.sh\` (DURATION=$DURATION s, SAMPLES=$SAMPLES, \`wrk -t2 -c8\`), release build

| request | per second | p50 | p99 | non-2xx |
|---|---|---|---|---|
| chart page \`/endpoints/sales_by_city/charts/<id>?token=…\` (HTML + SVG, $bytes bytes) | $page_rps | $page_p50 | $page_p99 | ${page_bad:-0} |
| the same query as JSON \`/v0/pipes/sales_by_city.json?token=…\` | $json_rps | $json_p50 | $json_p99 | ${json_bad:-0} |
| **page ÷ JSON** | **$ratio** | | | |

Server time per page (median of $samples sequential requests, from \`Server-Timing\`): query ${query_ms} ms
(**${query_share} %**), SVG and page rendering ${render_ms} ms (**${render_share} %**).
MD
