#!/usr/bin/env bash
# Issue 18's multi-instance load: two `tessera serve` on one loopback PostgreSQL, each with its own data folder,
# loaded alternately (one wrk per instance, at the same time) with client-credentials tokens, then password sign-ins,
# then both kinds at once; halfway through the mixed load the first instance rotates a client secret that the other
# one must stop accepting. Every response must be a 2xx except those expected for the rotated secret.
# Loopback only, bounded in time (3 loads of DURATION seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
STORE=postgres
. Benchmarks/common.sh instances
PORT2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE2="http://127.0.0.1:$PORT2/"
cat > "$data/tenant.yaml" <<YAML
apis:
  - { identifier: "https://bench.api/", scopes: [read:rows] }
applications:
  - { name: Bench M2M, type: m2m, grants: [{ audience: "https://bench.api/", scopes: [read:rows] }] }
  - { name: Rotated M2M, type: m2m, grants: [{ audience: "https://bench.api/", scopes: [read:rows] }] }
  - { name: Bench Web, type: regular_web, callbacks: ["http://127.0.0.1:9/callback"], grant_types: [password] }
users:
  - { email: bench@example.com, password: "Bench-Passw0rd" }
YAML
# Both instances serve one tenant, as behind one load balancer: one issuer.
serve_tessera --issuer "$BASE" --apply "$data/tenant.yaml"
mkdir -p "$data/second"
# shellcheck disable=SC2046
"$BIN" serve --port "$PORT2" --issuer "$BASE" --data-dir "$data/second" --log-level warning $(store_args) >"$data/second.log" 2>&1 &
second=$!
trap 'kill -TERM $server $second 2>/dev/null; wait $server $second 2>/dev/null; stop_store; rm -rf "$data"' EXIT
for _ in $(seq 300); do curl -sf "${BASE2}healthz" >/dev/null && break; sleep 0.1; done
curl -sf "${BASE2}healthz" >/dev/null || { echo "the second instance did not start" >&2; cat "$data/second.log" >&2; exit 1; }

secret_of() { grep "new client secret for $1" "$data/stdout.log" | sed 's/.*shown once: //'; }
id_of() { grep "new client secret for $1" "$data/stdout.log" | sed 's/.*client_id \([^)]*\)).*/\1/'; }
m2m=$(id_of "Bench M2M"); m2m_secret=$(secret_of "Bench M2M")
web=$(id_of "Bench Web"); web_secret=$(secret_of "Bench Web")
audience="https%3A%2F%2Fbench.api%2F"
tokens_body="grant_type=client_credentials&client_id=$m2m&client_secret=$m2m_secret&audience=$audience"
password_body="grant_type=password&client_id=$web&client_secret=$web_secret&username=bench%40example.com&password=Bench-Passw0rd&scope=openid&audience=$audience"

# One wrk per instance at once ("alternating clients" rather than a proxy, so no third process shares the cores).
both() {  # name body_for_first body_for_second connections_each
  BODY="$2" wrk -t1 -c"$4" -d"${DURATION}s" --latency -s Benchmarks/token.lua "${BASE}oauth/token" >"$data/$1-a.txt" &
  local a=$!
  BODY="$3" wrk -t1 -c"$4" -d"${DURATION}s" --latency -s Benchmarks/token.lua "${BASE2}oauth/token" >"$data/$1-b.txt" &
  local b=$!
  if [ "$1" = mixed ]; then
    sleep $((DURATION / 2))
    python3 Benchmarks/rotate_check.py "$BASE" "$BASE2" "$data/admin-client.json" "$(id_of 'Rotated M2M')" \
      "$(secret_of 'Rotated M2M')" "https://bench.api/" >"$data/rotation.txt"
  fi
  wait $a $b
}
# requests/s on each instance | non-2xx and socket errors, both | p99 on each
summary() {
  python3 - "$data/$1-a.txt" "$data/$1-b.txt" <<'PY'
import re, sys
rps, errors, p99 = [], 0, []
for path in sys.argv[1:]:
    text = open(path).read()
    rps.append(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors += int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors += sum(map(int, m.groups())) if m else 0
    p99.append(re.search(r"^\s+99%\s+(\S+)", text, re.MULTILINE).group(1))
print(f"{' + '.join(rps)} | {errors} | {' / '.join(p99)}")
PY
}

echo "== openssl speed -multi 2 rsa2048, tessera speed bcrypt" >&2
rsa_signs=$(openssl speed -multi 2 -seconds "$DURATION" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
bcrypt=$("$BIN" speed bcrypt --seconds "$DURATION" | awk '{print $1}')
echo "== client credentials on both" >&2
both tokens "$tokens_body" "$tokens_body" 16
echo "== password sign-ins on both" >&2
both signins "$password_body" "$password_body" 2
echo "== tokens on the first, sign-ins on the second, a secret rotated halfway" >&2
both mixed "$tokens_body" "$password_body" 8
cat <<MD
Machine: $(nproc) cores, $(uname -sr); date: $(date -u +%Y-%m-%d)
Command: \`Benchmarks/instances.sh\` (DURATION=$DURATION s per load): two instances, one PostgreSQL, one wrk per instance at once

RSA-2048 signs/s (\`openssl speed -multi 2\`): $rsa_signs; bcrypt verifications/s, cost 10 (\`tessera speed bcrypt\`): $bcrypt

| load (both instances at once) | requests/s, first + second | non-2xx + socket errors | p99 first / second |
|---|---|---|---|
| client-credentials tokens (\`wrk -t1 -c16\` on each) | $(summary tokens) |
| password sign-ins (\`wrk -t1 -c2\` on each) | $(summary signins) |
| tokens on the first (\`-c8\`), sign-ins on the second (\`-c8\`) | $(summary mixed) |

Secret rotated on the first instance halfway through the mixed load: $(cat "$data/rotation.txt")
MD
