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
swift test --skip-build
python3 -m pytest -q interop
