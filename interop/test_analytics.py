"""The analytics side of the seeds, driven with PyJWT and requests: seed 002's Flask `generate_jwt()` (the file in
examples/charts-flask/, verbatim apart from ids and key) and seed 001's fetch snippet (ported request for request:
GET with `Authorization: Bearer <jwt>`, then `.json()`), plus seed 000's JWT minted in a real sign-in. Around them,
what a Tinybird user relies on: formats, fixed params, rate limits, quarantine, injection attempts, bad JWTs."""
import datetime
import importlib.util
import json
import os
import secrets
import subprocess
import time
from pathlib import Path

import jwt
import pytest
import requests

from conftest import TIMEOUT, _binary, remember_secret
from test_signin import discovery, sign_in, spa, user  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE_ID = "1f484a32-6966-4f63-9312-aadad64d3e12"
ADMIN_TOKEN = "interop-workspace-admin-token-0123456789abcdef"
remember_secret(ADMIN_TOKEN)


@pytest.fixture(scope="module")
def workspace(server):
    """The example workspace (datafiles and 3,000 sample sales), applied to the running server with the CLI."""
    tenant = Path(server.data_dir).parent / "workspace.yaml"
    tenant.write_text(f"""workspaces:
  - name: demo
    id: "{WORKSPACE_ID}"
    admin_token: "{ADMIN_TOKEN}"
    datafiles: {ROOT / 'examples' / 'analytics'}
{engine_lines()}""")
    applied = subprocess.run([_binary(), "apply", str(tenant), "--data-dir", server.data_dir, "--issuer", server.issuer],
                             capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert applied.returncode == 0, applied.stderr
    assert "3000 fixture rows" in applied.stdout
    return WORKSPACE_ID


def engine_lines():
    """The workspace's engine: `make test` runs this module (and test_tb_cli.py, test_demo.py) a second time with
    TESSERA_ANALYTICS_ENGINE=clickhouse and TESSERA_CLICKHOUSE_URL naming its ClickHouse."""
    if os.environ.get("TESSERA_ANALYTICS_ENGINE") != "clickhouse":
        return ""
    database = "interop_" + secrets.token_hex(4)
    return f"""    engine: clickhouse
    clickhouse:
      url: "{os.environ['TESSERA_CLICKHOUSE_URL']}"
      database: {database}
"""


def expected_revenue():
    totals = {}
    for line in (ROOT / "examples/analytics/datasources/fixtures/sales.ndjson").read_text().splitlines():
        row = json.loads(line)
        totals[row["city"]] = totals.get(row["city"], 0) + row["amount"]
    return totals


def seed_002_generate_jwt(monkeypatch):
    """Imports examples/charts-flask/app.py as the seed wrote it and returns its module. The app reads its key from
    TINYBIRD_ADMIN_TOKEN when imported; monkeypatch restores the environment after the test."""
    monkeypatch.setenv("TINYBIRD_ADMIN_TOKEN", ADMIN_TOKEN)
    spec = importlib.util.spec_from_file_location("charts_flask_app", ROOT / "examples/charts-flask/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed_001_fetch(server, token, pipe="sales_by_city", **params):
    """Seed 001's snippet: fetch(".../v0/pipes/<pipe>.json", {headers: {Authorization: `Bearer ${tinybirdJWT}`}})."""
    response = requests.get(server.url(f"v0/pipes/{pipe}.json"), params=params,
                            headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    return response, response.json()


def token(pipe="sales_by_city", key=ADMIN_TOKEN, **changes):
    payload = {"workspace_id": WORKSPACE_ID, "name": "interop",
               "exp": datetime.datetime.now(tz=datetime.timezone.utc) + datetime.timedelta(hours=1),
               "scopes": [{"type": "PIPES:READ", "resource": pipe}]}
    payload.update(changes)
    return jwt.encode(payload, key, algorithm="HS256")


def test_seed_002_flask_token_reads_the_endpoint(server, workspace, monkeypatch):
    app = seed_002_generate_jwt(monkeypatch)
    minted = app.app.test_client().get("/generate-token")
    assert minted.status_code == 200
    token_value = minted.get_json()["token"]
    assert jwt.decode(token_value, ADMIN_TOKEN, algorithms=["HS256"])["name"] == "charts_token"

    response, data = seed_001_fetch(server, token_value)
    assert response.status_code == 200, data
    assert [m["name"] for m in data["meta"]] == ["city", "revenue", "orders", "units"]
    expected = expected_revenue()
    assert {row["city"]: row["revenue"] for row in data["data"]} == pytest.approx(expected, abs=0.01)
    assert data["rows"] == len(expected) and data["statistics"]["rows_read"] == 3000
    assert sum(row["orders"] for row in data["data"]) == 3000


def test_seed_000_jwt_from_a_real_sign_in_reads_the_endpoint(server, admin, workspace, discovery, spa, user):
    created = admin.post(server.url("api/v2/actions/actions"), json={
        "name": "Tinybird JWT (analytics interop)", "code": (ROOT / "examples/actions/tinybird-jwt.js").read_text(),
        "secrets": [{"name": "TINYBIRD_ADMIN_TOKEN", "value": ADMIN_TOKEN}],
        "configuration": {"TINYBIRD_WORKSPACE_ID": WORKSPACE_ID, "TINYBIRD_PIPE_NAMES": "sales_by_city"}}, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    action_id = created.json()["id"]
    try:
        assert admin.post(server.url(f"api/v2/actions/actions/{action_id}/deploy"), timeout=TIMEOUT).status_code == 201
        assert admin.patch(server.url("api/v2/actions/triggers/post-login/bindings"),
                           json={"bindings": [{"ref": {"type": "action_id", "value": action_id}}]}, timeout=TIMEOUT).status_code == 200
        result = sign_in(discovery, spa, user["email"], user["password"])
        claims = jwt.decode(result.token["id_token"], options={"verify_signature": False})
        response, data = seed_001_fetch(server, claims["https://app.tinybird.co"])
        assert response.status_code == 200, data
        assert len(data["data"]) == len(expected_revenue())
    finally:
        admin.patch(server.url("api/v2/actions/triggers/post-login/bindings"), json={"bindings": []}, timeout=TIMEOUT)
        admin.delete(server.url(f"api/v2/actions/actions/{action_id}"), timeout=TIMEOUT)


@pytest.mark.parametrize("make, reason", [
    (lambda: token(exp=datetime.datetime.now(tz=datetime.timezone.utc) - datetime.timedelta(seconds=5)), "expired"),
    (lambda: token(key="a-different-key-that-is-long-enough-0123456789"), "signature"),
    (lambda: jwt.encode({"workspace_id": WORKSPACE_ID, "name": "x", "exp": int(time.time()) + 60,
                         "scopes": [{"type": "PIPES:READ", "resource": "sales_by_city"}]}, None, algorithm="none"), "HS256"),
    (lambda: token(workspace_id="00000000-0000-4000-8000-000000000000"), "workspace_id"),
    (lambda: token(pipe="another_pipe"), "no PIPES:READ scope for the pipe sales_by_city"),
    (lambda: ".".join(token().split(".")[:2] + ["AAAA"]), "signature"),
    (lambda: "p.not-a-real-token", "Invalid token"),
])
def test_bad_jwts_are_refused(server, workspace, make, reason):
    response, data = seed_001_fetch(server, make())
    assert response.status_code == 403
    assert reason in data["error"] and "data" not in data


def test_tampered_scopes_are_refused(server, workspace):
    header, payload, signature = token(pipe="another_pipe").split(".")
    forged = jwt.utils.base64url_encode(json.dumps({"workspace_id": WORKSPACE_ID, "name": "x", "exp": int(time.time()) + 60,
                                                    "scopes": [{"type": "PIPES:READ", "resource": "sales_by_city"}]}).encode())
    response, data = seed_001_fetch(server, f"{header}.{forged.decode()}.{signature}")
    assert response.status_code == 403 and "signature" in data["error"]


def test_formats_fixed_params_and_parameter_errors(server, workspace):
    pinned = token(scopes=[{"type": "PIPES:READ", "resource": "sales_by_city", "fixed_params": {"cities": "Lisbon"}}])
    response, data = seed_001_fetch(server, pinned, cities="Madrid,Bilbao")
    assert [row["city"] for row in data["data"]] == ["Lisbon"]

    plain = token()
    csv = requests.get(server.url("v0/pipes/sales_by_city.csv"), params={"token": plain, "limit": 3}, timeout=TIMEOUT)
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == '"city","revenue","orders","units"' and len(csv.text.splitlines()) == 4
    ndjson = requests.get(server.url("v0/pipes/sales_by_city.ndjson"), params={"token": plain}, timeout=TIMEOUT)
    assert len([json.loads(line) for line in ndjson.text.splitlines()]) == len(expected_revenue())

    for params, name in [({"limit": "many"}, "limit"), ({"start_date": "2026-13-01"}, "start_date"),
                         ({"limit": "5 UNION SELECT 1"}, "limit")]:
        response, data = seed_001_fetch(server, plain, **params)
        assert response.status_code == 400 and f"'{name}'" in data["error"], data
    for params in [{"product": "pen' OR '1'='1"}, {"cities": "Madrid') OR 1=1 --"}, {"product": "x\"; DROP TABLE sales; --"}]:
        response, data = seed_001_fetch(server, plain, **params)
        assert response.status_code == 200 and data["data"] == [], params
    response, data = seed_001_fetch(server, plain)
    assert sum(row["orders"] for row in data["data"]) == 3000


def test_rate_limits_by_token_name(server, workspace):
    limited = token(name="limited-interop", limits={"rps": 3})
    statuses = []
    last = None
    for _ in range(8):
        last = requests.get(server.url("v0/pipes/sales_by_city.json"), params={"token": limited}, timeout=TIMEOUT)
        statuses.append(last.status_code)
        if last.status_code == 429:
            break
    assert 429 in statuses, statuses
    assert last.headers["Retry-After"] == "1" and last.headers["X-RateLimit-Limit"] == "3"
    assert "limited-interop" in last.json()["error"]


def test_events_api_quarantines_what_does_not_fit(server, workspace):
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    created = requests.post(server.url("v0/tokens"), params={"name": "interop_append", "scope": "DATASOURCES:APPEND:sales"},
                            headers=headers, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    append_token = created.json()["token"]
    rows = [{"timestamp": "2026-11-21 12:00:00", "order_id": "i-1", "city": "Interopolis", "product": "pen", "units": 2, "amount": 2.4},
            {"timestamp": "yesterday", "order_id": "i-2", "city": "Interopolis", "product": "pen", "units": 1, "amount": 1.2},
            {"timestamp": "2026-11-21 12:01:00", "order_id": "i-3", "city": "Interopolis", "product": "pen", "units": 70000, "amount": 1}]
    body = "\n".join(json.dumps(row) for row in rows)
    response = requests.post(server.url("v0/events"), params={"name": "sales", "wait": "true"}, data=body,
                             headers={"Authorization": f"Bearer {append_token}"}, timeout=TIMEOUT)
    assert response.status_code == 200 and response.json() == {"successful_rows": 1, "quarantined_rows": 2}
    described = requests.get(server.url("v0/datasources/sales"), headers=headers, timeout=TIMEOUT).json()
    assert described["statistics"]["quarantine_rows"] >= 2
    response, data = seed_001_fetch(server, token(), cities="Interopolis")
    assert data["data"][0]["orders"] == 1
    refused = requests.post(server.url("v0/events"), params={"name": "sales"}, data=body,
                            headers={"Authorization": f"Bearer {token()}"}, timeout=TIMEOUT)
    assert refused.status_code == 403
