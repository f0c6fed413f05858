#!/usr/bin/env bash
# Issue 3's benchmarks, in one run: password sign-ins/s (resource-owner password grant, which is one bcrypt
# verification plus minting two RS256 tokens) against this machine's raw bcrypt verification rate at the
# same cost, and p50/p99 of the authorization-code exchange. Loopback only, bounded in time and count.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15}
CODES=${CODES:-200}
. Benchmarks/common.sh signin
cat > "$data/tenant.yaml" <<YAML
apis:
  - { identifier: "https://bench.api/", allow_offline_access: true, scopes: [read:rows] }
applications:
  - { name: Bench SPA, type: spa, callbacks: ["http://127.0.0.1:9/callback"] }
  - { name: Bench Web, type: regular_web, callbacks: ["http://127.0.0.1:9/callback"], grant_types: [password, refresh_token] }
users:
  - { email: bench@example.com, password: "Bench-Passw0rd" }
YAML
serve_tessera --apply "$data/tenant.yaml"
spa=$(grep "application Bench SPA" "$data/stdout.log" | sed 's/.*client_id \(.*\))/\1/')
web=$(grep "new client secret for Bench Web" "$data/stdout.log" | sed 's/.*client_id \([^)]*\)).*/\1/')
web_secret=$(grep "new client secret for Bench Web" "$data/stdout.log" | sed 's/.*shown once: //')

echo "== tessera speed bcrypt" >&2
bcrypt=$("$BIN" speed bcrypt --seconds "$DURATION" | awk '{print $1}')
echo "== wrk password grant" >&2
export BODY="grant_type=password&client_id=$web&client_secret=$web_secret&username=bench%40example.com&password=Bench-Passw0rd&scope=openid&audience=https%3A%2F%2Fbench.api%2F"
wrk -t2 -c4 -d"${DURATION}s" --latency -s Benchmarks/token.lua "${BASE}oauth/token" >"$data/password.txt"
signins=$(awk '/Requests\/sec/ {print $2}' "$data/password.txt")
non2xx=$(awk '/Non-2xx/ {print $5}' "$data/password.txt")
echo "== code exchange" >&2
exchange=$(python3 Benchmarks/code_exchange.py "$BASE" "$spa" "http://127.0.0.1:9/callback" bench@example.com Bench-Passw0rd "$CODES")
ratio=$(python3 -c "print(f'{float(\"$signins\")/float(\"$bcrypt\"):.2f}')")
cat <<MD
Machine: $(nproc) cores, $(uname -sr); date: $(date -u +%Y-%m-%d)
Command: \`Benchmarks/signin.sh\` (DURATION=$DURATION s, CODES=$CODES), release build, bcrypt cost 10

| measure | value |
|---|---|
| bcrypt verifications/s, cost 10, 2 workers (\`tessera speed bcrypt\`) | $bcrypt |
| password sign-ins/s (\`wrk -t2 -c4\`, grant_type=password: bcrypt + 2 RS256 tokens) | $signins |
| **sign-ins/s ÷ bcrypt verifications/s** | **$ratio** |
| non-2xx responses | ${non2xx:-0} |
| authorization-code exchange (sequential, Python requests on loopback) | $exchange |
MD
