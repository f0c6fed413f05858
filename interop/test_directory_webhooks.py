"""The directory's `users.changed` webhooks, received by UserHub's own webhook receiver (`userhub_sdk.webhook.Webhook`
of `userhub-sdk` 0.8.2, unmodified), and the `tessera directory status` / `tessera directory sync` commands.

Webhooks, on SQLite and on PostgreSQL (a fresh database on TESSERA_TEST_POSTGRES_URL's server; skipped when that
variable is unset): one server per store, started with `--apply` of a tenant file holding an admin key; each test
adds its own endpoints with `tessera apply` on the running server's store (`directory.webhooks`), so an endpoint
sees only the changes of its test and of the tests after it (a receiver counts only POSTs to its own path). An endpoint is a loopback HTTP server that hands every POST to
the SDK's `Webhook(secret)` (signature and timestamp checked, body decoded, `on_event` called) and answers what the
SDK answers; it can also be told to answer 500 for its next requests. Users are changed through the SDK's
`AdminApi(...).users` and by a `:sync` pass over the server's own Management API.

What the server promises: each change of a user (create, update, delete, undelete; a purge sends nothing) is POSTed
with `UserHub-Action: events.handle`, `UserHub-Timestamp` and a hex HMAC-SHA256 `UserHub-Signature`, as
`{"id": "evt_…", "time": <updateTime>, "type": "users.changed", "usersChanged": {"user": <FULL user>}}`, in change
order (updateTime, then id), about 2-3 s after the change (a 2 s settle window and a 1 s poll), at least once; an
endpoint that fails (non-2xx or unreachable) is retried with backoff 1 s, 2 s, 4 s ... under the same event id, and
nothing after it is sent before it succeeds; changes to one user inside the settle window arrive as one event; a new
endpoint is sent only changes made after it was added. Waits poll with bounds; no fixed sleeps.

The commands run on the example tenant (test_seed_003.py's `server`: examples/tessera.yaml, TESSERA_BCRYPT_COST=4),
SQLite only, while that server runs on the same data folder: `directory sync --connection conn_tessera` after 300
users made through the Management API (JSON lines when the output is not a terminal; a progress bar on stderr under
`script`), the same tenant through test_seed_003.py's FaultyProxy slowed to 0.6 s a page (a line a second, and
`status` showing the pass running), a connection with a wrong secret and an unknown one; `directory status [--json]`
after each.

Fixtures reused by import: `kind` (sqlite, postgres) from test_directory.py, `server` and `management` from
test_seed_003.py.
"""
import datetime
import hashlib
import hmac
import json
import re
import secrets
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from userhub_sdk import adminv1
from userhub_sdk.webhook import Webhook, WebhookResponse

from conftest import STRONG_PASSWORD, TIMEOUT, BackgroundHTTPServer, _binary, free_port, remember_secret
from test_directory import Directory, _serve, connect, kind, m2m_source, raw, source_user, sync, tag  # noqa: F401
from test_seed_003 import (ADMIN_KEY, CONNECTION, FaultyProxy, connect_through, create_users, m2m_application,  # noqa: F401
                           management, seed_env, server, source_users, wait_for_pass)

EVENT_ID = re.compile(r"^evt_[0-9a-f]{24}$")
WAIT = 20  # the bound of every wait for a delivery
EARLIEST = 1.5  # a change is sent no sooner than this after its API call answered (the 2 s settle window)
LATEST = 6.0  # ... and no later than this when its endpoint accepts at once ("about 2-3 s")
CLI_SECONDS = 60
BULK = 300


# ---------------------------------------------------------------------------------------------------- the receiver

@dataclass
class Attempt:
    """One POST the endpoint received, and what it answered."""
    at: float  # time.monotonic() when it arrived
    wall: float  # time.time() when it arrived
    headers: dict
    raw: bytes  # the body as sent
    status: int
    answer: bytes

    @property
    def body(self) -> dict:
        return json.loads(self.raw)


