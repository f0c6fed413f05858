"""Seed 003 end to end on the example tenant (`make run`'s examples/tessera.yaml): the user directory imports this
tenant's users through its own Management API with the `Directory sync` M2M application (connection `conn_tessera`),
follows changes pass after pass, and hears of each sign-in from the seed's UserHub Action. Read through UserHub's
Python SDK (`userhub_sdk.AdminApi(<admin key>, base_url=<Tessera>)`, the tenant's admin key); written through the
Management API with a token, as any Auth0 client would.

  a) the first start makes conn_tessera ACTIVE and imports the demo user;
  b) 2,500 users created through the Management API are in the directory after one pass, each exactly once;
  c) a rename, a block and a delete made there show after the next pass;
  d) a person who signs up on the hosted page in Chromium is in the directory right after, through the Action;
  e) faults: a second Tessera imports the tenant's users through a proxy answering 429 and 500 for a while, and a
     third one is killed with SIGKILL mid-import and restarted on its data folder: both end with every user exactly
     once;
  f) a source that behaves as Auth0 does (the proxy refuses Tessera's `take`/`from` paging, and answers a new
     users-export job `pending`): past Auth0's 1,000-user ceiling of offset pages, another Tessera imports every user
     exactly once through the users-export job (POST, polled GET, the gzipped file fetched without a bearer token).

SQLite only (test_directory.py runs the directory on PostgreSQL too). The tenant runs with TESSERA_BCRYPT_COST=4: at
Auth0's cost 10 the 2,500 creations alone took 2.5 to 4.3 minutes on two cores; nothing here measures hashing. The
faults' directories import from this same tenant (2,500+ users).
"""
import json
from contextlib import contextmanager
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
import userhub_sdk
from userhub_sdk.types import UserHubError

from conftest import (DEMO_DIRECTORY_ENV, chromium, DEMO_HASURA_SECRET, STRONG_PASSWORD, TIMEOUT, BackgroundHTTPServer, RunningTessera,
                      _listening_url,
                      _tail, example_tenant, fetch_token, leaked_secrets, new_email, remember_secret, serve_module,
                      start_tessera, stop_tessera)

CONNECTION = "conn_tessera"
ADMIN_KEY = DEMO_DIRECTORY_ENV["USERHUB_ADMIN_KEY"]
BULK = 2_500
BULK_WORKERS = 4
BULK_SECONDS = 300  # the creations' bound
PASS_SECONDS = 120
FIRST_PASS_SECONDS = 60
EVENT_SECONDS = 5
BROWSER_WAIT = 20
BULK_PASSWORD = "Bulk-Passw0rd-" + secrets.token_hex(6)
remember_secret(BULK_PASSWORD)


# ---------------------------------------------------------------------------------------------------- the tenant

def seed_env() -> dict:
    return dict(os.environ, **DEMO_DIRECTORY_ENV, TINYBIRD_ADMIN_TOKEN="demo-admin-token-change-me-0123456789abcdef",
                TESSERA_DEMO_PASSWORD="Demo-Passw0rd-interop!", HASURA_GRAPHQL_ADMIN_SECRET=DEMO_HASURA_SECRET,
                TESSERA_BCRYPT_COST="4")


@pytest.fixture(scope="module")
def server():
    env = seed_env()
    yield from serve_module("--apply", example_tenant, env=lambda base: dict(env, TESSERA_URL=base.rstrip("/")))


@pytest.fixture(scope="module")
def management(server):
    """A requests session with a Management API token of the bootstrap admin client."""
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + fetch_token(server, server.client_id, server.client_secret)
    yield session
    session.close()


def directory_api(base_url: str, key: str = ADMIN_KEY) -> userhub_sdk.AdminApi:
    return userhub_sdk.AdminApi(key, base_url=base_url.rstrip("/"))


@pytest.fixture(scope="module")
def users(server):
    """The directory's users, through UserHub's SDK with the tenant's admin key."""
    return directory_api(server.base_url).users


