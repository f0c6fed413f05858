#!/usr/bin/env bash
# Issue 4's benchmark, in one run: what a post-login flow with seed 000's action adds to a sign-in.
# A signed-in browser repeats /authorize (single sign-on: no password, so no bcrypt to drown the difference);
# each one runs the post-login flow and issues a code. Blocks with the flow bound and unbound alternate, so
# both see the same machine. Then executions/s on both cores and resident memory over 10,000 executions.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-6}
PER_ROUND=${PER_ROUND:-200}
EXECUTIONS=${EXECUTIONS:-10000}
. Benchmarks/common.sh actions
cat > "$data/tenant.yaml" <<YAML
applications:
  - { name: Bench SPA, type: spa, callbacks: ["http://127.0.0.1:9/callback"] }
users:
  - { email: bench@example.com, password: "Bench-Passw0rd" }
YAML
serve_tessera --apply "$data/tenant.yaml"
spa=$(grep "application Bench SPA" "$data/stdout.log" | sed 's/.*client_id \(.*\))/\1/')

echo "== /authorize with and without the flow" >&2
flow=$(python3 Benchmarks/actions_signin.py "$BASE" "$data/admin-client.json" "$spa" "http://127.0.0.1:9/callback" \
       bench@example.com Bench-Passw0rd "$ROUNDS" "$PER_ROUND")
echo "== tessera speed action" >&2
speed=$("$BIN" speed action --code examples/actions/tinybird-jwt.js \
        --secrets '{"TINYBIRD_ADMIN_TOKEN":"p.bench-admin-token-0123456789abcdef"}' \
        --configuration-json '{"TINYBIRD_WORKSPACE_ID":"w","TINYBIRD_PIPE_NAMES":"sales_by_city"}' --executions "$EXECUTIONS")
cat <<MD
Machine: $(nproc) cores, $(uname -sr); date: $(date -u +%Y-%m-%d)
Command: \`Benchmarks/actions.sh\` (ROUNDS=$ROUNDS, PER_ROUND=$PER_ROUND, EXECUTIONS=$EXECUTIONS), release build

Single sign-on /authorize → code, sequential, Python requests on loopback:
$flow

\`tessera speed action\` (seed 000 verbatim, 2 workers):
$speed
MD