class Receiver(BackgroundHTTPServer):
    """A webhook endpoint on 127.0.0.1 that hands each request to UserHub's `Webhook(secret)` and answers with the
    SDK's response; `events` holds what the SDK verified, decoded and passed to `on_event` (with the arrival time).
    `fail` answers the next that many requests 500 without handing them to the SDK; `use` changes the secret.
    Only POSTs to its own path count: an endpoint of an earlier test that had the same port is answered 404."""

    def __init__(self, secret: str, path: str, port: int = 0):
        self.lock = threading.Lock()
        self.events = []  # (time.monotonic(), eventsv1.Event), in the order the SDK accepted them
        self.attempts = []  # Attempt, every request
        self.fail = 0
        self.use(secret)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != path:
                    self.send_error(404)
                    return
                arrived, wall = time.monotonic(), time.time()
                with receiver.lock:
                    failing = receiver.fail > 0
                    receiver.fail -= failing
                    webhook = receiver.webhook
                if failing:
                    response = WebhookResponse(500, {"Content-Type": "application/json"},
                                               b'{"message":"injected by the test","code":"UNAVAILABLE"}')
                else:
                    response = webhook(headers=dict(self.headers.items()), body=body)
                with receiver.lock:
                    receiver.attempts.append(Attempt(arrived, wall, dict(self.headers.items()), body,
                                                     response.status_code, response.body))
                self.send_response(response.status_code)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"
        self.serve_in_background("webhook-receiver")

    def use(self, secret: str) -> None:
        remember_secret(secret)
        webhook = Webhook(secret)

        def record(event):
            with self.lock:
                self.events.append((time.monotonic(), event))

        webhook.on_event(record)
        with self.lock:
            self.webhook = webhook

    def accepted(self) -> list:
        with self.lock:
            return [event for _, event in self.events]

    def tried(self) -> list:
        with self.lock:
            return list(self.attempts)


def wait_for(predicate, what: str, seconds: float = WAIT):
    """Polls `predicate` until it returns something truthy; fails with `what` past the bound."""
    deadline = time.monotonic() + seconds
    while True:
        found = predicate()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.05)


def wait_for_events(receiver: Receiver, count: int, seconds: float = WAIT) -> list:
    wait_for(lambda: len(receiver.accepted()) >= count,
             f"{count} accepted events (have {receiver.accepted()!r}, attempts {receiver.tried()!r})", seconds)
    return receiver.accepted()


# ---------------------------------------------------------------------------------------------------- the servers

@pytest.fixture(scope="module")
def hooked(kind):
    """A directory server whose store the CLI opens too (test_directory.py's, on `kind`'s store)."""
    yield from _serve(kind)


