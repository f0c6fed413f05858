#!/usr/bin/env bash
# `make run`: Tessera with the example tenant. With TESSERA_ANALYTICS_ENGINE=clickhouse (and no TESSERA_CLICKHOUSE_URL),
# the demo workspace runs on a ClickHouse started here on 127.0.0.1:${CLICKHOUSE_PORT:-8123}, its data kept in
# DATA_DIR/clickhouse and the server stopped when Tessera stops.
set -euo pipefail
port=${1:?usage: run.sh PORT URL DATA_DIR}
url=${2:?usage: run.sh PORT URL DATA_DIR}
data=${3:?usage: run.sh PORT URL DATA_DIR}
if [ "${TESSERA_ANALYTICS_ENGINE:-embedded}" = clickhouse ] && [ -z "${TESSERA_CLICKHOUSE_URL:-}" ]; then
  mkdir -p "$data"
  clickhouse_dir="$(cd "$data" && pwd)/clickhouse"
  TESSERA_CLICKHOUSE_URL=$(scripts/clickhouse.sh serve "$clickhouse_dir" "${CLICKHOUSE_PORT:-8123}")
  export TESSERA_CLICKHOUSE_URL
  trap 'scripts/clickhouse.sh halt "$clickhouse_dir"' EXIT
  echo "ClickHouse for the demo workspace at $TESSERA_CLICKHOUSE_URL (data in $clickhouse_dir)"
fi
.build/debug/tessera serve --port "$port" --issuer "$url/" --data-dir "$data" --apply examples/tessera.yaml
