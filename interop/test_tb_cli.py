"""Tinybird's own CLI (`tb`, PyPI `tinybird-cli`, unmodified) against a running Tessera.

`make test` installs the CLI into its own virtual environment (`.build/tb-venv`, see scripts/install-deps.sh), since
its pinned dependencies would clash with the suite's; TESSERA_TB may name another `tb`. The CLI runs in a scratch
folder (its `.tinyb` config lives there) with its PyPI update check and its telemetry switched off, as a user on a
network without Tinybird's cloud would run it."""

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import requests

from conftest import TIMEOUT
from test_analytics import ADMIN_TOKEN, expected_revenue, workspace  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TB = ROOT / ".build" / "tb-venv" / "bin" / "tb"


@pytest.fixture(scope="module")
def tb_binary():
    path = os.environ.get("TESSERA_TB") or str(DEFAULT_TB)
    if not os.access(path, os.X_OK):
        pytest.fail(f"tinybird-cli is not installed at {path}: run scripts/install-deps.sh test")
    return path


@pytest.fixture
def tb(tb_binary, server, workspace, tmp_path):
    """Runs `tb ARGS…` in a scratch project folder, authenticated against Tessera; returns the finished process."""
    env = dict(os.environ, TB_VERSION_WARNING="0", TB_CLI_TELEMETRY_OPTOUT="1", HOME=str(tmp_path / "home"),
               XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"))
    env.pop("TB_TOKEN", None)
    env.pop("TB_HOST", None)
    project = tmp_path / "project"
    project.mkdir()
    host = server.base_url.rstrip("/")

    def run(*args, check=True, timeout=120):
        done = subprocess.run([tb_binary, *args], cwd=project, env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        if check:
            assert done.returncode == 0, f"tb {' '.join(args)}\nstdout: {done.stdout}\nstderr: {done.stderr}"
        return done

    auth = run("auth", "--host", host, "--token", ADMIN_TOKEN)
    config = json.loads((project / ".tinyb").read_text())
    assert config["host"] == host and config["id"] == workspace and config["token"] == ADMIN_TOKEN, auth.stdout
    run.project = project
    return run


def test_workspace_current_and_listings(tb):
    current = tb("workspace", "current")
    assert "demo" in current.stdout and "1f484a32-6966-4f63-9312-aadad64d3e12" in current.stdout, current.stdout
    sources = tb("datasource", "ls")
    assert "name: sales" in sources.stdout and "row_count: 3,000" in sources.stdout, sources.stdout
    pipes = tb("pipe", "ls")
    assert "sales_by_city" in pipes.stdout, pipes.stdout
    tokens = tb("token", "ls")
    assert "admin token" in tokens.stdout, tokens.stdout


def test_sql_and_pipe_data_match_the_fixture(tb):
    count = tb("sql", "SELECT count() AS n FROM sales", "--format", "json")
    assert json.loads(count.stdout)["data"] == [{"n": 3000}], count.stdout
    data = tb("pipe", "data", "sales_by_city", "--format", "json", "--limit", "50")
    rows = json.loads(data.stdout)["data"]
    expected = expected_revenue()
    assert {row["city"]: row["revenue"] for row in rows} == {city: round(total, 2) for city, total in expected.items()}
    madrid = tb("pipe", "data", "sales_by_city", "--cities", "Madrid", "--format", "json")
    assert [row["city"] for row in json.loads(madrid.stdout)["data"]] == ["Madrid"], madrid.stdout


def test_push_append_truncate_and_remove_a_data_source(tb, server):
    (tb.project / "visits.datasource").write_text(textwrap.dedent("""\
        DESCRIPTION >
            Page visits.

        SCHEMA >
            `day` Date `json:$.day`,
            `page` String `json:$.page`,
            `n` UInt32 `json:$.n`

        ENGINE "MergeTree"
        ENGINE_SORTING_KEY "day, page"
        """))
    tb("push", "visits.datasource")
    listed = requests.get(server.url("v0/datasources/visits"), params={"token": ADMIN_TOKEN}, timeout=TIMEOUT).json()
    assert [column["name"] for column in listed["schema"]["columns"]] == ["day", "page", "n"]
    assert listed["description"] == "Page visits."
    again = tb("push", "visits.datasource")
    assert "already exists" in again.stdout + again.stderr
    forced = tb("push", "visits.datasource", "--force", "--yes")
    assert forced.returncode == 0

    rows = tb.project / "visits.ndjson"
    rows.write_text('{"day":"2026-12-01","page":"/","n":3}\n{"day":"2026-12-02","page":"/docs","n":5}\n{"day":"bad","page":"/","n":1}\n')
    tb("datasource", "append", "visits", "visits.ndjson")
    total = tb("sql", "SELECT sum(n) AS visits, count() AS rows FROM visits", "--format", "json")
    assert json.loads(total.stdout)["data"] == [{"visits": 8, "rows": 2}], total.stdout
    quarantined = tb("sql", "SELECT count() AS n FROM visits_quarantine", "--format", "json")
    assert json.loads(quarantined.stdout)["data"] == [{"n": 1}], quarantined.stdout

    # A changed file pushed with --force: the new column is added (stored rows take its default) and the description changes.
    (tb.project / "visits.datasource").write_text(textwrap.dedent("""\
        DESCRIPTION >
            Page visits, with where they came from.

        SCHEMA >
            `day` Date `json:$.day`,
            `page` String `json:$.page`,
            `n` UInt32 `json:$.n`,
            `referrer` Nullable(String) `json:$.referrer`

        ENGINE "MergeTree"
        ENGINE_SORTING_KEY "day, page"
        """))
    altered = tb("push", "visits.datasource", "--force", "--yes")
    assert "ADD COLUMN `referrer` Nullable(String)" in altered.stdout, altered.stdout
    described = requests.get(server.url("v0/datasources/visits"), params={"token": ADMIN_TOKEN}, timeout=TIMEOUT).json()
    assert [column["name"] for column in described["schema"]["columns"]] == ["day", "page", "n", "referrer"]
    assert described["description"] == "Page visits, with where they came from."
    rows.write_text('{"day":"2026-12-03","page":"/","n":2,"referrer":"news"}\n')
    tb("datasource", "append", "visits", "visits.ndjson")
    referrers = tb("sql", "SELECT referrer, count() AS n FROM visits GROUP BY referrer ORDER BY n DESC", "--format", "json")
    assert json.loads(referrers.stdout)["data"] == [{"referrer": None, "n": 2}, {"referrer": "news", "n": 1}], referrers.stdout

    tb("datasource", "truncate", "visits", "--yes")
    assert json.loads(tb("sql", "SELECT count() AS n FROM visits", "--format", "json").stdout)["data"] == [{"n": 0}]
    tb("datasource", "rm", "visits", "--yes")
    gone = requests.get(server.url("v0/datasources/visits"), params={"token": ADMIN_TOKEN}, timeout=TIMEOUT)
    assert gone.status_code == 404


def test_push_a_pipe_then_pull_writes_files_that_push_back_unchanged(tb, server):
    (tb.project / "top_products.pipe").write_text(textwrap.dedent("""\
        DESCRIPTION >
            Best-selling products.

        NODE by_product
        SQL >
            %
            SELECT product, sum(units) AS units
            FROM sales
            WHERE city = {{String(city, 'Madrid')}}
            GROUP BY product

        NODE endpoint
        SQL >
            SELECT product, units FROM by_product ORDER BY units DESC, product LIMIT 3

        TYPE ENDPOINT
        """))
    tb("push", "top_products.pipe")
    data = requests.get(server.url("v0/pipes/top_products.json"), params={"token": ADMIN_TOKEN, "city": "Bilbao"},
                        timeout=TIMEOUT).json()
    assert len(data["data"]) == 3, data
    direct = tb("sql", "SELECT product, sum(units) AS units FROM sales WHERE city = 'Bilbao' GROUP BY product "
                "ORDER BY units DESC, product LIMIT 3", "--format", "json")
    assert data["data"] == json.loads(direct.stdout)["data"]

    pulled = tb.project / "pulled"
    pulled.mkdir()
    tb("pull", "--folder", str(pulled))
    pipe_file = pulled / "pipes" / "top_products.pipe"
    source_file = pulled / "datasources" / "sales.datasource"
    assert pipe_file.exists() and source_file.exists(), list(pulled.rglob("*"))
    assert "TYPE ENDPOINT" in pipe_file.read_text() and "`city` LowCardinality(String) `json:$.city`" in source_file.read_text()

    before = requests.get(server.url("v0/pipes/top_products"), params={"token": ADMIN_TOKEN}, timeout=TIMEOUT).json()
    tb("push", str(pipe_file), "--force", "--yes")
    tb("push", str(source_file), "--force", "--yes")
    after = requests.get(server.url("v0/pipes/top_products"), params={"token": ADMIN_TOKEN}, timeout=TIMEOUT).json()
    assert [(node["name"], node["sql"]) for node in after["nodes"]] == [(node["name"], node["sql"]) for node in before["nodes"]]
    assert after["updated_at"] == before["updated_at"], "pushing the pulled file back changed nothing"
    repulled = tb.project / "repulled"
    repulled.mkdir()
    tb("pull", "--folder", str(repulled))
    assert (repulled / "pipes" / "top_products.pipe").read_text() == pipe_file.read_text()
    assert (repulled / "datasources" / "sales.datasource").read_text() == source_file.read_text()


def test_refusals_are_clear(tb):
    wrong = tb("--token", "not-a-token", "datasource", "ls", check=False)
    assert wrong.returncode != 0 and ("403" in wrong.stdout + wrong.stderr or "token" in (wrong.stdout + wrong.stderr).lower())
    missing = tb("pipe", "data", "no_such_pipe", check=False)
    assert missing.returncode != 0 and "does not exist" in missing.stdout + missing.stderr


TINYB_SCRIPT = r'''
import asyncio, json, sys
from tinybird.client import TinyB

async def main(host, token):
    client = TinyB(token, host)
    out = {}
    out["workspace"] = (await client.workspace_info())["name"]
    out["datasources"] = sorted(ds["name"] for ds in await client.datasources())
    await client.datasource_events("py_events", '{"city":"Porto","amount":3.5}\n{"city":"Porto","amount":1.5}\n')
    out["porto"] = (await client.query("SELECT count() AS n, sum(amount) AS revenue FROM py_events WHERE city = 'Porto' FORMAT JSON"))["data"]
    await client.pipe_create("py_cities", "SELECT city, count() AS orders FROM sales GROUP BY city")
    node = await client.pipe_append_node("py_cities", "SELECT * FROM py_cities_0 ORDER BY orders DESC LIMIT 2")
    await client.pipe_set_endpoint("py_cities", node["id"])
    out["top"] = len((await client.pipe_data("py_cities"))["data"])
    out["madrid"] = (await client.pipe_data("sales_by_city", params={"cities": "Madrid"}))["data"]
    created = await client.create_token("py_reader", ["PIPES:READ:py_cities"], None)
    out["token_scopes"] = [scope["type"] + ":" + scope.get("resource", "") for scope in created["scopes"]]
    reader = TinyB(created["token"], host)
    out["reader_rows"] = len((await reader.pipe_data("py_cities"))["data"])
    out["dependents"] = (await client.datasource_delete("sales", dry_run=True))["dependent_pipes"]
    await client.pipe_delete("py_cities")
    out["pipes"] = sorted(pipe["name"] for pipe in await client.pipes())
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], sys.argv[2]))
'''


def test_tinybird_python_client_class(tb_binary, server, workspace, tmp_path):
    """`tinybird.client.TinyB`, the class the CLI is built on, for the calls the CLI commands above do not make."""
    python = str(Path(tb_binary).parent / "python")
    # Its own data source, so the rows it appends change nothing another test reads.
    created = requests.post(server.url("v0/datasources"), params={
        "name": "py_events", "mode": "create", "schema": "`city` String `json:$.city`, `amount` Float64 `json:$.amount`"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    env = dict(os.environ, TB_VERSION_WARNING="0", TB_CLI_TELEMETRY_OPTOUT="1", HOME=str(tmp_path))
    done = subprocess.run([python, "-c", TINYB_SCRIPT, server.base_url.rstrip("/"), ADMIN_TOKEN], capture_output=True,
                          text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["workspace"] == "demo"
    assert {"sales", "py_events"} <= set(out["datasources"])
    assert out["porto"] == [{"n": 2, "revenue": 5.0}]
    assert out["top"] == 2
    madrid = round(expected_revenue()["Madrid"], 2)
    assert [(row["city"], row["revenue"]) for row in out["madrid"]] == [("Madrid", madrid)]
    assert out["token_scopes"] == ["PIPES:READ:py_cities"]
    assert out["reader_rows"] == 2
    assert "sales_by_city" in out["dependents"] and "py_cities" in out["dependents"]
    assert "py_cities" not in out["pipes"] and "sales_by_city" in out["pipes"]


ORDERS_DATASOURCE = """\
SCHEMA >
    `timestamp` DateTime `json:$.timestamp`,
    `city` String `json:$.city`,
    `customer` String `json:$.customer`,
    `units` UInt16 `json:$.units`,
    `amount` Float64 `json:$.amount`

ENGINE "MergeTree"
ENGINE_SORTING_KEY "city, timestamp"
"""

ORDERS_BY_CITY_DATASOURCE = """\
SCHEMA >
    `city` String,
    `day` Date,
    `orders` AggregateFunction(count),
    `revenue` AggregateFunction(sum, Float64),
    `units` AggregateFunction(sum, UInt16),
    `customers` AggregateFunction(uniq, String),
    `avg_amount` AggregateFunction(avg, Float64)

ENGINE "AggregatingMergeTree"
ENGINE_SORTING_KEY "city, day"
"""

ORDERS_MV_PIPE = """\
NODE by_city_and_day
SQL >
    SELECT
        city,
        toDate(timestamp) AS day,
        countState() AS orders,
        sumState(amount) AS revenue,
        sumState(units) AS units,
        uniqState(customer) AS customers,
        avgState(amount) AS avg_amount
    FROM orders
    GROUP BY city, day

TYPE MATERIALIZED
DATASOURCE orders_by_city
"""

ORDERS_TOTALS_PIPE = """\
NODE totals
SQL >
    SELECT
        city,
        countMerge(orders) AS orders,
        round(sumMerge(revenue), 2) AS revenue,
        sumMerge(units) AS units,
        uniqMerge(customers) AS customers,
        round(avgMerge(avg_amount), 4) AS avg_amount
    FROM orders_by_city
    GROUP BY city
    ORDER BY city

TYPE ENDPOINT
"""

RAW_TOTALS = ("SELECT city, count() AS orders, round(sum(amount), 2) AS revenue, sum(units) AS units, "
              "uniq(customer) AS customers, round(avg(amount), 4) AS avg_amount FROM orders GROUP BY city ORDER BY city")


def orders_ndjson(count, offset=0):
    cities = ["Madrid", "Bilbao", "Sevilla", "Porto"]
    lines = []
    for index in range(offset, offset + count):
        lines.append(json.dumps({
            "timestamp": f"2026-11-{index % 28 + 1:02d} {index % 24:02d}:00:00", "city": cities[index % len(cities)],
            "customer": f"c-{index % 37}", "units": index % 5 + 1, "amount": round(index * 1.25 % 97, 2)}))
    return "\n".join(lines) + "\n"


def test_materialized_view_pushed_populated_and_kept_by_appends(tb, server):
    """A Tinybird materialized view, pushed and populated with `tb`: the endpoint over its AggregatingMergeTree target
    answers what the raw GROUP BY answers, after the populate, after appends, and after `tb pipe populate --truncate`."""
    project = tb.project
    (project / "orders.datasource").write_text(ORDERS_DATASOURCE)
    (project / "orders_by_city.datasource").write_text(ORDERS_BY_CITY_DATASOURCE)
    (project / "orders_mv.pipe").write_text(ORDERS_MV_PIPE)
    (project / "orders_totals.pipe").write_text(ORDERS_TOTALS_PIPE)
    (project / "first.ndjson").write_text(orders_ndjson(400))
    (project / "more.ndjson").write_text(orders_ndjson(150, offset=400))

    def endpoint_matches_raw():
        raw = json.loads(tb("sql", RAW_TOTALS, "--format", "json").stdout)["data"]
        through_view = json.loads(tb("pipe", "data", "orders_totals", "--format", "json").stdout)["data"]
        assert through_view == raw and raw, (through_view, raw)
        return raw

    tb("push", "orders.datasource")
    tb("datasource", "append", "orders", "first.ndjson")
    tb("push", "orders_by_city.datasource")
    pushed = tb("push", "orders_mv.pipe", "--populate", "--wait")
    assert "orders_by_city" in pushed.stdout + pushed.stderr, pushed.stdout
    tb("push", "orders_totals.pipe")
    first = endpoint_matches_raw()
    assert sum(row["orders"] for row in first) == 400

    tb("datasource", "append", "orders", "more.ndjson")
    after = endpoint_matches_raw()
    assert sum(row["orders"] for row in after) == 550
    stats = requests.get(server.url("v0/datasources/orders_by_city"), params={"token": ADMIN_TOKEN}, timeout=TIMEOUT).json()
    keys = json.loads(tb("sql", "SELECT count() AS n FROM (SELECT DISTINCT city, toDate(timestamp) FROM orders)",
                         "--format", "json").stdout)["data"][0]["n"]
    if os.environ.get("TESSERA_ANALYTICS_ENGINE") == "clickhouse":
        # ClickHouse merges an AggregatingMergeTree's parts in the background: until then a key has a row per insert
        # (as on Tinybird), and the -Merge functions above give the same answer either way.
        assert keys <= stats["statistics"]["row_count"] <= 3 * keys, stats["statistics"]
    else:
        assert stats["statistics"]["row_count"] == keys, "one row per sorting key, not per appended row"

    tb("pipe", "populate", "orders_mv", "--node", "by_city_and_day", "--truncate", "--wait")
    assert endpoint_matches_raw() == after

    pulled = project / "pulled"
    pulled.mkdir()
    tb("pull", "--folder", str(pulled))
    mv_file = pulled / "pipes" / "orders_mv.pipe"
    assert "TYPE MATERIALIZED" in mv_file.read_text() and "DATASOURCE orders_by_city" in mv_file.read_text()
    assert "AggregateFunction(uniq, String)" in (pulled / "datasources" / "orders_by_city.datasource").read_text()
    before = requests.get(server.url("v0/pipes/orders_mv"), params={"token": ADMIN_TOKEN}, timeout=TIMEOUT).json()
    tb("push", str(mv_file), "--force", "--yes")
    again = requests.get(server.url("v0/pipes/orders_mv"), params={"token": ADMIN_TOKEN}, timeout=TIMEOUT).json()
    assert again["type"] == "materialized" and again["updated_at"] == before["updated_at"]

    for pipe in ["orders_totals", "orders_mv"]:
        tb("pipe", "rm", pipe, "--yes")
    for source in ["orders_by_city", "orders"]:
        tb("datasource", "rm", source, "--yes")
