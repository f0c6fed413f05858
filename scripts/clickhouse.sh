#!/usr/bin/env bash
# A throwaway ClickHouse on loopback for tests and benchmarks, from Debian's clickhouse-server (18.16):
#   scripts/clickhouse.sh start DIR      one server; prints its HTTP URL (http://127.0.0.1:PORT)
#   scripts/clickhouse.sh cluster DIR    two servers, each with a `tessera_cluster` of two shards (one per server);
#                                        prints both HTTP URLs, space-separated
#   scripts/clickhouse.sh stop DIR       stops what `start` or `cluster` started there and removes DIR
#   scripts/clickhouse.sh serve DIR PORT one server on PORT whose data stays in DIR across runs (`make run` with
#                                        TESSERA_ANALYTICS_ENGINE=clickhouse); prints its URL
#   scripts/clickhouse.sh halt DIR       stops what `serve` started, keeping the data
# Everything (data, logs, config) lives in DIR; nothing listens beyond 127.0.0.1.
set -euo pipefail
command=${1:?usage: clickhouse.sh start|cluster|stop DIR}
root=${2:?usage: clickhouse.sh start|cluster|stop DIR}
server=${CLICKHOUSE_SERVER:-/usr/sbin/clickhouse-server}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# write_config NAME HTTP TCP INTERSERVER SHARD_TCP_PORTS...
write_config() {
  local name=$1 http=$2 tcp=$3 interserver=$4; shift 4
  local dir="$root/$name"
  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/log"
  local shards=""
  for port in "$@"; do
    shards+="<shard><replica><host>127.0.0.1</host><port>$port</port></replica></shard>"
  done
  cat > "$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/error.log</errorlog><size>10M</size><count>2</count></logger>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <interserver_http_port>$interserver</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <listen_host>127.0.0.1</listen_host>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <remote_servers><tessera_cluster>$shards</tessera_cluster></remote_servers>
  <macros><shard>$name</shard><replica>$name</replica></macros>
</yandex>
XML
  cat > "$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage><load_balancing>random</load_balancing></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  echo "$http" > "$dir/http_port"
}

start_server() {
  local dir="$root/$1"
  "$server" --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 &
  echo $! > "$dir/pid"
}

wait_for() {
  local dir="$root/$1" port
  port=$(cat "$dir/http_port")
  for _ in $(seq 300); do
    if [ "$(curl -s "http://127.0.0.1:$port/ping" 2>/dev/null)" = "Ok." ]; then echo "http://127.0.0.1:$port"; return; fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "clickhouse-server ($1) did not start:" >&2
  tail -20 "$dir/log/error.log" "$dir/log/stdout.log" >&2 2>/dev/null || true
  exit 1
}

case "$command" in
  start)
    [ -x "$server" ] || { echo "$server is missing: apt-get install -y clickhouse-server" >&2; exit 1; }
    mkdir -p "$root"
    tcp=$(free_port)
    write_config single "$(free_port)" "$tcp" "$(free_port)" "$tcp"
    start_server single
    wait_for single
    ;;
  cluster)
    [ -x "$server" ] || { echo "$server is missing: apt-get install -y clickhouse-server" >&2; exit 1; }
    mkdir -p "$root"
    tcp1=$(free_port); tcp2=$(free_port)
    write_config shard1 "$(free_port)" "$tcp1" "$(free_port)" "$tcp1" "$tcp2"
    write_config shard2 "$(free_port)" "$tcp2" "$(free_port)" "$tcp1" "$tcp2"
    start_server shard1
    start_server shard2
    echo "$(wait_for shard1) $(wait_for shard2)"
    ;;
  stop)
    for pidfile in "$root"/*/pid; do
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$root"
    ;;
  serve)
    [ -x "$server" ] || { echo "$server is missing: apt-get install -y clickhouse-server" >&2; exit 1; }
    port=${3:?usage: clickhouse.sh serve DIR PORT}
    mkdir -p "$root"
    if [ -f "$root/single/pid" ] && kill -0 "$(cat "$root/single/pid")" 2>/dev/null; then
      echo "http://127.0.0.1:$(cat "$root/single/http_port")"; exit 0
    fi
    tcp=$(free_port)
    write_config single "$port" "$tcp" "$(free_port)" "$tcp"
    start_server single
    wait_for single
    ;;
  halt)
    pidfile="$root/single/pid"
    if [ -f "$pidfile" ]; then
      pid=$(cat "$pidfile")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi
    ;;
  *) echo "usage: clickhouse.sh start|cluster|stop DIR, serve DIR PORT, halt DIR" >&2; exit 2 ;;
esac