def admin_call(base_url: str, method: str, path: str, body=None, key: str = ADMIN_KEY, timeout: float = TIMEOUT):
    """The directory's connection endpoints (the SDK has no call for them)."""
    response = requests.request(method, base_url.rstrip("/") + "/admin/v1/" + path, json=body, timeout=timeout,
                                headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, f"{method} {path} {body}: {response.status_code} {response.text}"
    return response.json()


def wait_for_pass(base_url: str, connection_id: str, seconds: float, since: str = None, key: str = ADMIN_KEY) -> dict:
    """Polls the connection until no pass runs and one has finished (after `since`, a lastPullTime, when given)."""
    deadline = time.monotonic() + seconds
    while True:
        connection = admin_call(base_url, "GET", f"connections/{connection_id}", key=key)
        sync = connection["sync"]
        if not sync["running"] and sync.get("lastPullTime") and sync.get("lastPullTime") != since:
            return connection
        assert time.monotonic() < deadline, f"no finished pass within {seconds} s: {connection}"
        time.sleep(0.1)


def full_pass(base_url: str, connection_id: str, key: str = ADMIN_KEY) -> dict:
    connection = admin_call(base_url, "POST", f"connections/{connection_id}:sync", {"wait": True}, key=key,
                            timeout=PASS_SECONDS)
    assert connection["state"] == "ACTIVE" and connection["sync"]["running"] is False, connection
    assert "lastError" not in connection["sync"], connection
    return connection


def source_users(base_url: str, session: requests.Session) -> dict:
    """Every user of a Tessera's Management API, by user_id, through its checkpoint paging (`take`/`from`; Auth0's
    offset pages stop at 1,000)."""
    found, cursor = {}, None
    for _ in range(1_000):
        params = {"take": 100, **({"from": cursor} if cursor else {})}
        response = session.get(base_url.rstrip("/") + "/api/v2/users", params=params, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        body = response.json()
        for user in body["users"]:
            assert user["user_id"] not in found, f"the source lists {user['user_id']} twice"
            found[user["user_id"]] = user
        cursor = body.get("next")
        if not cursor:
            return found
    raise AssertionError("the source's pages never ended")


def imported(api_users, connection_id: str, show_deleted: bool = False) -> dict:
    """The directory's users with an account at the connection, by externalId, paging through every user with the
    SDK (FULL view: the accounts). A user listed twice, or an externalId held by two users, fails."""
    found, seen, token = {}, set(), None
    for _ in range(1_000):
        page = api_users.list(page_size=100, page_token=token, view="FULL", show_deleted=show_deleted)
        for user in page.users:
            assert user.id not in seen, f"{user.id} is listed twice"
            seen.add(user.id)
            for account in user.account_connections:
                if account.connection.id == connection_id:
                    assert account.external_id not in found, \
                        f"{account.external_id} is imported twice: {found[account.external_id].id} and {user.id}"
                    found[account.external_id] = user
        token = page.next_page_token
        if not token:
            return found
    raise AssertionError("the directory's pages never ended")


def m2m_application(base_url: str, session: requests.Session, audience: str) -> dict:
    """An M2M application with a read:users grant for the Management API, made through that API."""
    client = session.post(base_url + "api/v2/clients", timeout=TIMEOUT,
                          json={"name": "Directory import " + uuid.uuid4().hex[:8], "app_type": "non_interactive"})
    assert client.status_code == 201, client.text
    client = client.json()
    remember_secret(client["client_secret"])
    grant = session.post(base_url + "api/v2/client-grants", timeout=TIMEOUT,
                         json={"client_id": client["client_id"], "audience": audience, "scope": ["read:users"]})
    assert grant.status_code == 201, grant.text
    return client


# ---------------------------------------------------------------------------------------------------- a) first start

def test_first_start_activates_conn_tessera_and_imports_the_demo_user(server, management, users):
    connection = wait_for_pass(server.base_url, CONNECTION, FIRST_PASS_SECONDS)
    sync_app = [client for client in management.get(server.url("api/v2/clients"), timeout=TIMEOUT).json()
                if client["name"] == "Directory sync"]
    assert len(sync_app) == 1, sync_app
    assert connection == {
        "id": CONNECTION, "displayName": "Tessera", "type": "AUTH0", "state": "ACTIVE",
        "auth0": {"domain": server.base_url.rstrip("/"), "clientId": sync_app[0]["client_id"]},
        "sync": {"running": False, "usersDone": 1, "usersTotal": 1, "lastPassUsers": 1,
                 "lastPullTime": connection["sync"]["lastPullTime"], "startTime": connection["sync"]["startTime"]},
        "createTime": connection["createTime"], "updateTime": connection["updateTime"]}
    demo = management.get(server.url("api/v2/users"), params={"q": 'email:"demo@example.com"'},
                          timeout=TIMEOUT).json()
    assert [user["email"] for user in demo] == ["demo@example.com"], demo
    everyone = imported(users, CONNECTION)
    assert list(everyone) == [demo[0]["user_id"]]
    user = everyone[demo[0]["user_id"]]
    assert (user.display_name, user.email, user.email_verified, user.state, user.disabled) == \
        ("Demo User", "demo@example.com", True, "ACTIVE", False)
    assert users.get(f"{demo[0]['user_id']}@{CONNECTION}") == user


# ---------------------------------------------------------------------------------------------------- d) a sign-up

@pytest.fixture
def browser():
    yield from chromium(BROWSER_WAIT)


def test_a_sign_up_in_chromium_is_in_the_directory_right_after(server, users, browser):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    before = admin_call(server.base_url, "GET", f"connections/{CONNECTION}")
    wait = WebDriverWait(browser, BROWSER_WAIT)
    email = new_email()
    browser.get(server.url("demo/"))
    wait.until(EC.element_to_be_clickable((By.ID, "sign-up"))).click()
    wait.until(EC.visibility_of_element_located((By.ID, "email"))).send_keys(email)
    assert urlsplit(browser.current_url).path == "/u/signup", browser.current_url
    browser.find_element(By.ID, "password").send_keys(STRONG_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
    try:
        wait.until(EC.visibility_of_element_located((By.ID, "signed-in")))
        wait.until(lambda driver: driver.find_element(By.ID, "claims").text.strip())
    except TimeoutException:
        pytest.fail(f"the demo did not sign in at {browser.current_url}:\n"
                    f"{browser.find_element(By.TAG_NAME, 'body').text[:2000]}")
    signed_in = time.monotonic()
    subject = json.loads(browser.find_element(By.ID, "claims").text)["sub"]
    assert subject.startswith("auth0|"), subject

    # The Action reported the sign-up; the directory pulls the person in the background: poll, at most 5 s.
    found = None
    while found is None:
        try:
            found = users.get(f"{subject}@{CONNECTION}")
        except UserHubError as error:
            assert error.status_code == 404, str(error)
            assert time.monotonic() - signed_in < EVENT_SECONDS, \
                f"{subject} is not in the directory {EVENT_SECONDS} s after signing up:\n{_tail(server.stderr_path)}"
            time.sleep(0.1)
    print(f"in the directory {time.monotonic() - signed_in:.2f} s after the sign-in ended")
    assert (found.email, found.state, found.account_connections[0].external_id) == (email, "ACTIVE", subject)
    assert [user.id for user in users.list(email=email).users] == [found.id]
    # Through the Action, not a pass: none ran since (the tenant resyncs hourly).
    after = admin_call(server.base_url, "GET", f"connections/{CONNECTION}")
    assert after["sync"] == before["sync"], (before, after)


# ---------------------------------------------------------------------------------------------------- b) 2,500 users

def create_users(server, management, count: int, label: str, password: str, seconds: float) -> dict:
    """`count` users created through the Management API (a small thread pool) within `seconds`, by user_id."""
    run = uuid.uuid4().hex[:6]

    def create(index):
        response = management.post(server.url("api/v2/users"), timeout=30, json={
            "connection": "Username-Password-Authentication", "email": f"{label.lower()}-{run}-{index:04d}@seed003.example.com",
            "password": password, "name": f"{label} {run} {index:04d}"})
        assert response.status_code == 201, response.text
        return response.json()

    started = time.monotonic()
    pool = ThreadPoolExecutor(BULK_WORKERS)
    try:
        created = list(pool.map(create, range(count), timeout=seconds))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # past the bound, what is left is dropped
    elapsed = time.monotonic() - started
    print(f"{count} users created through the Management API in {elapsed:.1f} s ({count / elapsed:.1f}/s)")
    assert elapsed < seconds
    made = {user["user_id"]: user for user in created}
    assert len(made) == count
    return made


@pytest.fixture(scope="module")
def bulk(server, management):
    """2,500 users created through the Management API, by user_id, as created."""
    return create_users(server, management, BULK, "Bulk", BULK_PASSWORD, BULK_SECONDS)


def test_2500_users_made_through_the_management_api_are_in_the_directory_after_a_pass(server, management, users,
                                                                                       bulk):
    started = time.monotonic()
    connection = full_pass(server.base_url, CONNECTION)
    print(f"a pass over {connection['sync']['lastPassUsers']} users took {time.monotonic() - started:.1f} s")
    source = source_users(server.base_url, management)
    assert set(bulk) <= set(source)
    assert connection["sync"]["lastPassUsers"] == len(source), connection
    directory = imported(users, CONNECTION)
    assert len(directory) == len(source)
    assert set(directory) == set(source)
    # Each as the Management API shows it.
    assert {external_id: (user.display_name, user.email, user.state) for external_id, user in directory.items()
            if external_id in bulk} == \
        {user_id: (user["name"], user["email"], "ACTIVE") for user_id, user in bulk.items()}


# ---------------------------------------------------------------------------------------------------- c) changes

def test_a_rename_a_block_and_a_delete_show_after_the_next_pass(server, management, users, bulk):
    renamed, blocked, deleted = list(bulk)[:3]
    before = {key: users.get(f"{key}@{CONNECTION}") for key in (renamed, blocked, deleted)}
    for user_id, change in [(renamed, {"name": "Renamed Through The API"}), (blocked, {"blocked": True})]:
        response = management.patch(server.url("api/v2/users/" + quote(user_id, safe="")), json=change,
                                    timeout=TIMEOUT)
        assert response.status_code == 200, response.text
    response = management.delete(server.url("api/v2/users/" + quote(deleted, safe="")), timeout=TIMEOUT)
    assert response.status_code == 204, response.text

    full_pass(server.base_url, CONNECTION)
    after = {key: users.get(f"{key}@{CONNECTION}") for key in (renamed, blocked, deleted)}
    assert (after[renamed].id, after[renamed].display_name, after[renamed].state) == \
        (before[renamed].id, "Renamed Through The API", "ACTIVE")
    assert (after[blocked].id, after[blocked].state, after[blocked].disabled) == (before[blocked].id, "DISABLED", True)
    assert (after[deleted].id, after[deleted].state) == (before[deleted].id, "PENDING_DELETION")
    # The deleted user leaves the default list and stays in showDeleted's, once.
    live = imported(users, CONNECTION)
    everyone = imported(users, CONNECTION, show_deleted=True)
    assert set(everyone) - set(live) == {deleted}
    assert everyone[deleted].state == "PENDING_DELETION"
    assert set(live) == set(source_users(server.base_url, management))


# ---------------------------------------------------------------------------------------------------- e) faults

class FaultyProxy(BackgroundHTTPServer):
    """A Management API in front of a Tessera source: answers chosen /api/v2/users requests (counted from 1) with a
    fault (429 with Retry-After: 1, or 500), may wait before each users page, and forwards everything else. The
    token request's `audience` is rewritten to the source's (the directory asks for its domain's /api/v2/).

    With `auth0` set, it behaves as Auth0 does where Tessera is more generous: `GET /api/v2/users` refuses query
    parameters Auth0 does not know (Tessera's checkpoint `take`/`from`) with Auth0's 400, and a users-export job is
    answered `pending` without a `location` when it is made (Auth0's jobs run a while), so it must be polled.
    A job's `location` is made to point at the proxy (Auth0's points at a storage host; Tessera's at its issuer),
    so the download is seen here too."""

    AUTH0_USERS_QUERY = {"page", "per_page", "include_totals", "sort", "connection", "fields", "include_fields", "q",
                         "search_engine", "primary_order"}

    def __init__(self, target: str):
        self.target = target.rstrip("/")
        self.faults = {}  # request number -> status
        self.delay = 0.0
        self.auth0 = False
        self.log = []  # (number or None, method, path, status, whether it carried an Authorization header)
        self.count = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                proxy.handle(self)

            do_POST = do_PATCH = do_DELETE = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):  # kept, not printed: a killed client resets its socket
                with proxy.lock:
                    proxy.errors.append(repr(sys.exc_info()[1]))

        self.errors = []
        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.serve_in_background("faulty-proxy")

    def users_requests(self) -> list:
        with self.lock:
            return [entry for entry in self.log if entry[0] is not None]

    def entries(self) -> list:
        with self.lock:
            return list(self.log)

    def reply(self, handler: BaseHTTPRequestHandler, status: int, payload: dict, headers: dict = None):
        content = json.dumps(payload).encode()
        handler.send_response(status)
        for name, value in {**(headers or {}), "Content-Type": "application/json"}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)

    def auth0_answer(self, method: str, route: str, answer: requests.Response) -> bytes:
        """What Auth0 would have answered where Tessera's answer differs (see the class), else Tessera's."""
        if not self.auth0 or answer.status_code >= 300:
            return answer.content
        if method == "POST" and route == "/api/v2/jobs/users-exports":
            job = answer.json()
            job["status"] = "pending"
            job.pop("location", None)
            return json.dumps(job).encode()
        if method == "GET" and route.startswith("/api/v2/jobs/") and route.count("/") == 4:
            job = answer.json()
            if "location" in job:
                assert job["location"].startswith(self.target + "/"), job["location"]
                job["location"] = self.url + job["location"][len(self.target):]
                remember_secret(parse_qs(urlsplit(job["location"]).query).get("token", [""])[0])  # a capability
            return json.dumps(job).encode()
        return answer.content

    def handle(self, handler: BaseHTTPRequestHandler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = handler.path
        route = urlsplit(path).path
        authorized = "Authorization" in handler.headers
        number = fault = None
        if route.startswith("/api/v2/users"):
            with self.lock:
                self.count += 1
                number = self.count
                fault = self.faults.get(number)
        if fault:
            self.reply(handler, fault, {"statusCode": fault, "error": "Too Many Requests" if fault == 429 else
                                        "Internal Server Error", "message": "injected by the test's proxy"},
                       {"Retry-After": "1"} if fault == 429 else None)
            with self.lock:
                self.log.append((number, handler.command, path, fault, authorized))
            return
        unknown = self.auth0 and route == "/api/v2/users" and \
            sorted(set(parse_qs(urlsplit(path).query, keep_blank_values=True)) - self.AUTH0_USERS_QUERY)
        if unknown:
            self.reply(handler, 400, {
                "statusCode": 400, "error": "Bad Request", "errorCode": "invalid_query_string",
                "message": f"Query validation error: 'Additional properties not allowed: {','.join(unknown)}'."})
            with self.lock:
                self.log.append((number, handler.command, path, 400, authorized))
            return
        if number is not None and self.delay:
            time.sleep(self.delay)
        if urlsplit(path).path == "/oauth/token" and body:
            if "json" in (handler.headers.get("Content-Type") or ""):
                fields = json.loads(body)
                if fields.get("audience") == self.url + "/api/v2/":
                    fields["audience"] = self.target + "/api/v2/"
                body = json.dumps(fields).encode()
            else:
                body = body.replace(quote(self.url + "/api/v2/", safe="").encode(),
                                    quote(self.target + "/api/v2/", safe="").encode())
        headers = {name: value for name, value in handler.headers.items()
                   if name.lower() not in ("host", "content-length", "connection", "accept-encoding")}
        answer = requests.request(handler.command, self.target + path, headers=headers, data=body or None,
                                  timeout=60, allow_redirects=False)
        handler.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding",
                                    "date", "server"):
                handler.send_header(name, value)
        content = self.auth0_answer(handler.command, route, answer)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)
        with self.lock:
            self.log.append((number, handler.command, path, answer.status_code, authorized))


