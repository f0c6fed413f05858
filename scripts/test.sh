#!/usr/bin/env bash
# `make test`: installs what is missing, starts a PostgreSQL on loopback, runs `swift test` on SQLite and
# PostgreSQL, then the interop suite against the built binary, and stops PostgreSQL whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh test

pgdir=$(mktemp -d /tmp/tessera-pg.XXXXXX)
rmdir "$pgdir"
cleanup() { scripts/postgres.sh stop "$pgdir"; }
trap cleanup EXIT
export TESSERA_TEST_POSTGRES_URL=$(scripts/postgres.sh start "$pgdir")
echo "PostgreSQL for tests: $TESSERA_TEST_POSTGRES_URL"

swift build --build-tests
# Every request the in-process tests serve is recorded by route; a second run checks that no route went untested.
export TESSERA_ROUTE_HITS=$(mktemp /tmp/tessera-route-hits.XXXXXX)
swift test --skip-build
TESSERA_ROUTE_COVERAGE=1 swift test --skip-build --filter RouteCoverageTests
rm -f "$TESSERA_ROUTE_HITS"
python3 -m pytest -q interop
