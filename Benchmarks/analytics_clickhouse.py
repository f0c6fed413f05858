"""Issue 17's figures against a running Tessera with two workspaces on the same datafiles, `demo` on the embedded engine
and `demo_ch` on ClickHouse (started by Benchmarks/analytics_clickhouse.sh). Loopback only; every loop is bounded.
Prints a Markdown block."""

import csv
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from timing import timed

BASE, ADMIN, ADMIN_CH, CLICKHOUSE, SCRATCH = sys.argv[1:6]
ROWS = int(os.environ.get("ROWS", "1000000"))
BATCH = int(os.environ.get("BATCH", "20000"))
SAMPLES = int(os.environ.get("SAMPLES", "300"))
DURATION = os.environ.get("DURATION", "10")
CITIES = ["Barcelona", "Bilbao", "Lisbon", "Madrid", "Málaga", "Seville", "Valencia", "Zaragoza", "Porto", "Valladolid"]
PRODUCTS = ["backpack", "headphones", "lamp", "mug", "notebook", "pen"]
# sales_by_city's two nodes as a ClickHouse user writes them: the first as a subquery of the second.
PIPE_SQL = """SELECT city, round(sum(amount), 2) AS revenue, count() AS orders, sum(units) AS units
FROM (SELECT city, amount, units FROM sales WHERE 1 = 1) AS filtered
GROUP BY city ORDER BY revenue DESC LIMIT 50"""


class KeptAlive:
    """One kept-alive connection, as a browser or a service sends requests (a new connection per request would count
    TCP set-up as the server's time)."""

    def __init__(self, base):
        parts = urllib.parse.urlsplit(base)
        self.path = parts.path.rstrip("/")
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)

    def send(self, method, path, body=None, headers=None):
        try:
            self.connection.request(method, self.path + path, body=body, headers=headers or {})
            response = self.connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed an idle kept-alive connection (ClickHouse after 10 s): open a new one, untimed.
            self.connection.close()
            self.connection.request(method, self.path + path, body=body, headers=headers or {})
            response = self.connection.getresponse()
        data = response.read()
        assert response.status in (200, 201), (response.status, data[:300])
        return data


def sales_rows(count, seed):
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        rows.append({"timestamp": f"2026-10-{rng.randint(1, 30):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00",
                     "order_id": f"b-{seed}-{index}", "city": rng.choice(CITIES), "product": rng.choice(PRODUCTS),
                     "units": rng.randint(1, 5), "amount": round(rng.uniform(1, 300), 2)})
    return rows


def ndjson(rows):
    return ("\n".join(json.dumps(row) for row in rows) + "\n").encode()


tessera = KeptAlive(BASE)
clickhouse = KeptAlive(CLICKHOUSE + "/")
out = []

# (a) What Tessera adds to the endpoint over ClickHouse itself, on the demo's 3,000 rows, interleaved.
def via_tessera():
    return tessera.send("GET", "/v0/pipes/sales_by_city.json", headers={"Authorization": f"Bearer {ADMIN_CH}"})


def direct():
    return clickhouse.send("POST", "/?database=bench&output_format_json_quote_64bit_integers=0",
                           body=(PIPE_SQL + "\nFORMAT JSON").encode())


assert [row["revenue"] for row in json.loads(via_tessera())["data"]] == [row["revenue"] for row in json.loads(direct())["data"]]
for _ in range(30):
    via_tessera(), direct()
tessera_times, direct_times = [], []
for _ in range(SAMPLES):
    for fn, times in ((via_tessera, tessera_times), (direct, direct_times)):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
t50, d50 = statistics.median(tessera_times), statistics.median(direct_times)
t99, d99 = (sorted(t)[int(len(t) * 0.99) - 1] for t in (tessera_times, direct_times))
out.append(f"(a) `sales_by_city.json` on the ClickHouse-backed workspace (3,000 rows), one request at a time on a kept-alive "
           f"connection, {SAMPLES} samples each, interleaved\n")
