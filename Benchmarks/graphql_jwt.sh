#!/usr/bin/env bash
# Issue 14's figure: users_by_pk as role user with an RS256 JWT against the same query as admin, in one run
# (see Benchmarks/graphql_jwt.py). Loopback only, bounded. Prints a Markdown block for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BIN:-}" ]; then swift build -c release >/dev/null; BIN=.build/release/tessera; fi
exec python3 Benchmarks/graphql_jwt.py "$BIN"
