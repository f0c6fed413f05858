# Shared by the benchmark scripts: a release build, a free loopback port, a scratch folder.
# Sourced after `cd` to the repository root; sets BIN, PORT, BASE (with a trailing slash) and data.
# BIN may name another build (Benchmarks/edge.sh compares two); otherwise this tree's release build.
if [ -z "${BIN:-}" ]; then
  swift build -c release >/dev/null
  BIN=.build/release/tessera
fi
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
BASE="http://127.0.0.1:$PORT/"
data=$(mktemp -d "/tmp/tessera-bench-$1.XXXXXX")

# Starts `tessera serve` on $PORT with the given extra arguments, stops it (and removes $data) on exit, and waits
# until it answers. The server's output goes to $data/stdout.log and $data/stderr.log.
serve_tessera() {
  "$BIN" serve --port "$PORT" --data-dir "$data" --log-level warning "$@" >"$data/stdout.log" 2>"$data/stderr.log" &
  server=$!
  trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
  for _ in $(seq 300); do curl -sf "${BASE}healthz" >/dev/null && return; sleep 0.1; done
  echo "tessera did not start" >&2; cat "$data/stderr.log" >&2; exit 1
}

# The example tenant's secrets for benchmarks (never a real deployment's): the demo workspace's admin token, which
# signs its JWTs, and the demo user's password.
export TINYBIRD_ADMIN_TOKEN=bench-workspace-admin-token-0123456789abcdef TESSERA_DEMO_PASSWORD=Bench-Passw0rd-x1

# Starts Tessera with the example tenant (the demo workspace, its 3,000 sales and the sales_by_city pipe).
serve_demo() {
  serve_tessera --apply examples/tessera.yaml
}
