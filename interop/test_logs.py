"""No secret in the log at any level: the example tenant applied and a round of the APIs that carry secrets, with the
server at `--log-level trace`, on SQLite and on PostgreSQL (when `make test` provides one), with and without a master
key. `stop_tessera` searches the log for every remembered secret (see conftest); this module also checks that the
trace log did record the statements, with their bind values reduced to their sizes."""

import json
import os
import re
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from conftest import DEMO_DIRECTORY_ENV, DEMO_HASURA_SECRET, TIMEOUT, example_tenant, fetch_token, remember_secret, start_tessera, stop_tessera

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "logs-workspace-admin-token-" + uuid.uuid4().hex
DEMO_PASSWORD = "Logs-Passw0rd-" + uuid.uuid4().hex[:8]
MASTER_KEY = "logs-master-key-" + uuid.uuid4().hex
remember_secret(ADMIN_TOKEN, DEMO_PASSWORD, MASTER_KEY)


def fresh_postgres_database():
    """A new database on the suite's PostgreSQL, so each run starts empty."""
    url = os.environ.get("TESSERA_TEST_POSTGRES_URL")
    if not url:
        return None
    parts = urlsplit(url)
    name = "logs_" + uuid.uuid4().hex[:12]
    createdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/createdb"))
    assert createdb, "PostgreSQL's createdb not found"
    subprocess.run([str(createdb[-1]), "-h", parts.hostname, "-p", str(parts.port), "-U", parts.username or "tessera", name],
                   check=True, timeout=60, stdin=subprocess.DEVNULL)
    return f"{parts.scheme}://{parts.netloc}/{name}"


# PostgreSQL requires a master key (every instance reads the signing keys from the database).
SETUPS = [("sqlite", False), ("sqlite", True)] + ([("postgres", True)] if os.environ.get("TESSERA_TEST_POSTGRES_URL") else [])


@pytest.mark.parametrize("store,master_key", SETUPS,
                         ids=[f"{store}-{'master-key' if key else 'no-master-key'}" for store, key in SETUPS])
def test_trace_log_holds_no_secret(store, master_key):
    env = dict(os.environ, **DEMO_DIRECTORY_ENV, TINYBIRD_ADMIN_TOKEN=ADMIN_TOKEN, TESSERA_DEMO_PASSWORD=DEMO_PASSWORD,
               HASURA_GRAPHQL_ADMIN_SECRET=DEMO_HASURA_SECRET)
    env.pop("TESSERA_MASTER_KEY", None)
    if master_key:
        env["TESSERA_MASTER_KEY"] = MASTER_KEY
    args = ["--apply", example_tenant, "--log-level", "trace"]
    if store == "postgres":
        args += ["--database", fresh_postgres_database()]
    running = start_tessera(*args, env=lambda base: dict(env, TESSERA_URL=base.rstrip("/")))
    try:
        base = running.base
        with open(os.path.join(running.data_dir, "admin-client.json")) as handle:
            credentials = json.load(handle)
        remember_secret(credentials["client_secret"])

        class Server:  # what fetch_token needs
            audience = credentials.get("audience", base + "api/v2/")

            @staticmethod
            def url(path):
                return base + path

        admin = {"Authorization": "Bearer " + fetch_token(Server, credentials["client_id"], credentials["client_secret"])}
        # A client (its secret), a user (a password), an Action (a secret): each is written with binds.
        client = requests.post(base + "api/v2/clients", headers=admin, timeout=TIMEOUT,
                               json={"name": "logs-" + uuid.uuid4().hex[:6], "app_type": "non_interactive"}).json()
        remember_secret(client["client_secret"])
        password = "Pw-" + uuid.uuid4().hex
        remember_secret(password)
        user = requests.post(base + "api/v2/users", headers=admin, timeout=TIMEOUT, json={
            "connection": "Username-Password-Authentication", "email": f"logs-{uuid.uuid4().hex[:8]}@example.com",
            "password": password})
        assert user.status_code == 201, user.text
        action_secret = "sk_logs_" + uuid.uuid4().hex
        remember_secret(action_secret)
        action = requests.post(base + "api/v2/actions/actions", headers=admin, timeout=TIMEOUT, json={
            "name": "logs-" + uuid.uuid4().hex[:6], "code": "exports.onExecutePostLogin = async () => {};",
            "secrets": [{"name": "KEY", "value": action_secret}]})
        assert action.status_code == 201, action.text
        # Analytics: a static token (shown once), an append and a read with the admin token.
        tinybird = {"Authorization": "Bearer " + ADMIN_TOKEN}
        static = requests.post(base + "v0/tokens", headers=tinybird, timeout=TIMEOUT,
                               params={"name": "logs_reader", "scope": "PIPES:READ:sales_by_city"})
        assert static.status_code in (200, 201), static.text
        remember_secret(static.json()["token"])
        appended = requests.post(base + "v0/events", headers=tinybird, timeout=TIMEOUT, params={"name": "sales", "wait": "true"},
                                 data='{"timestamp":"2026-12-01 10:00:00","order_id":"l-1","city":"Porto","product":"pen","units":1,"amount":2}')
        assert appended.status_code == 200, appended.text
        read = requests.get(base + "v0/pipes/sales_by_city.json", params={"token": static.json()["token"]}, timeout=TIMEOUT)
        assert read.status_code == 200, read.text
    finally:
        with open(running.stderr_path, errors="replace") as handle:
            log = handle.read()
        stop_tessera(running)  # fails here if a remembered secret is in the log
    # The log is a trace log: statements were recorded, their bind values only as sizes.
    statements = [json.loads(line) for line in log.splitlines() if '"Executing query"' in line]
    assert statements, "no statement was logged at trace level"
    shapes = re.compile(r"^\[(\"<\d+ chars>\"(, \"<\d+ chars>\")*)?\]$")
    with_binds = [line["binds"] for line in statements if "binds" in line]
    assert with_binds and all(shapes.match(binds) for binds in with_binds), [b for b in with_binds if not shapes.match(b)][:3]
