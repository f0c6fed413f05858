#!/usr/bin/env bash
# Issue 15's figures, in one run on loopback: (1) the directory's first import of USERS users from Tessera's own
# Management API (users/s, and the server's peak resident memory), then a second pass over the same users; (2) what
# seed 003's UserHub Action adds to a sign-in (single sign-on /authorize with the action bound and unbound, in
# alternating blocks). Users are seeded straight into the stopped server's SQLite store (bcrypt would make the API
# path take hours); the directory then reads them through GET /api/v2/users like any Auth0 tenant's.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${USERS:-100000}
ROUNDS=${ROUNDS:-6}
PER_ROUND=${PER_ROUND:-200}
. Benchmarks/common.sh directory
export BENCH_SYNC_SECRET=bench-directory-sync-secret-0123456789abcdef BENCH_ADMIN_KEY=userhub_admin_bench-0123456789abcdef
export BENCH_ACTION_KEY=userhub_admin_bench-auth0-action-0123456789abcdef
tenant() {  # $1: with the connection (the import starts when the server does) or not
  cat <<YAML
applications:
  - { name: Bench SPA, type: spa, callbacks: ["http://127.0.0.1:9/callback"] }
  - name: Directory sync
    type: m2m
    client_secret: "\${BENCH_SYNC_SECRET}"
    grants: [{ audience: management, scopes: [read:users] }]
users:
  - { email: bench@example.com, password: "Bench-Passw0rd" }
outbound: { allow: ["127.0.0.1"] }
directory:
  resync_interval: "0"
  api_keys:
    - { description: bench admin, key: "\${BENCH_ADMIN_KEY}" }
    - { description: bench action, key: "\${BENCH_ACTION_KEY}", integration: auth0 }
YAML
  if [ "$1" = with ]; then cat <<YAML
  connections:
    - { id: conn_bench, name: Tessera, domain: "http://127.0.0.1:$PORT", application: Directory sync, client_secret: "\${BENCH_SYNC_SECRET}" }
YAML
  fi
}
tenant without >"$data/tenant.yaml"
serve_tessera --apply "$data/tenant.yaml"
spa=$(grep "application Bench SPA" "$data/stdout.log" | sed 's/.*client_id \(.*\))/\1/')
kill -TERM "$server"; wait "$server" 2>/dev/null || true
echo "== seeding $USERS users" >&2
python3 Benchmarks/seed_users.py "$data/tessera.sqlite" "$USERS" >/dev/null
tenant with >"$data/tenant.yaml"
echo "== first import" >&2
serve_tessera --apply "$data/tenant.yaml"
import=$(python3 - "$BASE" "$BENCH_ADMIN_KEY" "$server" <<'PY'
import json, sys, time, urllib.request
from datetime import datetime
base, key, pid = sys.argv[1:4]
def get(path, method="GET", body=None):
    request = urllib.request.Request(base + path, method=method, data=body, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=3600) as response:
        return json.load(response)
def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
def hwm():
    return next(int(line.split()[1]) for line in open(f"/proc/{pid}/status") if line.startswith("VmHWM"))
deadline = time.time() + 1800
while True:
    sync = get("admin/v1/connections/conn_bench")["sync"]
    if not sync["running"] and "lastPullTime" in sync:
        break
    if time.time() > deadline:
        sys.exit("the import did not finish in 30 minutes")
    time.sleep(0.5)
seconds = (parse(sync["lastPullTime"]) - parse(sync["startTime"])).total_seconds()
users = sync["lastPassUsers"]
memory = hwm()
started = time.perf_counter()
again = get("admin/v1/connections/conn_bench:sync", "POST", b'{"wait": true}')["sync"]
second = time.perf_counter() - started
print("| pass | users | seconds | users/s | peak RSS |\n|---|---|---|---|---|")
print(f"| first import (empty directory) | {users:,} | {seconds:.1f} | **{users / seconds:,.0f}** | {memory / 1024:.0f} MiB |")
print(f"| second pass (no changes) | {again['lastPassUsers']:,} | {second:.1f} | **{again['lastPassUsers'] / second:,.0f}** | {hwm() / 1024:.0f} MiB |")
PY
)
echo "== /authorize with and without seed 003's action" >&2
flow=$(python3 Benchmarks/actions_signin.py "$BASE" "$data/admin-client.json" "$spa" "http://127.0.0.1:9/callback" \
       bench@example.com Bench-Passw0rd "$ROUNDS" "$PER_ROUND" examples/actions/userhub.js \
       "{\"API_KEY\": \"$BENCH_ACTION_KEY\", \"CONNECTION_ID\": \"conn_bench\"}" "seed 003 UserHub action")
cat <<MD
Machine: $(nproc) cores, $(uname -sr); date: $(date -u +%Y-%m-%d)
Command: \`BIN=<release build> Benchmarks/directory.sh\` (USERS=$USERS, ROUNDS=$ROUNDS, PER_ROUND=$PER_ROUND)

Import from Tessera's Management API over loopback (checkpoint paging, 100 users a page, one transaction a page):
$import

Single sign-on /authorize → code, sequential, Python requests on loopback:
$flow
MD
