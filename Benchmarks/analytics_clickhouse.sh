#!/usr/bin/env bash
# Issue 17's figures in one run, on a ClickHouse (Debian's 18.16) started here on loopback:
#   (a) sales_by_city.json on a ClickHouse-backed workspace against the same SQL sent straight to ClickHouse's HTTP port;
#   (b) GROUP BY city over ROWS rows: the embedded engine's endpoint, ClickHouse's endpoint, DuckDB on the same rows;
#   (c) Events API ingestion into ClickHouse (wrk POSTing BATCH-row NDJSON bodies), against the same bodies inserted
#       straight into ClickHouse.
# Needs `pip install duckdb` and wrk. Loopback only, bounded. Prints a Markdown block for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
. Benchmarks/common.sh clickhouse
clickhouse_dir="$data/clickhouse"
CLICKHOUSE_URL=$(scripts/clickhouse.sh start "$clickhouse_dir")
export CLICKHOUSE_URL
ADMIN_CH=bench-clickhouse-admin-token-0123456789abcdef
cat > "$data/bench.yaml" <<YAML
workspaces:
  - name: demo
    admin_token: "$TINYBIRD_ADMIN_TOKEN"
    datafiles: $PWD/examples/analytics/
  - name: demo_ch
    admin_token: "$ADMIN_CH"
    datafiles: $PWD/examples/analytics/
    engine: clickhouse
    clickhouse:
      url: "$CLICKHOUSE_URL"
      database: bench
      timeout_seconds: 120
YAML
serve_tessera --apply "$data/bench.yaml"
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; scripts/clickhouse.sh stop "$clickhouse_dir"; rm -rf "$data"' EXIT
cat <<MD
Machine: $(nproc) cores, $(uname -sr), ClickHouse $(curl -s "$CLICKHOUSE_URL/?query=SELECT%20version()"); date: $(date -u +%Y-%m-%d)
Command: \`Benchmarks/analytics_clickhouse.sh\` (ROWS=$ROWS), release build

MD
ROWS=$ROWS python3 Benchmarks/analytics_clickhouse.py "$BASE" "$TINYBIRD_ADMIN_TOKEN" "$ADMIN_CH" "$CLICKHOUSE_URL" "$data"
