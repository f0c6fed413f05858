"""Issue 11's analytics figures against a running Tessera (started by Benchmarks/analytics_scale.sh):
  (a) sales_by_city.json through Tessera (HTTP, JWT, template, JSON) against the same SQL run directly on the same
      SQLite file with Python's sqlite3, one request at a time: what Tessera adds per request;
  (b) Events API NDJSON ingestion, rows/s, into a data source with a sorting key (a covering index) and without;
  (c) GROUP BY city over ROWS rows through the endpoint, against DuckDB scanning the same rows.
Loopback only; every loop is bounded. Prints a Markdown block."""

import json
import os
import random
import sqlite3
import statistics
import sys
import time
import http.client
import urllib.parse
import urllib.request

BASE, TOKEN, ADMIN, DB = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ROWS = int(os.environ.get("ROWS", "1000000"))
BATCH = int(os.environ.get("BATCH", "20000"))
SAMPLES = int(os.environ.get("SAMPLES", "200"))
CITIES = ["Barcelona", "Bilbao", "Lisbon", "Madrid", "Málaga", "Seville", "Valencia", "Zaragoza", "Porto", "Valladolid"]
PRODUCTS = ["backpack", "headphones", "lamp", "mug", "notebook", "pen"]


def request(path, data=None, token=ADMIN):
    req = urllib.request.Request(BASE + path, data=data, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=600) as response:
        return response.read()


KEEP_ALIVE = http.client.HTTPConnection(urllib.parse.urlsplit(BASE).hostname, urllib.parse.urlsplit(BASE).port, timeout=60)


def keep_alive_get(path, token):
    """One request on a kept-alive connection, as a browser or wrk sends them (a new connection per request would
    count TCP set-up as Tessera's time)."""
    KEEP_ALIVE.request("GET", urllib.parse.urlsplit(BASE).path + path, headers={"Authorization": f"Bearer {token}"})
    response = KEEP_ALIVE.getresponse()
    body = response.read()
    assert response.status == 200, body
    return body


def timed(fn, samples):
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), sorted(times)[int(len(times) * 0.99) - 1]


# The pipe's SQL as the engine runs it (the endpoint node over the filtered node, no parameters given).
PIPE_SQL = """WITH "filtered" AS (SELECT city, amount, units FROM sales WHERE 1 = 1)
SELECT city, round(sum(amount), 2) AS revenue, count() AS orders, sum(units) AS units
FROM filtered GROUP BY city ORDER BY revenue DESC LIMIT 50"""


def direct(connection):
    return connection.execute(PIPE_SQL.replace("count()", "count(*)")).fetchall()


def sales_rows(count, seed):
    rng = random.Random(seed)
    lines = []
    for index in range(count):
        lines.append(json.dumps({
            "timestamp": f"2026-10-{rng.randint(1, 30):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00",
            "order_id": f"b-{seed}-{index}", "city": rng.choice(CITIES), "product": rng.choice(PRODUCTS),
            "units": rng.randint(1, 5), "amount": round(rng.uniform(1, 300), 2)}))
    return ("\n".join(lines) + "\n").encode()


out = []
# (a) on the demo's 3,000 rows.
connection = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
direct(connection)
keep_alive_get("v0/pipes/sales_by_city.json", TOKEN)
http_p50, http_p99 = timed(lambda: keep_alive_get("v0/pipes/sales_by_city.json", TOKEN), SAMPLES)
sql_p50, sql_p99 = timed(lambda: direct(connection), SAMPLES)
overhead = http_p50 - sql_p50
target = max(0.1 * sql_p50, 100e-6)
out.append("(a) `sales_by_city.json` (3,000 rows), one request at a time on a kept-alive connection, {} samples each\n".format(SAMPLES))
out.append("| path | p50 | p99 |\n|---|---|---|")
out.append(f"| Tessera: HTTP + JWT + template + JSON | {http_p50 * 1e3:.3f} ms | {http_p99 * 1e3:.3f} ms |")
out.append(f"| the same SQL on the same file (Python sqlite3) | {sql_p50 * 1e3:.3f} ms | {sql_p99 * 1e3:.3f} ms |")
out.append(f"| **Tessera adds (p50)** | **{overhead * 1e6:.0f} µs** (target < {target * 1e6:.0f} µs: "
           f"{'met' if overhead < target else 'missed'}) | |\n")

# (b) ingestion through the Events API.
for name in ("sales", "sales_unsorted"):
    payload = sales_rows(BATCH, seed=7)
    started = time.perf_counter()
    sent = 0
    while sent < ROWS:
        request(f"v0/events?name={name}&wait=true", data=payload)
        sent += BATCH
    elapsed = time.perf_counter() - started
    out.append(f"(b) Events API into `{name}`: {sent:,} rows in {elapsed:.1f} s = **{sent / elapsed:,.0f} rows/s** "
               f"(NDJSON, {BATCH:,} rows a request, `wait=true`)")
out.append("")

# (c) GROUP BY city over the rows now in `sales` (3,000 + ROWS), through the endpoint and on DuckDB.
connection.close()
connection = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
total = connection.execute("SELECT count(*) FROM sales").fetchone()[0]
endpoint_p50, _ = timed(lambda: keep_alive_get("v0/pipes/sales_by_city.json", TOKEN), 5)
direct_p50, _ = timed(lambda: direct(connection), 5)
import csv  # noqa: E402
import tempfile  # noqa: E402

import duckdb  # noqa: E402  (only this part needs it)
with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", delete=False) as handle:
    writer = csv.writer(handle)
    writer.writerow(["timestamp", "order_id", "city", "product", "units", "amount"])
    writer.writerows(connection.execute("SELECT timestamp, order_id, city, product, units, amount FROM sales"))
duck = duckdb.connect()
duck.execute("CREATE TABLE sales AS SELECT * FROM read_csv(?, header = true, columns = {'timestamp': 'VARCHAR', "
             "'order_id': 'VARCHAR', 'city': 'VARCHAR', 'product': 'VARCHAR', 'units': 'USMALLINT', 'amount': 'DOUBLE'})",
             [handle.name])
os.unlink(handle.name)
duck_p50, _ = timed(lambda: duck.execute(PIPE_SQL.replace('"filtered"', "filtered")).fetchall(), 5)
out.append(f"(c) GROUP BY city over {total:,} rows, median of 5\n")
out.append("| engine | time | ÷ DuckDB |\n|---|---|---|")
out.append(f"| Tessera endpoint (`sales_by_city.json`, embedded SQLite, covering sorting-key index) | {endpoint_p50 * 1e3:.0f} ms | {endpoint_p50 / duck_p50:.1f} |")
out.append(f"| the same SQL on the same file (Python sqlite3) | {direct_p50 * 1e3:.0f} ms | {direct_p50 / duck_p50:.1f} |")
out.append(f"| DuckDB {duckdb.__version__} (Python, in memory, same rows) | {duck_p50 * 1e3:.0f} ms | 1.0 |")
print("\n".join(out))
