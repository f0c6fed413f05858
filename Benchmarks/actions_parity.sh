#!/usr/bin/env bash
# Issue 16's benchmark, in one run: what a redirect Action's round trip and an MFA challenge add to a sign-in, and
# a ManagementClient call's latency from inside an Action, on loopback (see Benchmarks/actions_parity.py).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
PER_ROUND=${PER_ROUND:-100}
USERS=${USERS:-40}
. Benchmarks/common.sh parity
cat > "$data/tenant.yaml" <<YAML
applications:
  - { name: Bench SPA, type: spa, callbacks: ["http://127.0.0.1:9/callback"] }
YAML
serve_tessera --apply "$data/tenant.yaml"
spa=$(grep "application Bench SPA" "$data/stdout.log" | sed 's/.*client_id \(.*\))/\1/')
table=$(python3 Benchmarks/actions_parity.py "$BASE" "$data/admin-client.json" "$spa" "http://127.0.0.1:9/callback" \
        "$ROUNDS" "$PER_ROUND" "$USERS")
cat <<MD
Machine: $(nproc) cores, $(uname -sr); date: $(date -u +%Y-%m-%d)
Command: \`Benchmarks/actions_parity.sh\` (ROUNDS=$ROUNDS, PER_ROUND=$PER_ROUND, USERS=$USERS), release build

$table
MD