out.append("| path | p50 | p99 |\n|---|---|---|")
out.append(f"| Tessera: HTTP + admin token + template + ClickHouse + JSON | {t50 * 1e3:.3f} ms | {t99 * 1e3:.3f} ms |")
out.append(f"| the same SQL straight to ClickHouse's HTTP port (`FORMAT JSON`) | {d50 * 1e3:.3f} ms | {d99 * 1e3:.3f} ms |")
overhead = t50 - d50
# The same split on a trivial query: what the pipeline costs around any read.
tessera.send("POST", "/v0/pipes?name=one_row", body=b"NODE one\nSQL >\n    SELECT 1 AS one\n\nTYPE ENDPOINT\n",
             headers={"Authorization": f"Bearer {ADMIN_CH}"})
one_tessera, _ = timed(lambda: tessera.send("GET", "/v0/pipes/one_row.json", headers={"Authorization": f"Bearer {ADMIN_CH}"}), SAMPLES)
one_direct, _ = timed(lambda: clickhouse.send("POST", "/?database=bench", body=b"SELECT 1 AS one FORMAT JSON"), SAMPLES)
healthz, _ = timed(lambda: tessera.send("GET", "/healthz"), SAMPLES)
out.append(f"| **Tessera adds (p50)** | **{overhead * 1e3:.3f} ms** (target < 1 ms: {'met' if overhead < 1e-3 else 'missed'}) | |")
out.append(f"| split: `one_row.json` (`SELECT 1`) through Tessera / straight to ClickHouse / Tessera's `/healthz` | "
           f"{one_tessera * 1e3:.3f} / {one_direct * 1e3:.3f} / {healthz * 1e3:.3f} ms | |\n")