def cli(env: dict, *args, timeout: float = CLI_SECONDS) -> subprocess.CompletedProcess:
    return subprocess.run([_binary(), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def add_webhooks(hooked: Directory, *webhooks) -> None:
    """`tessera apply` of a tenant file with these `directory.webhooks` entries ((id, url, secret) each), on the
    running server's store."""
    lines = ["directory:", "  webhooks:"]
    for webhook_id, url, secret in webhooks:
        remember_secret(secret)
        lines.append(f'    - {{ id: {webhook_id}, url: "{url}", signing_secret: "{secret}" }}')
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="tessera-webhooks-") as tenant:
        tenant.write("\n".join(lines) + "\n")
        tenant.flush()
        applied = cli(hooked.env, "apply", tenant.name, *hooked.store, "--issuer", hooked.base_url + "/")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for webhook_id, url, secret in webhooks:
        assert f"saved directory webhook {webhook_id} ({url})" in applied.stdout, applied.stdout
        assert secret not in applied.stdout + applied.stderr


def status(hooked_env: dict, store: list) -> dict:
    shown = cli(hooked_env, "directory", "status", "--json", *store)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    return json.loads(shown.stdout)


def status_text(hooked_env: dict, store: list) -> list:
    shown = cli(hooked_env, "directory", "status", *store)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    return shown.stdout.splitlines()


def webhook_status(hooked: Directory, webhook_id: str) -> dict:
    found = [webhook for webhook in status(hooked.env, hooked.store)["webhooks"] if webhook["id"] == webhook_id]
    assert len(found) == 1, found
    return found[0]


def rfc3339(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def in_order(users: list) -> list:
    """Users in the order their changes are sent: updateTime, then id."""
    return sorted(users, key=lambda user: (user.update_time, user.id))


def assert_signed(attempt: Attempt, secret: str):
    """What the SDK checked, checked again from the headers: the action, the unix time of the sending, the hex
    HMAC-SHA256 of "<timestamp>.<body>"; and the JSON content type."""
    headers = {name.lower(): value for name, value in attempt.headers.items()}
    assert headers["userhub-action"] == "events.handle", headers
    assert headers["content-type"] == "application/json", headers
    assert abs(int(headers["userhub-timestamp"]) - attempt.wall) < 2, (headers, attempt.wall)
    assert headers["userhub-signature"] == hmac.new(
        secret.encode(), headers["userhub-timestamp"].encode() + b"." + attempt.raw, hashlib.sha256).hexdigest()


def assert_events(events: list, users: list):
    """Events for these users, in this order, each carrying the user exactly as the API shows it (FULL)."""
    assert [event.users_changed.user for event in events] == users, \
        [(event.users_changed.user.id, event.users_changed.user.state) for event in events]
    for event, user in zip(events, users):
        assert EVENT_ID.match(event.id), event.id
        assert (event.type, event.time) == ("users.changed", user.update_time), event
        assert event.users_changed.user.view == "FULL"


# ---------------------------------------------------------------------------------------------------- webhooks

def test_each_change_is_sent_signed_in_order_with_the_user_as_the_api_shows_it(hooked):
    users = hooked.admin
    run = tag()
    # Made before the endpoint exists: never sent, unless changed afterwards.
    earlier = [users.create(display_name=f"Earlier {run} {index}", unique_id=f"earlier-{run}-{index}")
               for index in range(2)]
    secret = "whsec-" + secrets.token_hex(16)
    webhook_id = "wh_app_" + run
    with Receiver(secret, "/" + webhook_id) as receiver:
        add_webhooks(hooked, (webhook_id, receiver.url, secret))
        assert webhook_status(hooked, webhook_id) == {"id": webhook_id, "url": receiver.url, "delivered": 0,
                                                      "attempts": 0}
        made = {}  # (user id, updateTime) -> time.monotonic() when the change's call answered

        def changed(user: adminv1.User) -> adminv1.User:
            made[user.id, user.update_time] = time.monotonic()
            return user

        # 1) Created through the API (carl and dora deleted at once: one event each, deleted), one earlier user
        #    updated, two users imported by a sync pass over the server's own Management API.
        ann = changed(users.create(display_name=f"Ann {run}", email=f"ann-{run}@example.com", unique_id=f"ann-{run}",
                                   language_code="fr", phone_number="+12125550123"))
        bob = changed(users.create(display_name=f"Bob {run}", disabled=True))
        carl = changed(users.delete(users.create(display_name=f"Carl {run}").id))
        dora = changed(users.delete(users.create(display_name=f"Dora {run}", email=f"dora-{run}@example.com").id))
        renamed = changed(users.update(earlier[0].id, display_name=f"Earlier {run} renamed", region_code="GB"))
        source = m2m_source(hooked.base_url, hooked.data_dir)
        people = [source_user(source, f"Imported {run} {index}") for index in range(2)]
        connection = connect(hooked, source, display_name="Self " + run)
        sync(hooked, connection["id"])
        imported = [changed(users.get(f"{person.user_id}@{connection['id']}")) for person in people]
        assert [user.account_connections[0].external_id for user in imported] == [p.user_id for p in people]
        assert (ann.state, bob.state, carl.state, dora.state, imported[0].state, imported[1].state) == \
            ("ACTIVE", "DISABLED", "PENDING_DELETION", "PENDING_DELETION", "ACTIVE", "ACTIVE")
        first = in_order([ann, bob, carl, dora, renamed, *imported])
        events = wait_for_events(receiver, len(first))
        assert_events(events, first)

        # 2) Two updates of ann inside the settle window (one event, as she is after both), bob deleted, carl
        #    undeleted, dora purged (nothing is sent), erin created: the events after dora's are exactly these.
        users.update(ann.id, display_name=f"Ann {run} second")
        ann = changed(users.update(ann.id, language_code="de", phone_number=None))
        bob = changed(users.delete(bob.id))
        carl = changed(users.undelete(carl.id))
        assert users.purge(dora.id) == adminv1.PurgeUserResponse()
        erin = changed(users.create(display_name=f"Erin {run}"))
        # A pass that finds one source user renamed: that user is sent, the unchanged one is not.
        source.management.users.update(people[1].user_id, name=f"Imported {run} renamed")
        sync(hooked, connection["id"])
        moved = changed(users.get(imported[1].id))
        assert (moved.display_name, users.get(imported[0].id)) == (f"Imported {run} renamed", imported[0])
        assert (ann.display_name, ann.language_code, ann.phone_number, bob.state, carl.state) == \
            (f"Ann {run} second", "de", None, "PENDING_DELETION", "ACTIVE")
        second = in_order([ann, bob, carl, erin, moved])
        everyone = first + second
        events = wait_for_events(receiver, len(everyone))
        assert_events(events[len(first):], second)
        assert_events(events, everyone)

        attempts = receiver.tried()
        assert [attempt.status for attempt in attempts] == [200] * len(everyone), [a.body for a in attempts]
        assert len({event.id for event in events}) == len(everyone), [event.id for event in events]
        for attempt, (at, event) in zip(attempts, receiver.events):
            assert_signed(attempt, secret)
            assert attempt.body["id"] == event.id
            waited = at - made[event.users_changed.user.id, event.time]
            assert EARLIEST <= waited <= LATEST, (event.users_changed.user.id, waited)
        waits = [at - made[event.users_changed.user.id, event.time] for at, event in receiver.events]
        print(f"{hooked.kind}: each change arrived {min(waits):.2f} to {max(waits):.2f} s after its call")
        # The earlier user not changed since the endpoint was added is not sent; the other one only once, renamed.
        sent = [event.users_changed.user.id for event in events]
        assert earlier[1].id not in sent and sent.count(earlier[0].id) == 1

        # What `directory status` says of the endpoint and of the connection.
        shown = status(hooked.env, hooked.store)
        mine = [webhook for webhook in shown["webhooks"] if webhook["id"] == webhook_id]
        assert mine == [{"id": webhook_id, "url": receiver.url, "delivered": len(everyone), "attempts": 0,
                         "lastDeliveryTime": mine[0]["lastDeliveryTime"]}], shown
        assert rfc3339(mine[0]["lastDeliveryTime"]) >= erin.update_time
        ours = [found for found in shown["connections"] if found["id"] == connection["id"]]
        got = raw(hooked, "GET", f"connections/{connection['id']}").json()
        assert ours == [{**got, "users": 2}], shown
        lines = status_text(hooked.env, hooked.store)
        assert f"{webhook_id}\twebhook\t{len(everyone)} delivered\tlast {mine[0]['lastDeliveryTime']}\t{receiver.url}" \
            in lines, lines
        assert f"{connection['id']}\tACTIVE\t2 users\tlast pull {got['sync']['lastPullTime']}\t{source.domain}" \
            in lines, lines


def test_failing_endpoints_are_retried_with_backoff_under_the_same_event_id_and_lose_nothing(hooked):
    """Two endpoints added together, sent the same changes. `refusing` is UserHub's receiver holding another secret
    (the SDK refuses every signature) until it is given the right one; `flaky` is unreachable at first (nothing listens
    on its port), then up and answering 500 once, then as the SDK answers."""
    users = hooked.admin
    run = tag()
    right = "whsec-" + secrets.token_hex(16)
    wrong = "whsec-" + secrets.token_hex(16)
    refusing_id, flaky_id = "wh_refusing_" + run, "wh_flaky_" + run
    port = free_port()
    flaky_url = f"http://127.0.0.1:{port}/{flaky_id}"
    with Receiver(wrong, "/" + refusing_id) as refusing:
        add_webhooks(hooked, (refusing_id, refusing.url, right), (flaky_id, flaky_url, right))
        first = users.create(display_name=f"Wes {run}", unique_id=f"wes-{run}")
        wait_for(lambda: refusing.tried(), "a first delivery")
        # Made while the first is refused: it waits behind it, at both endpoints.
        later = users.create(display_name=f"Wes {run} later")

        down = wait_for(lambda: (lambda found: found if found["attempts"] >= 1 else None)(
            webhook_status(hooked, flaky_id)), "a failed delivery to the unreachable endpoint")
        assert (down["delivered"], "lastDeliveryTime" in down, bool(down["lastError"])) == (0, False, True), down
        print(f"{hooked.kind}: unreachable endpoint: {down['lastError']!r}")
        flaky = Receiver(right, "/" + flaky_id, port=port)
        flaky.fail = 1  # up, but its first answer is a 500
        with flaky:
            wait_for(lambda: len(refusing.tried()) >= 2, "a retry of the refused delivery")
            failing = webhook_status(hooked, refusing_id)
            refused = refusing.tried()
            # The SDK refused each with its own answer, a 500 saying the signatures differ; on_event never ran.
            assert refusing.accepted() == []
            assert [(attempt.status, json.loads(attempt.answer)) for attempt in refused] == \
                [(500, {"message": "Signatures do not match", "code": "UNKNOWN"})] * len(refused), refused
            assert {attempt.body["id"] for attempt in refused} == {refused[0].body["id"]}
            assert refused[0].body["usersChanged"]["user"]["id"] == first.id
            assert (failing["delivered"], "lastDeliveryTime" in failing) == (0, False), failing
            assert failing["attempts"] >= 1, failing
            assert failing["lastError"].startswith("status 500: ") and "Signatures do not match" in \
                failing["lastError"], failing
            line = next(line for line in status_text(hooked.env, hooked.store) if line.startswith(refusing_id + "\t"))
            assert re.fullmatch(rf"{refusing_id}\twebhook\t0 delivered\tlast never\terror \(\d+ tries\): status 500: "
                                rf".*Signatures do not match.*\t{re.escape(refusing.url)}", line), line

            # Given the right secret, the receiver accepts the same event, then the later one.
            refusing.use(right)
            expected = [users.get(first.id), users.get(later.id)]
            assert_events(wait_for_events(refusing, 2), expected)
            assert_events(wait_for_events(flaky, 2), expected)

    for receiver in (refusing, flaky):
        attempts = receiver.tried()
        events = receiver.accepted()
        accepted_at = next(index for index, attempt in enumerate(attempts) if attempt.status == 200)
        assert [attempt.status for attempt in attempts[accepted_at:]] == [200, 200], attempts
        assert [attempt.body["id"] for attempt in attempts[:accepted_at + 1]] == [events[0].id] * (accepted_at + 1)
        assert attempts[-1].body["id"] == events[1].id
        for attempt in attempts[accepted_at:]:
            assert_signed(attempt, right)
    # Backoff: 1 s, then 2 s, then 4 s ... between tries of one event (plus up to a 1 s poll).
    tries = refusing.tried()
    gaps = [round(b.at - a.at, 2) for a, b in zip(tries, tries[1:-1])]
    assert len(gaps) >= 2, gaps
    for index, gap in enumerate(gaps):
        assert 2 ** index - 0.1 <= gap <= 2 ** index + 1.5, gaps
    # The flaky one was tried at least once unreachable, so its 500 is retried at least 2 s later.
    assert [attempt.status for attempt in flaky.tried()] == [500, 200, 200]
    assert flaky.tried()[1].at - flaky.tried()[0].at >= 1.9, [attempt.at for attempt in flaky.tried()]
    for webhook_id in (refusing_id, flaky_id):
        final = webhook_status(hooked, webhook_id)
        assert (final["delivered"], final["attempts"], "lastError" in final) == (2, 0, False), final


# ---------------------------------------------------------------------------------------------------- the commands

def cli_env() -> dict:
    return seed_env()


@pytest.fixture(scope="module")
def bulk(server, management):
    """BULK users made through the example tenant's Management API, after its first pass."""
    wait_for_pass(server.base_url, CONNECTION, 60)
    return list(create_users(server, management, BULK, "Cli", STRONG_PASSWORD, 120))


def connection_status(server, connection_id: str) -> dict:
    found = [item for item in status(cli_env(), ["--data-dir", server.data_dir])["connections"]
             if item["id"] == connection_id]
    assert len(found) == 1, found
    return found[0]


def assert_progress(progress: list, connection_id: str, total: int):
    """The lines before the last: at least one (the first page), each {connection, done, total, rate, eta_s,
    elapsed_s} with the source's total, at least a second apart, done growing."""
    assert progress, "no progress line"
    for line in progress:
        assert set(line) == {"connection", "done", "total", "rate", "eta_s", "elapsed_s"}, line
        assert (line["connection"], line["total"]) == (connection_id, total), line
        assert 0 < line["done"] <= total and line["rate"] > 0 and line["eta_s"] >= 0, line
    assert [line["done"] for line in progress] == sorted(line["done"] for line in progress), progress
    elapsed = [line["elapsed_s"] for line in progress]
    assert all(later - earlier >= 0.9 for earlier, later in zip(elapsed, elapsed[1:])), progress


def test_directory_sync_imports_conn_tessera_in_the_foreground_with_json_lines(server, management, bulk):
    source = source_users(server.base_url, management)
    assert set(bulk) <= set(source)
    before = connection_status(server, CONNECTION)
    started = time.monotonic()
    ran = cli(cli_env(), "directory", "sync", "--connection", CONNECTION, "--data-dir", server.data_dir)
    elapsed = time.monotonic() - started
    assert ran.returncode == 0, ran.stdout + ran.stderr[-3000:]
    lines = [json.loads(line) for line in ran.stdout.splitlines()]
    print(f"directory sync over {len(source)} users: {elapsed:.1f} s, {len(lines)} lines")
    *progress, last = lines
    assert set(last) == {"connection", "done", "total", "rate", "elapsed_s", "finished"}, last
    assert (last["connection"], last["finished"], last["done"], last["total"]) == \
        (CONNECTION, True, len(source), len(source)), last
    assert 0 < last["elapsed_s"] <= elapsed and last["rate"] > 0, last
    assert_progress(progress, CONNECTION, len(source))

    after = connection_status(server, CONNECTION)
    assert after["users"] == len(source), after
    assert after["state"] == "ACTIVE" and after["sync"]["running"] is False, after
    assert after["sync"]["lastPassUsers"] == len(source) and "lastError" not in after["sync"], after
    assert rfc3339(after["sync"]["lastPullTime"]) > rfc3339(before["sync"]["lastPullTime"]), (before, after)
    assert after["id"] == CONNECTION and after["auth0"]["domain"] == server.base_url.rstrip("/"), after
    # The server sees the same connection (the CLI wrote to its store).
    served = requests.get(server.base_url + "admin/v1/connections/" + CONNECTION, timeout=TIMEOUT,
                          headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()
    assert {**served, "users": len(source)} == after
    lines = status_text(cli_env(), ["--data-dir", server.data_dir])
    assert f"{CONNECTION}\tACTIVE\t{len(source)} users\tlast pull {after['sync']['lastPullTime']}\t" \
           f"{server.base_url.rstrip('/')}" in lines, lines


def test_directory_sync_prints_a_json_line_a_second_from_a_slow_source(server, management, bulk):
    """A second connection to the same tenant through a proxy that waits 0.6 s before each users page: the pass takes
    a few seconds, and the command prints a line a second while it runs."""
    source = source_users(server.base_url, management)
    app = m2m_application(server.base_url, management, server.audience)
    with FaultyProxy(server.base_url) as proxy:
        proxy.delay = 0.6
        connect_through(server.base_url, ADMIN_KEY, proxy, app, "conn_slow")
        started = time.monotonic()
        running = subprocess.Popen([_binary(), "directory", "sync", "--connection", "conn_slow", "--data-dir",
                                    server.data_dir], env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, text=True)
        try:
            # Meanwhile `directory status` shows the pass running, in text and in JSON.
            line = wait_for(lambda: next((line for line in status_text(cli_env(), ["--data-dir", server.data_dir])
                                          if line.startswith("conn_slow\t") and "\trunning: " in line), None),
                            "conn_slow shown running", seconds=CLI_SECONDS)
            assert re.fullmatch(rf"conn_slow\t[A-Z_]+\t\d+ users\tlast pull never\trunning: \d+( / {len(source)})? "
                                rf"users\t{re.escape(proxy.url)}", line), line
            assert connection_status(server, "conn_slow")["sync"]["running"] is True or running.poll() is not None
            out, err = running.communicate(timeout=CLI_SECONDS)
        finally:
            if running.poll() is None:
                running.kill()
                running.wait()
        elapsed = time.monotonic() - started
    assert running.returncode == 0, out + err[-3000:]
    print(f"while it ran: {line!r}")
    lines = [json.loads(line) for line in out.splitlines()]
    print(f"directory sync through the slow proxy: {elapsed:.1f} s, lines {lines}")
    *progress, last = lines
    assert len(progress) >= 2, lines
    assert_progress(progress, "conn_slow", len(source))
    assert (last["connection"], last["finished"], last["done"], last["total"]) == \
        ("conn_slow", True, len(source), len(source)), last
    assert last["elapsed_s"] >= progress[-1]["elapsed_s"], lines
    slow = connection_status(server, "conn_slow")
    assert (slow["users"], slow["state"], slow["sync"]["lastPassUsers"]) == (len(source), "ACTIVE", len(source)), slow


def test_directory_sync_on_a_terminal_draws_a_progress_bar(server, management, bulk, tmp_path):
    total = len(source_users(server.base_url, management))
    # stderr on a terminal (`script`'s), stdout to a file: the bar is drawn on stderr, and no JSON is printed.
    stdout = tmp_path / "stdout.txt"
    command = (f"{_binary()} directory sync --connection {CONNECTION} --data-dir {server.data_dir} --log-level error"
               f" > {stdout}")
    ran = subprocess.run(["script", "-qec", command, "/dev/null"], env=cli_env(), capture_output=True,
                         timeout=CLI_SECONDS, stdin=subprocess.DEVNULL)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert stdout.read_text() == ""
    output = ran.stdout.decode()
    assert output.startswith("\r") and output.endswith("\r\n"), repr(output)  # the terminal's \n is \r\n
    *drawn, last = output[1:-2].split("\r")
    bar = rf"{CONNECTION} \[([#.]{{30}})\] (\d+) / {total} users  \d+/s  "
    assert re.fullmatch(bar + r"done in 0:0\d", last), repr(output)
    assert re.fullmatch(bar, last[:last.index("done")]).group(1) == "#" * 30 and f" {total} / {total} " in last
    for frame in drawn:
        match = re.fullmatch(bar + r"ETA (\d+:\d\d|\?)\s*", frame)
        assert match and int(match.group(2)) <= total, repr(frame)
    print(f"{len(drawn)} frames, then {last!r}")


def test_directory_sync_of_a_failing_or_unknown_connection_exits_1(server, management):
    wait_for_pass(server.base_url, CONNECTION, 60)
    domain = server.base_url.rstrip("/")
    wrong = "wrong-secret-" + secrets.token_hex(8)
    remember_secret(wrong)
    made = requests.post(server.base_url + "admin/v1/connections", timeout=TIMEOUT,
                         headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                         json={"id": "conn_broken", "displayName": "Broken",
                               "auth0": {"domain": domain, "clientId": "no-such-client", "clientSecret": wrong}})
    assert made.status_code == 200, made.text
    ran = cli(cli_env(), "directory", "sync", "--connection", "conn_broken", "--data-dir", server.data_dir)
    assert ran.returncode == 1, ran.stdout + ran.stderr[-3000:]
    last = json.loads(ran.stdout.splitlines()[-1])
    assert set(last) == {"connection", "finished", "error"} and (last["connection"], last["finished"]) == \
        ("conn_broken", False), last
    assert last["error"].startswith(f"{domain} refused the client-credentials grant with 401"), last
    print(f"the failed pass: {last}")
    broken = connection_status(server, "conn_broken")
    assert (broken["users"], broken["sync"]["lastError"], broken["sync"]["running"]) == (0, last["error"], False), \
        broken
    lines = status_text(cli_env(), ["--data-dir", server.data_dir])
    assert f"conn_broken\t{broken['state']}\t0 users\tlast pull never\terror: {last['error']}\t{domain}" in lines, \
        lines
    assert status(cli_env(), ["--data-dir", server.data_dir])["webhooks"] == []

    unknown = cli(cli_env(), "directory", "sync", "--connection", "conn_x", "--data-dir", server.data_dir)
    assert (unknown.returncode, unknown.stdout) == (1, ""), unknown
    assert unknown.stderr.endswith("error: Connection not found: conn_x\n"), unknown.stderr