@pytest.fixture
def proxy(server):
    with FaultyProxy(server.base_url) as running:
        yield running


@pytest.fixture(scope="module")
def importer_app(server, management):
    """The M2M application the other directories import with, made in this tenant through its Management API."""
    return m2m_application(server.base_url, management, server.audience)


def directory_tenant() -> tuple:
    """A tenant file with a fresh admin key: (path, key)."""
    key = "userhub_admin_" + secrets.token_urlsafe(32)
    remember_secret(key)
    folder = tempfile.mkdtemp(prefix="tessera-seed003-directory-")
    path = os.path.join(folder, "tenant.yaml")
    with open(path, "w") as handle:
        handle.write(f'directory:\n  api_keys:\n    - {{ description: seed 003 faults, key: "{key}" }}\n')
    return path, key


def connect_through(base_url: str, key: str, proxy: FaultyProxy, app: dict, connection_id: str) -> dict:
    connection = admin_call(base_url, "POST", "connections", key=key, body={
        "id": connection_id, "displayName": "Through a faulty proxy",
        "auth0": {"domain": proxy.url, "clientId": app["client_id"], "clientSecret": app["client_secret"]}})
    assert connection["state"] == "PENDING_SETUP", connection
    return connection


@contextmanager
def directory_through(proxy, importer_app, connection_id: str, source: dict, what: str):
    """A second Tessera whose connection reads this tenant through the proxy, after one full pass that imported every
    source user exactly once; yields the directory's users by externalId."""
    tenant, key = directory_tenant()
    running = start_tessera("--apply", tenant, prefix=f"tessera-seed003-{connection_id}-")
    try:
        connect_through(running.base, key, proxy, importer_app, connection_id)
        started = time.monotonic()
        connection = full_pass(running.base, connection_id, key=key)
        print(f"a pass over {len(source)} users through {what} took {time.monotonic() - started:.1f} s")
        assert connection["sync"]["lastPassUsers"] == len(source), connection
        directory = imported(directory_api(running.base, key).users, connection_id)
        assert len(directory) == len(source)
        assert set(directory) == set(source)
        yield directory
    finally:
        stop_tessera(running)
        os.remove(tenant)