# (b) The same ROWS rows into both workspaces, then GROUP BY city on each engine and on DuckDB.
loaded = []
embedded_seconds = clickhouse_seconds = 0.0
for batch in range(ROWS // BATCH):
    rows = sales_rows(BATCH, seed=batch)
    loaded.extend((row["city"], row["units"], row["amount"]) for row in rows)
    body = ndjson(rows)
    for token, name in ((ADMIN, "embedded"), (ADMIN_CH, "clickhouse")):
        started = time.perf_counter()
        tessera.send("POST", "/v0/events?name=sales&wait=true", body=body, headers={"Authorization": f"Bearer {token}"})
        if name == "embedded":
            embedded_seconds += time.perf_counter() - started
        else:
            clickhouse_seconds += time.perf_counter() - started


def endpoint(token):
    return json.loads(tessera.send("GET", "/v0/pipes/sales_by_city.json", headers={"Authorization": f"Bearer {token}"}))["data"]


embedded_answer, clickhouse_answer = endpoint(ADMIN), endpoint(ADMIN_CH)
assert [(r["city"], r["orders"], r["units"]) for r in embedded_answer] == [(r["city"], r["orders"], r["units"]) for r in clickhouse_answer]
embedded_p50, _ = timed(lambda: endpoint(ADMIN), 5)
clickhouse_p50, _ = timed(lambda: endpoint(ADMIN_CH), 20)
import duckdb  # noqa: E402  (only this part needs it)
with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", delete=False, dir=SCRATCH) as handle:
    writer = csv.writer(handle)
    writer.writerow(["city", "units", "amount"])
    writer.writerows(loaded)
duck = duckdb.connect()
duck.execute("CREATE TABLE sales AS SELECT * FROM read_csv(?, header = true, columns = {'city': 'VARCHAR', 'units': 'USMALLINT', 'amount': 'DOUBLE'})",
             [handle.name])
os.unlink(handle.name)
duck_answer = duck.execute(PIPE_SQL.replace("count()", "count(*)")).fetchall()
assert sorted((row[0], row[2]) for row in duck_answer) == sorted((r["city"], r["orders"]) for r in clickhouse_answer if r["city"] in CITIES) \
    or len(duck_answer) == len(CITIES)
duck_p50, _ = timed(lambda: duck.execute(PIPE_SQL.replace("count()", "count(*)")).fetchall(), 20)
total = 3000 + len(loaded)
out.append(f"(b) GROUP BY city over {total:,} rows (the demo's 3,000 and {len(loaded):,} more, the same in both workspaces; the "
           f"endpoints' answers compared equal first), median of 5 (embedded) and 20 (ClickHouse, DuckDB)\n")
out.append("| engine | time | ÷ DuckDB |\n|---|---|---|")
out.append(f"| Tessera endpoint, embedded engine (SQLite, covering sorting-key index) | {embedded_p50 * 1e3:.0f} ms | {embedded_p50 / duck_p50:.1f} |")
out.append(f"| Tessera endpoint, ClickHouse engine (18.16, same machine) | {clickhouse_p50 * 1e3:.1f} ms | {clickhouse_p50 / duck_p50:.2f} |")
out.append(f"| DuckDB {duckdb.__version__} (Python, in memory, the {len(loaded):,} rows) | {duck_p50 * 1e3:.1f} ms | 1.0 |")
out.append(f"\nLoading those rows through the Events API, one {BATCH:,}-row request at a time: embedded "
           f"{len(loaded) / embedded_seconds:,.0f} rows/s, ClickHouse {len(loaded) / clickhouse_seconds:,.0f} rows/s\n")

# (c) Events API ingestion into ClickHouse under load: wrk POSTs the same BATCH-row body from 8 connections, into Tessera
# and, for the ratio, straight into ClickHouse.
body_path = os.path.join(SCRATCH, "batch.ndjson")
with open(body_path, "wb") as handle:
    handle.write(ndjson(sales_rows(BATCH, seed=99)))
def post_script(name, headers):
    """A wrk script that POSTs the batch file with `headers`."""
    path = os.path.join(SCRATCH, name)
    lines = [f'local f = io.open("{body_path}", "rb")', 'wrk.method = "POST"', 'wrk.body = f:read("*a")', "f:close()"]
    lines += [f'wrk.headers["{key}"] = "{value}"' for key, value in headers.items()]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


script = post_script("post.lua", {"Authorization": f"Bearer {ADMIN_CH}"})
direct_script = post_script("post-direct.lua", {})


def wrk(url, script):
    done = subprocess.run(["wrk", "-t2", "-c8", f"-d{DURATION}s", "--timeout", "60s", "-s", script, url],
                          capture_output=True, text=True, check=True)
    rps = float(next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("Requests/sec")))
    bad = next((line for line in done.stdout.splitlines() if "Non-2xx" in line), "")
    return rps * BATCH, bad


insert = urllib.parse.quote("INSERT INTO sales FORMAT JSONEachRow")
tessera_rows, tessera_bad = wrk(BASE + "v0/events?name=sales&wait=true", script)
direct_rows, direct_bad = wrk(f"{CLICKHOUSE}/?database=bench&query={insert}", direct_script)
out.append(f"(c) Events API into the ClickHouse-backed `sales` under load: wrk -t2 -c8 for {DURATION} s, each request "
           f"a {BATCH:,}-row NDJSON body, `wait=true`\n")
out.append("| path | rows/s |\n|---|---|")
out.append(f"| Tessera Events API (checks, quarantine rules, insert buffer) | **{tessera_rows:,.0f}** (target ≥ 200,000: "
           f"{'met' if tessera_rows >= 200_000 else 'missed'}){' ' + tessera_bad if tessera_bad else ''} |")
out.append(f"| the same bodies straight into ClickHouse (`INSERT … FORMAT JSONEachRow`) | {direct_rows:,.0f}{' ' + direct_bad if direct_bad else ''} |")
out.append(f"| **Tessera ÷ direct** | **{tessera_rows / direct_rows:.2f}** |")
print("\n".join(out))
