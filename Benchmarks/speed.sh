#!/usr/bin/env bash
# The `tessera speed` figures of BENCHMARKS.md, with no server and no HTTP: Tessera's own RS256 signing rate on every
# core (issue 2), and seed 000's action run over and over by `tessera speed action` (issue 4: executions/s, p50/p99,
# resident memory before and after). Prints the lines in BENCHMARKS.md's format.
set -euo pipefail
cd "$(dirname "$0")/.."
RS256_SECONDS=${RS256_SECONDS:-10}
ACTION_EXECUTIONS=${ACTION_EXECUTIONS:-2000 10000 40000}
. Benchmarks/common.sh speed
trap 'rm -rf "$data"' EXIT

echo "== tessera speed rs256 --seconds $RS256_SECONDS" >&2
rs256=$("$BIN" speed rs256 --seconds "$RS256_SECONDS" | awk '{print $1}')
rs256=$(python3 -c "print(f'{float(\"$rs256\"):,.0f}')")

rows=""
for executions in $ACTION_EXECUTIONS; do
  echo "== tessera speed action --executions $executions" >&2
  line=$("$BIN" speed action --code examples/actions/tinybird-jwt.js \
         --secrets '{"TINYBIRD_ADMIN_TOKEN":"p.bench-admin-token-0123456789abcdef"}' \
         --configuration-json '{"TINYBIRD_WORKSPACE_ID":"w","TINYBIRD_PIPE_NAMES":"sales_by_city"}' \
         --executions "$executions")
  # "N executions, R/s with W workers, p50 A ms, p99 B ms, RSS K KiB before, L KiB after" → one table row.
  rows+=$(python3 - "$line" <<'PY'
import re, sys
m = re.match(r"(\d+) executions, ([\d.]+)/s with \d+ workers, p50 ([\d.]+) ms, p99 ([\d.]+) ms, "
             r"RSS (\d+) KiB before, (\d+) KiB after", sys.argv[1])
if not m:
    sys.exit(f"unexpected tessera speed action output: {sys.argv[1]}")
n, rate, p50, p99, before, after = m.groups()
print(f"| {int(n):,} | {float(rate):,.0f} | {p50} ms | {p99} ms | {int(before) / 1024:.1f} → {int(after) / 1024:.1f} MiB |")
PY
)$'\n'
done

cat <<MD
Machine: $(nproc) cores, $(uname -sr); date: $(date -u +%Y-%m-%d)
Command: \`Benchmarks/speed.sh\` (RS256_SECONDS=$RS256_SECONDS, ACTION_EXECUTIONS="$ACTION_EXECUTIONS"), release build

\`tessera speed rs256 --seconds $RS256_SECONDS\` (Tessera's own RS256 signing path on both cores, no HTTP) in the same session: $rs256 signatures/s.

\`tessera speed action --code examples/actions/tinybird-jwt.js --executions N\` (seed 000 verbatim, one worker per core):

| executions | per second | p50 | p99 | resident before → after |
|---|---|---|---|---|
${rows%$'\n'}
MD
