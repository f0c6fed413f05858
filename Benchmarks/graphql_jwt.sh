#!/usr/bin/env bash
# Issue 14's figure: users_by_pk as role user with an RS256 JWT against the same query as admin, in one run
# (see Benchmarks/graphql_jwt.py), on the embedded SQLite file and then on PostgreSQL (POSTGRES_URL, or a throwaway
# cluster from scripts/postgres.sh). Loopback only, bounded. Prints Markdown blocks for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BIN:-}" ]; then swift build -c release >/dev/null; BIN=.build/release/tessera; fi
python3 Benchmarks/graphql_jwt.py "$BIN"
pg_started=""
if [ -z "${POSTGRES_URL:-}" ]; then
  pg_started=$(mktemp -d /tmp/tessera-bench-pg.XXXXXX); rmdir "$pg_started"
  POSTGRES_URL=$(scripts/postgres.sh start "$pg_started")
fi
trap '[ -n "$pg_started" ] && scripts/postgres.sh stop "$pg_started" >/dev/null 2>&1 || true' EXIT
echo
GRAPHQL_DATABASE_URL=$POSTGRES_URL python3 Benchmarks/graphql_jwt.py "$BIN"
