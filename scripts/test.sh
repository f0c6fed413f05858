#!/usr/bin/env bash
# `make test`: installs what is missing, starts a PostgreSQL and ClickHouse servers on loopback, runs `swift test`
# on SQLite and PostgreSQL (and the ClickHouse client's tests), then the interop suite against the built binary, and
# stops the servers whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh test

pgdir=$(mktemp -d /tmp/tessera-pg.XXXXXX)
rmdir "$pgdir"
chdir=$(mktemp -d /tmp/tessera-ch.XXXXXX)
chcluster=$(mktemp -d /tmp/tessera-ch-cluster.XXXXXX)
cleanup() { scripts/postgres.sh stop "$pgdir"; scripts/clickhouse.sh stop "$chdir"; scripts/clickhouse.sh stop "$chcluster"; }
trap cleanup EXIT
export TESSERA_TEST_POSTGRES_URL=$(scripts/postgres.sh start "$pgdir")
echo "PostgreSQL for tests: $TESSERA_TEST_POSTGRES_URL"
# ClickHouse (Debian's 18.16): one server, and a cluster of two servers with one shard each.
# Assigned before exported, so a server that does not start stops `make test` here (set -e) rather than skipping tests.
TESSERA_TEST_CLICKHOUSE_URL=$(scripts/clickhouse.sh start "$chdir")
TESSERA_TEST_CLICKHOUSE_CLUSTER_URLS=$(scripts/clickhouse.sh cluster "$chcluster")
export TESSERA_TEST_CLICKHOUSE_URL TESSERA_TEST_CLICKHOUSE_CLUSTER_URLS
echo "ClickHouse for tests: $TESSERA_TEST_CLICKHOUSE_URL; cluster: $TESSERA_TEST_CLICKHOUSE_CLUSTER_URLS"

swift build --build-tests
# Every request the in-process tests serve is recorded by route; a second run checks that no route went untested.
export TESSERA_ROUTE_HITS=$(mktemp /tmp/tessera-route-hits.XXXXXX)
swift test --skip-build
TESSERA_ROUTE_COVERAGE=1 swift test --skip-build --filter RouteCoverageTests
rm -f "$TESSERA_ROUTE_HITS"
python3 -m pytest -q interop
# The seeds' analytics (000–002), Tinybird's CLI and the demo's browser flow again, on a ClickHouse-backed workspace.
TESSERA_ANALYTICS_ENGINE=clickhouse TESSERA_CLICKHOUSE_URL=$TESSERA_TEST_CLICKHOUSE_URL \
  python3 -m pytest -q interop/test_analytics.py interop/test_tb_cli.py interop/test_demo.py