def test_a_pass_through_429s_and_500s_imports_every_user_once(server, management, bulk, importer_app, proxy):
    source = source_users(server.base_url, management)
    assert len(source) > BULK
    # The probe and the pages meet 429s (Retry-After: 1) and 500s, some back to back.
    proxy.faults = {1: 429, 2: 500, 4: 500, 5: 500, 7: 429, 9: 500}
    with directory_through(proxy, importer_app, "conn_faulty", source, "the faults"):
        assert proxy.errors == []
        # Every fault was served, and each faulted request was asked again.
        served = proxy.users_requests()
        faulted = [entry for entry in served if entry[0] in proxy.faults]
        assert [(entry[0], entry[3]) for entry in faulted] == sorted(proxy.faults.items())
        by_number = {entry[0]: entry for entry in served}
        for number in proxy.faults:
            retry = next(number + step for step in range(1, 10) if by_number[number + step][3] not in (429, 500))
            assert by_number[retry][2] == by_number[number][2], (by_number[number], by_number[retry])


def test_a_source_that_pages_as_auth0_does_is_imported_through_its_users_export_job(server, management, bulk,
                                                                                    importer_app, proxy):
    source = source_users(server.base_url, management)
    assert len(source) > 1_000
    proxy.auth0 = True
    with directory_through(proxy, importer_app, "conn_export", source, "the export job") as directory:
        # Each as the source shows it now (an earlier test renamed, blocked and deleted some of the bulk).
        assert {external_id: (user.display_name, user.email, user.state) for external_id, user in directory.items()} \
            == {user_id: (user.get("name"), user.get("email"), "DISABLED" if user.get("blocked") else "ACTIVE")
                for user_id, user in source.items()}
        assert len(set(bulk) & set(directory)) >= BULK - 1  # at most one of the bulk was deleted
        assert proxy.errors == []

    log = proxy.entries()
    routes = [(method, urlsplit(path).path, parse_qs(urlsplit(path).query), status, authorized)
              for _, method, path, status, authorized in log]
    users_pages = [entry for entry in routes if entry[0] == "GET" and entry[1] == "/api/v2/users"]
    # Tessera's paging was refused, as Auth0 refuses it, and never answered.
    refused = [entry for entry in users_pages if "take" in entry[2] or "from" in entry[2]]
    assert refused and all(entry[3] == 400 for entry in refused), refused
    # No offset page reaches past Auth0's 1,000-user ceiling (the total was asked with include_totals).
    offset = [entry for entry in users_pages if "page" in entry[2]]
    assert any(entry[2].get("include_totals") == ["true"] and entry[3] == 200 for entry in offset), offset
    past = [entry for entry in offset
            if (int(entry[2]["page"][0]) + 1) * int(entry[2].get("per_page", ["50"])[0]) > 1_000]
    assert past == [], past
    # One job, polled until completed, then its file, fetched without a bearer token.
    posts = [entry for entry in routes if entry[0] == "POST" and entry[1] == "/api/v2/jobs/users-exports"]
    assert [(entry[3], entry[4]) for entry in posts] == [(201, True)], posts
    jobs = [entry for entry in routes if entry[1].startswith("/api/v2/jobs/job_")]
    job_id = jobs[0][1].split("/")[4]
    polls = [entry for entry in jobs if entry[1] == f"/api/v2/jobs/{job_id}"]
    files = [entry for entry in jobs if entry[1] == f"/api/v2/jobs/{job_id}/users.json.gz"]
    assert polls and all((entry[0], entry[3], entry[4]) == ("GET", 200, True) for entry in polls), polls
    assert [(entry[0], list(entry[2]), entry[3], entry[4]) for entry in files] == \
        [("GET", ["token"], 200, False)], files
    assert jobs == polls + files, jobs
    order = [entry[1] for entry in routes]
    assert order.index(posts[0][1]) < order.index(polls[0][1]) < order.index(files[0][1]), order
    # After the file, the pass asked the source for no more users.
    assert all(entry[1] != "/api/v2/users" for entry in routes[order.index(files[0][1]):]), routes


