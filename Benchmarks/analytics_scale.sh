#!/usr/bin/env bash
# Issue 11's figures in one run: (a) what Tessera adds to sales_by_city.json over the same SQL on the same SQLite file,
# (b) Events API ingestion rows/s without a sorting key, with a materialized view, with a sorting key, (c) GROUP BY city
# over ROWS rows raw and through a materialized view, against DuckDB.
# Needs `pip install duckdb`. Loopback only, bounded. Prints a Markdown block for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
. Benchmarks/common.sh scale
serve_demo
# The same columns as `sales`, without a sorting key, for (b)'s comparison.
schema=$(python3 -c "import urllib.parse; print(urllib.parse.quote('\`timestamp\` DateTime \`json:\$.timestamp\`, \`order_id\` String \`json:\$.order_id\`, \`city\` LowCardinality(String) \`json:\$.city\`, \`product\` String \`json:\$.product\`, \`units\` UInt16 \`json:\$.units\`, \`amount\` Float64 \`json:\$.amount\`'))")
curl -sf -X POST -H "Authorization: Bearer $TINYBIRD_ADMIN_TOKEN" "${BASE}v0/datasources?name=sales_unsorted&mode=create&schema=$schema" >/dev/null
token=$("$BIN" token create --data-dir "$data" --workspace demo --pipe sales_by_city --ttl 1h 2>/dev/null)
db=$(ls "$data"/analytics/*.sqlite | head -n 1)
cat <<MD
Machine: $(nproc) cores, $(uname -sr); date: $(date -u +%Y-%m-%d)
Command: \`Benchmarks/analytics_scale.sh\` (ROWS=$ROWS), release build

MD
ROWS=$ROWS python3 Benchmarks/analytics_scale.py "$BASE" "$token" "$TINYBIRD_ADMIN_TOKEN" "$db"
