#!/usr/bin/env bash
# Installs what `make run`, `make test` or `make bench` need and the machine lacks: Debian packages
# (when we may run apt-get) and the interop suite's PyPI packages.
set -euo pipefail
purpose=${1:-run}
command -v swift >/dev/null || { echo "Swift 6.2 or newer is required (https://swift.org/install)" >&2; exit 1; }

packages=()
# Every build links the system's OpenSSL libcrypto (RS256 signing) and JavaScriptCore (Actions).
[ -f /usr/include/openssl/evp.h ] || packages+=(libssl-dev)
[ -f /usr/include/zlib.h ] || packages+=(zlib1g-dev)
pkg-config --exists javascriptcoregtk-4.1 2>/dev/null || packages+=(libjavascriptcoregtk-4.1-dev)
command -v pkg-config >/dev/null || packages+=(pkg-config)
case "$purpose" in
  run)
    # `TESSERA_ANALYTICS_ENGINE=clickhouse make run` runs the demo workspace on a local ClickHouse.
    if [ "${TESSERA_ANALYTICS_ENGINE:-embedded}" = clickhouse ] && [ -z "${TESSERA_CLICKHOUSE_URL:-}" ]; then
      [ -x /usr/sbin/clickhouse-server ] || packages+=(clickhouse-server)
    fi
    ;;
  test)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
    [ -x /usr/bin/chromium ] || packages+=(chromium)
    [ -x /usr/bin/chromedriver ] || packages+=(chromium-driver)
    # The console's code editors (optional at run time; interop/test_console_editor.py tests them).
    [ -f /usr/share/javascript/codemirror/lib/codemirror.js ] || packages+=(libjs-codemirror)
    [ -x /usr/sbin/clickhouse-server ] || packages+=(clickhouse-server)
    # Offline country lookups for Actions' event.request.geoip (optional at run time; tested here).
    [ -f /usr/share/GeoIP/GeoIP.dat ] || packages+=(geoip-database)
    ls /usr/lib/*/libGeoIP.so.1 >/dev/null 2>&1 || packages+=(libgeoip1)
    ;;
  bench)
    command -v wrk >/dev/null || packages+=(wrk)
    command -v openssl >/dev/null || packages+=(openssl)
    # `make bench STORE=postgres|both` runs the server on a loopback PostgreSQL.
    if [ "${STORE:-sqlite}" != sqlite ]; then
      ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
    fi
    ;;
esac
if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  elif command -v sudo >/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    echo "Please install: ${packages[*]}" >&2; exit 1
  fi
fi
if [ "$purpose" = test ] || [ "$purpose" = bench ]; then
  python3 -m pip install -q --disable-pip-version-check -r interop/requirements.txt
fi
# axe-selenium-python 3.0.0 (axe-core 4.10.2, for interop/console_support.py) declares Requires-Python >=3.12, but its
# code runs on the 3.11 this machine has; pip passes it over there unless told not to, which a requirements file
# cannot say for one line. Its dependencies, selenium and pytest, are in interop/requirements.txt.
if [ "$purpose" = test ]; then
  python3 -m pip install -q --disable-pip-version-check --no-deps --ignore-requires-python "axe-selenium-python==3.0.0"
fi
# Tinybird's own CLI for interop/test_tb_cli.py, in a virtual environment of its own: its pinned dependencies would
# clash with the suite's.
if [ "$purpose" = test ]; then
  tb_venv=.build/tb-venv
  if [ ! -x "$tb_venv/bin/tb" ]; then
    mkdir -p .build
    python3 -m venv "$tb_venv"
    "$tb_venv/bin/pip" install -q --disable-pip-version-check "tinybird-cli==6.5.5"
  fi
  # schemathesis for interop/test_contract.py (contract fuzzing against the OpenAPI descriptions), also on its own.
  st_venv=.build/st-venv
  if [ ! -x "$st_venv/bin/st" ]; then
    mkdir -p .build
    python3 -m venv "$st_venv"
    "$st_venv/bin/pip" install -q --disable-pip-version-check "schemathesis==4.32.5"
  fi
fi