def test_a_directory_killed_mid_import_resumes_and_imports_every_user_once(server, management, bulk, importer_app,
                                                                           proxy):
    source = source_users(server.base_url, management)
    proxy.delay = 0.2  # each users page: a pass of ~26 pages takes ~5 s, long enough to stop mid-way
    tenant, key = directory_tenant()
    env = dict(os.environ)
    first = start_tessera("--apply", tenant, env=env, prefix="tessera-seed003-kill-")
    second = None
    try:
        with open(f"/proc/{first.process.pid}/cmdline", "rb") as handle:
            command = [part.decode() for part in handle.read().split(b"\0") if part]
        connect_through(first.base, key, proxy, importer_app, "conn_killed")
        assert admin_call(first.base, "POST", "connections/conn_killed:test", {}, key=key)["state"] == "ACTIVE"
        admin_call(first.base, "POST", "connections/conn_killed:sync", {}, key=key)  # in the background
        deadline = time.monotonic() + 60
        while True:
            sync = admin_call(first.base, "GET", "connections/conn_killed", key=key)["sync"]
            if sync["usersDone"] >= 200:
                break
            assert sync["running"] and time.monotonic() < deadline, sync
            time.sleep(0.02)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        print(f"killed with usersDone {sync['usersDone']} of {len(source)}")
        assert sync["usersDone"] < len(source), sync
        assert first.process.returncode == -signal.SIGKILL
        leaks = leaked_secrets(first.stderr_path)
        assert not leaks, leaks
        requests_before_restart = len(proxy.users_requests())

        # The same command on the same data folder: the pass resumes as the server starts.
        stderr_path = os.path.join(first.tmp, "stderr-restart.log")
        stdout_path = os.path.join(first.tmp, "stdout-restart.log")
        listening = None
        for _ in range(20):  # the port is the same; it is free once the killed process is reaped
            with open(stderr_path, "wb") as err, open(stdout_path, "wb") as out:
                process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
            second = RunningTessera(process, first.base, first.tmp, first.data_dir, stderr_path, stdout_path)
            listening = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                listening = _listening_url(stderr_path)
                if listening:
                    break
                time.sleep(0.1)
            if listening:
                assert listening == first.base, listening
                break
            assert "address already in use" in _tail(stderr_path).lower(), _tail(stderr_path)
            process.wait(timeout=10)
            time.sleep(0.5)
        assert listening, f"the restarted server never listened:\n{_tail(stderr_path)}"
        connection = wait_for_pass(first.base, "conn_killed", 60, key=key)
        with open(stderr_path, errors="replace") as handle:
            assert "resuming directory import" in handle.read(), _tail(stderr_path)
        # It went on from where it was: its first users page carries the saved cursor.
        after_restart = proxy.users_requests()[requests_before_restart:]
        assert after_restart, "the restarted server asked the source for nothing"
        assert "from=" in after_restart[0][2], after_restart[:3]
        assert connection["state"] == "ACTIVE" and "lastError" not in connection["sync"], connection
        assert connection["sync"]["lastPassUsers"] == len(source), connection
        directory = imported(directory_api(first.base, key).users, "conn_killed")
        assert len(directory) == len(source)
        assert set(directory) == set(source)
    finally:
        if second is not None:
            stop_tessera(second)
        elif first.process.poll() is None:
            stop_tessera(first)
        os.remove(tenant)
