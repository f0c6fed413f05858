"""Issue 11's analytics figures against a running Tessera (started by Benchmarks/analytics_scale.sh):
  (a) sales_by_city.json through Tessera (HTTP, JWT, template, JSON) against the same SQL run directly on the same
      SQLite file with Python's sqlite3, one request at a time: what Tessera adds per request;
  (b) Events API NDJSON ingestion, rows/s, into a data source without a sorting key, the same with a materialized view
      attached, and into one with a sorting key (a covering index);
  (c) GROUP BY city over the rows through the endpoint, raw and through a materialized view (AggregatingMergeTree,
      populated from the rows), against DuckDB scanning the same rows.
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

from timing import timed

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

def create_view(name, source, target):
    """An AggregatingMergeTree target per city and the materialized pipe that feeds it from `source`."""
    fields = urllib.parse.urlencode({
        "name": target, "mode": "create", "engine": "AggregatingMergeTree", "engine_sorting_key": "city",
        "schema": "`city` String, `orders` AggregateFunction(count), `revenue` AggregateFunction(sum, Float64), "
                  "`units` AggregateFunction(sum, UInt16)"}).encode()
    request("v0/datasources", data=fields)
    pipe = (f"NODE by_city\nSQL >\n    SELECT city, countState() AS orders, sumState(amount) AS revenue, sumState(units) AS units\n"
            f"    FROM {source} GROUP BY city\n\nTYPE MATERIALIZED\nDATASOURCE {target}\n")
    request(f"v0/pipes?name={name}", data=pipe.encode())


def ingest(name, rows):
    payload = sales_rows(BATCH, seed=7)
    started = time.perf_counter()
    sent = 0
    while sent < rows:
        request(f"v0/events?name={name}&wait=true", data=payload)
        sent += BATCH
    return sent, time.perf_counter() - started


# (b) ingestion through the Events API.
for name, label in (("sales_unsorted", "`sales_unsorted` (no sorting key)"),
                    ("sales_unsorted", "`sales_unsorted` with a materialized view attached (AggregatingMergeTree per city)"),
                    ("sales", "`sales` (sorting key: a covering index)")):
    if "materialized" in label:
        create_view("unsorted_mv", "sales_unsorted", "unsorted_by_city_mv")
    sent, elapsed = ingest(name, ROWS)
    out.append(f"(b) Events API into {label}: {sent:,} rows in {elapsed:.1f} s = **{sent / elapsed:,.0f} rows/s** "
               f"(NDJSON, {BATCH:,} rows a request, `wait=true`)")
out.append("")

# (c) GROUP BY city over the rows now in `sales` (3,000 + ROWS): raw through the endpoint, through a materialized view
# populated from them, straight on the file, and on DuckDB.
connection.close()
connection = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
total = connection.execute("SELECT count(*) FROM sales").fetchone()[0]
create_view("sales_mv", "sales", "sales_by_city_mv")
started = time.perf_counter()
request("v0/pipes/sales_mv/nodes/by_city/population?truncate=true", data=b"")
populate_seconds = time.perf_counter() - started
request("v0/pipes?name=sales_by_city_from_mv", data=(
    "NODE endpoint\nSQL >\n    SELECT city, round(sumMerge(revenue), 2) AS revenue, countMerge(orders) AS orders, "
    "sumMerge(units) AS units\n    FROM sales_by_city_mv GROUP BY city ORDER BY revenue DESC LIMIT 50\n\nTYPE ENDPOINT\n").encode())
raw_answer = json.loads(keep_alive_get("v0/pipes/sales_by_city.json", ADMIN))["data"]
view_answer = json.loads(keep_alive_get("v0/pipes/sales_by_city_from_mv.json", ADMIN))["data"]
assert raw_answer == view_answer, (raw_answer, view_answer)
endpoint_p50, _ = timed(lambda: keep_alive_get("v0/pipes/sales_by_city.json", ADMIN), 5)
view_p50, _ = timed(lambda: keep_alive_get("v0/pipes/sales_by_city_from_mv.json", ADMIN), 50)
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
out.append(f"(c) GROUP BY city over {total:,} rows (the two endpoints' answers compared equal first), median of 5 (50 for the view)\n")
out.append("| engine | time | ÷ DuckDB |\n|---|---|---|")
out.append(f"| Tessera endpoint over a materialized view (`sales_by_city_from_mv.json`, {len(view_answer)} rows of states) | {view_p50 * 1e3:.2f} ms | {view_p50 / duck_p50:.2f} |")
out.append(f"| Tessera endpoint, raw (`sales_by_city.json`, embedded SQLite, covering sorting-key index) | {endpoint_p50 * 1e3:.0f} ms | {endpoint_p50 / duck_p50:.1f} |")
out.append(f"| the same SQL on the same file (Python sqlite3) | {direct_p50 * 1e3:.0f} ms | {direct_p50 / duck_p50:.1f} |")
out.append(f"| DuckDB {duckdb.__version__} (Python, in memory, same rows) | {duck_p50 * 1e3:.0f} ms | 1.0 |")
out.append(f"\nPopulating the view from the {total:,} rows (`POST /v0/pipes/sales_mv/nodes/by_city/population?truncate=true`): {populate_seconds:.2f} s")
print("\n".join(out))
