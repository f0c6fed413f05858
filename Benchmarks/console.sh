#!/usr/bin/env bash
# First paint of every console section page in Chromium, as interop/test_console.py measures it (performance
# 'first-paint' after a fresh navigation, signed in, on make run's example tenant). ROUNDS runs of the test, each
# with its own server; prints the median and the worst per page. BIN=… picks the binary (default: the debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
bin=${BIN:-$PWD/.build/debug/tessera}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in $(seq "$rounds"); do
  (cd interop && TESSERA_BIN="$bin" python3 -m pytest -q -p no:cacheprovider test_console.py -k "sign_in_returns_to_the_page_it_left or every_section_page" >/dev/null)
  cp interop/artifacts/console-first-paint.json "$out/round-$round.json"
done
python3 - "$out" "$rounds" "$bin" <<'PY'
import json, pathlib, statistics, sys
folder, rounds, binary = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
runs = [json.loads(p.read_text()) for p in sorted(folder.glob("round-*.json"))]
print(f"console first paint, {rounds} rounds, binary {binary}")
print("| page | median (ms) | worst (ms) |")
print("|---|---|---|")
for page in runs[0]:
    values = [run[page] for run in runs if run.get(page) is not None]
    print(f"| `{page}` | {statistics.median(values):.0f} | {max(values):.0f} |")
PY
