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

# STORE=sqlite (default) or postgres: the main store the server runs on. For postgres a loopback PostgreSQL is started
# as `make test` starts it (scripts/postgres.sh, in a folder of its own since PostgreSQL runs as its own user), with a
# master key sealing the signing keys; `store_args` is what `tessera serve` then needs, `stop_store` stops it.
STORE=${STORE:-sqlite}
store_dir=""
STORE_URL=""
case "$STORE" in
  sqlite) ;;
  postgres)
    store_dir=$(mktemp -d "/tmp/tessera-bench-pg.XXXXXX")
    chmod 755 "$store_dir"  # PostgreSQL runs as its own user when we are root
    STORE_URL=$(scripts/postgres.sh start "$store_dir/pg")
    export TESSERA_MASTER_KEY=${TESSERA_MASTER_KEY:-bench-master-key-0123456789abcdef0123456789abcdef}
    export TESSERA_DATABASE_URL=$STORE_URL  # the one-shot commands (`tessera token create`) read the same store
    trap 'scripts/postgres.sh stop "$store_dir/pg"; rm -rf "$store_dir" "$data"' EXIT  # until serve_tessera's trap
    ;;
  *) echo "STORE is sqlite or postgres, not $STORE" >&2; exit 2 ;;
esac
store_args() { [ -n "$STORE_URL" ] && echo "--database $STORE_URL" || true; }
stop_store() { [ -n "$store_dir" ] && { scripts/postgres.sh stop "$store_dir/pg"; rm -rf "$store_dir"; } || true; }

# Starts `tessera serve` on $PORT with the given extra arguments, stops it (and removes $data) on exit, and waits
# until it answers. The server's output goes to $data/stdout.log and $data/stderr.log.
serve_tessera() {
  # shellcheck disable=SC2046  # store_args is words by design
  "$BIN" serve --port "$PORT" --data-dir "$data" --log-level warning $(store_args) "$@" >"$data/stdout.log" 2>"$data/stderr.log" &
  server=$!
  trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; stop_store; rm -rf "$data"' EXIT
  for _ in $(seq 300); do curl -sf "${BASE}healthz" >/dev/null && return; sleep 0.1; done
  echo "tessera did not start" >&2; cat "$data/stderr.log" >&2; exit 1
}

# The example tenant's secrets for benchmarks (never a real deployment's): the demo workspace's admin token, which
# signs its JWTs, and the demo user's password.
export TINYBIRD_ADMIN_TOKEN=bench-workspace-admin-token-0123456789abcdef TESSERA_DEMO_PASSWORD=Bench-Passw0rd-x1
# The rest of what examples/tessera.yaml reads (the Makefile exports the same for `make bench`).
export DIRECTORY_SYNC_CLIENT_SECRET=${DIRECTORY_SYNC_CLIENT_SECRET:-bench-directory-sync-secret-0123456789abcdef}
export USERHUB_ADMIN_KEY=${USERHUB_ADMIN_KEY:-userhub_admin_bench-0123456789} USERHUB_API_KEY=${USERHUB_API_KEY:-userhub_admin_bench-action-0123456789}
export HASURA_GRAPHQL_ADMIN_SECRET=${HASURA_GRAPHQL_ADMIN_SECRET:-bench-hasura-admin-secret}

# Starts Tessera with the example tenant (the demo workspace, its 3,000 sales and the sales_by_city pipe).
serve_demo() {
  serve_tessera --apply examples/tessera.yaml
}
