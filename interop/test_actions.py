"""Post-login Actions in real sign-ins, driven through the Management API with requests and authlib.

The seeds' actions come byte for byte from examples/actions/: PyJWT verifies the Tinybird JWT that seed 000 puts
in the ID token with the workspace admin token (HS256); seed 004's claims reach the access token and its sync
action posts to a loopback stand-in for Hasura. Flows built here cover ordering, metadata, the cache, reserved
claims, denials, failures, runaway code, deploy-time checks and secrets."""
import json
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from conftest import TIMEOUT, _binary, pkce_pair, remember_secret
from test_signin import api, discovery, login_form, oauth_session, sign_in, spa, submit_credentials, user  # noqa: F401

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "actions"
ADMIN_TOKEN = "p.interop-admin-token-with-enough-entropy-0123456789"
remember_secret(ADMIN_TOKEN)


@pytest.fixture
def tinybird_flow(server, admin):
    """Creates, deploys and binds the seed 000 action; unbinds it afterwards so other tests sign in plainly."""
    created = admin.post(server.url("api/v2/actions/actions"), json={
        "name": "Tinybird JWT (interop)",
        "supported_triggers": [{"id": "post-login", "version": "v3"}],
        "code": (EXAMPLES / "tinybird-jwt.js").read_text(),
        "dependencies": [{"name": "jsonwebtoken", "version": "9.0.2"}],
        "secrets": [{"name": "TINYBIRD_ADMIN_TOKEN", "value": ADMIN_TOKEN}],
        "configuration": {"TINYBIRD_WORKSPACE_ID": "ws-interop", "TINYBIRD_PIPE_NAMES": "sales_by_city,top_days"},
    }, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    assert ADMIN_TOKEN not in created.text
    action_id = created.json()["id"]
    assert admin.post(server.url(f"api/v2/actions/actions/{action_id}/deploy"), timeout=TIMEOUT).status_code == 201
    bound = admin.patch(server.url("api/v2/actions/triggers/post-login/bindings"), json={
        "bindings": [{"ref": {"type": "action_id", "value": action_id}, "display_name": "Tinybird JWT"}]}, timeout=TIMEOUT)
    assert bound.status_code == 200, bound.text
    yield action_id
    admin.patch(server.url("api/v2/actions/triggers/post-login/bindings"), json={"bindings": []}, timeout=TIMEOUT)
    admin.delete(server.url(f"api/v2/actions/actions/{action_id}"), timeout=TIMEOUT)


def test_seed_tinybird_action_in_a_real_sign_in(server, admin, discovery, spa, user, tinybird_flow):
    result = sign_in(discovery, spa, user["email"], user["password"])
    id_claims = jwt.decode(result.token["id_token"], options={"verify_signature": False})
    tinybird = id_claims["https://app.tinybird.co"]

    claims = jwt.decode(tinybird, ADMIN_TOKEN, algorithms=["HS256"])
    assert claims["workspace_id"] == "ws-interop"
    assert claims["name"] == f"tinybird_jwt_{user['user_id']}"
    assert claims["scopes"] == [{"type": "PIPES:READ", "resource": "sales_by_city"},
                                {"type": "PIPES:READ", "resource": "top_days"}]
    assert abs(claims["exp"] - (time.time() + 7 * 86400)) < 120
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tinybird, "not-the-admin-token-not-the-admin-token", algorithms=["HS256"])

    profile = admin.get(server.url(f"api/v2/users/{user['user_id']}"), timeout=TIMEOUT).json()
    assert profile["app_metadata"]["tinybirdJWT"] == tinybird

    listed = admin.get(server.url("api/v2/actions/actions"), timeout=TIMEOUT)
    assert ADMIN_TOKEN not in listed.text


# --- flows built in the tests -------------------------------------------------------------------------------------


class Flow:
    """Creates, deploys and binds actions in order through the Management API; unbinds and deletes them after."""

    def __init__(self, server, admin):
        self.server, self.admin, self.ids = server, admin, []

    def bind(self, *actions):
        for action in actions:
            body = {"name": f"{action['name']} {uuid.uuid4().hex[:6]}", "code": action["code"],
                    "supported_triggers": [{"id": "post-login", "version": "v3"}],
                    "secrets": [{"name": k, "value": v} for k, v in action.get("secrets", {}).items()],
                    "configuration": action.get("configuration", {})}
            created = self.admin.post(self.server.url("api/v2/actions/actions"), json=body, timeout=TIMEOUT)
            assert created.status_code == 201, created.text
            action_id = created.json()["id"]
            deployed = self.admin.post(self.server.url(f"api/v2/actions/actions/{action_id}/deploy"), timeout=TIMEOUT)
            assert deployed.status_code == 201, deployed.text
            self.ids.append(action_id)
        bound = self.admin.patch(self.server.url("api/v2/actions/triggers/post-login/bindings"), json={
            "bindings": [{"ref": {"type": "action_id", "value": i}} for i in self.ids[-len(actions):]]}, timeout=TIMEOUT)
        assert bound.status_code == 200, bound.text
        return self.ids[-len(actions):]

    def close(self):
        self.admin.patch(self.server.url("api/v2/actions/triggers/post-login/bindings"), json={"bindings": []}, timeout=TIMEOUT)
        for action_id in self.ids:
            self.admin.delete(self.server.url(f"api/v2/actions/actions/{action_id}"), timeout=TIMEOUT)


@pytest.fixture
def flow(server, admin):
    built = Flow(server, admin)
    yield built
    built.close()


def denied_sign_in(discovery, spa, email, password, timeout=TIMEOUT) -> dict:
    """Signs in through the hosted page and returns the query the browser is sent back to the callback with."""
    oauth = oauth_session(spa)
    verifier, _ = pkce_pair()
    url, state = oauth.create_authorization_url(discovery["authorization_endpoint"], state=uuid.uuid4().hex,
                                                code_verifier=verifier, nonce=uuid.uuid4().hex)
    browser = requests.Session()
    response = submit_credentials(browser, login_form(browser.get(url, timeout=TIMEOUT)), email, password, timeout=timeout)
    location = response.headers["Location"]
    assert location.startswith(spa.callback), location
    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    assert query.get("state") == state
    return query


class Receiver(BaseHTTPRequestHandler):
    """A loopback stand-in for Hasura: records each request and answers like a GraphQL server."""
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                  "body": json.loads(body)})
        answer = json.dumps({"data": {"insert_users_one": {"userId": "x"}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def apply_outbound(server, folder, allow):
    """Sets the Actions outbound allow list with `tessera apply`, on the running server's store."""
    tenant = folder / f"outbound-{uuid.uuid4().hex[:6]}.yaml"
    tenant.write_text("outbound:\n  allow: " + json.dumps(allow) + "\n")
    applied = subprocess.run([_binary(), "apply", str(tenant), "--data-dir", server.data_dir], capture_output=True, text=True,
                             timeout=60, stdin=subprocess.DEVNULL)
    assert applied.returncode == 0, applied.stderr


@pytest.fixture
def hasura_receiver(server, tmp_path):
    # A stand-in on loopback: reachable because the tenant names it, as the example tenant names its own GraphQL engine.
    apply_outbound(server, tmp_path, ["*", "127.0.0.1"])
    Receiver.received = []
    httpd = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1/graphql"
    httpd.shutdown()


def test_seed_hasura_actions_claims_and_user_sync(server, discovery, api, spa, user, flow, hasura_receiver):  # noqa: F811
    # As the seed instructs: swap only the URL and the admin secret.
    sync = (EXAMPLES / "hasura-sync-users.js").read_text() \
        .replace("http://127.0.0.1:8080/v1/graphql", hasura_receiver) \
        .replace("demo-hasura-admin-secret-change-me", "interop-hasura-admin-secret")
    flow.bind({"name": "Hasura claims", "code": (EXAMPLES / "hasura-jwt-claims.js").read_text()},
              {"name": "Hasura sync", "code": sync})
    result = sign_in(discovery, spa, user["email"], user["password"], audience=api["identifier"])
    access = jwt.decode(result.token["access_token"], options={"verify_signature": False})
    assert access["https://hasura.io/jwt/claims"] == {
        "x-hasura-default-role": "user", "x-hasura-allowed-roles": ["user"], "x-hasura-user-id": user["user_id"]}
    assert len(Receiver.received) == 1
    request = Receiver.received[0]
    assert request["path"] == "/v1/graphql"
    assert request["headers"]["x-hasura-admin-secret"] == "interop-hasura-admin-secret"
    assert request["headers"]["content-type"] == "application/json"
    assert "insert_users_one" in request["body"]["query"]
    assert request["body"]["variables"] == {"userId": user["user_id"], "userName": None}


ORDERED_FIRST = """
exports.onExecutePostLogin = async (event, api) => {
  const visits = Number((api.cache.get('visits') || { value: '0' }).value) + 1;
  api.cache.set('visits', String(visits));
  api.user.setAppMetadata('tier', 'gold');
  api.user.setUserMetadata('theme', null);
  api.idToken.setCustomClaim('https://interop.test/visits', visits);
  api.idToken.setCustomClaim('nonce', 'forged');
  api.accessToken.setCustomClaim('aud', 'https://evil.test/');
  api.accessToken.addScope('read:reports');
  api.accessToken.removeScope('profile');
  console.log('key is', event.secrets.API_KEY);
};
"""
ORDERED_SECOND = """
exports.onExecutePostLogin = async (event, api) => {
  api.idToken.setCustomClaim('https://interop.test/order', [event.user.app_metadata.tier, event.user.user_metadata.theme === undefined]);
  api.idToken.setCustomClaim('https://interop.test/url', new URL('/x?y=1', 'https://example.com/a').href);
  await new Promise((resolve) => setTimeout(resolve, 5));
};
"""


def test_flow_order_metadata_cache_and_reserved_claims(server, admin, discovery, api, spa, user, flow):  # noqa: F811
    admin.patch(server.url(f"api/v2/users/{user['user_id']}"), json={"user_metadata": {"theme": "dark", "lang": "fr"}},
                timeout=TIMEOUT)
    secret = "sk_interop_" + uuid.uuid4().hex
    remember_secret(secret)
    flow.bind({"name": "First", "code": ORDERED_FIRST, "secrets": {"API_KEY": secret}},
              {"name": "Second", "code": ORDERED_SECOND})
    visits = []
    for _ in range(2):
        result = sign_in(discovery, spa, user["email"], user["password"], audience=api["identifier"])
        claims = jwt.decode(result.token["id_token"], options={"verify_signature": False})
        visits.append(claims["https://interop.test/visits"])
        assert claims["https://interop.test/order"] == ["gold", True]
        assert claims["https://interop.test/url"] == "https://example.com/x?y=1"
        assert claims["nonce"] == result.nonce, "a reserved claim set by an action is dropped"
        access = jwt.decode(result.token["access_token"], options={"verify_signature": False})
        assert "https://evil.test/" not in access["aud"]
        granted = access["scope"].split()
        assert "read:reports" in granted and "profile" not in granted and "openid" in granted, granted
    assert visits == [1, 2]
    profile = admin.get(server.url(f"api/v2/users/{user['user_id']}"), timeout=TIMEOUT).json()
    assert profile["app_metadata"]["tier"] == "gold"
    assert profile["user_metadata"] == {"lang": "fr"}

    # Secrets: never in an API response, the execution record or the server's log.
    for path in ["api/v2/actions/actions", f"api/v2/actions/actions/{flow.ids[0]}",
                 f"api/v2/actions/actions/{flow.ids[0]}/versions", "api/v2/actions/triggers/post-login/bindings"]:
        response = admin.get(server.url(path), timeout=TIMEOUT)
        assert response.status_code == 200 and secret not in response.text, path
    with open(server.stderr_path, errors="replace") as log:
        assert secret not in log.read()


@pytest.mark.parametrize("code, description", [
    ("exports.onExecutePostLogin = async (event, api) => { api.access.deny('Members only'); };", "Members only"),
    ("exports.onExecutePostLogin = async () => { throw new Error('broken ' + 'on purpose'); };", "failed: Error: broken on purpose"),
    ("exports.onExecutePostLogin = async () => Promise.reject(new TypeError('rejected'));", "failed: TypeError: rejected"),
    ("exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('https://x.test/big', 'x'.repeat(120000)); };",
     "more than the 100 KB allowed"),
])
def test_denying_throwing_and_oversized_actions_end_the_sign_in(server, admin, discovery, spa, user, flow, code, description):
    flow.bind({"name": "Gate", "code": code})
    query = denied_sign_in(discovery, spa, user["email"], user["password"])
    assert query["error"] == "access_denied"
    assert description in query["error_description"]
    assert "code" not in query


def test_runaway_action_is_stopped_and_the_server_keeps_serving(server, discovery, spa, user, flow):
    flow.bind({"name": "Loop", "code": "exports.onExecutePostLogin = async () => { while (true) {} };"})
    started = time.monotonic()
    query = denied_sign_in(discovery, spa, user["email"], user["password"], timeout=45)
    assert query["error"] == "access_denied" and "longer than" in query["error_description"]
    assert time.monotonic() - started < 40
    assert requests.get(server.url("healthz"), timeout=TIMEOUT).status_code == 200


@pytest.mark.parametrize("code, message", [
    ("const fs = require('fs');\nexports.onExecutePostLogin = async () => {};", "Cannot find module 'fs'"),
    ("const cp = require(\"child_process\");", "Cannot find module 'child_process'"),
    ("exports.onExecutePostLogin = async (event, api) => {\n  api.idToken.setCustomClaim('a' 'b');\n};", "line 2"),
])
def test_forbidden_modules_and_syntax_errors_fail_at_deploy(server, admin, code, message):
    response = admin.post(server.url("api/v2/actions/actions"), json={"name": f"bad {uuid.uuid4().hex[:6]}", "code": code},
                          timeout=TIMEOUT)
    assert response.status_code == 400, response.text
    assert response.json()["errorCode"] == "invalid_body"
    assert message in response.json()["message"]


def test_test_endpoint_runs_the_seed_action_without_a_sign_in(server, admin):
    created = admin.post(server.url("api/v2/actions/actions"), json={
        "name": f"Tinybird test {uuid.uuid4().hex[:6]}", "code": (EXAMPLES / "tinybird-jwt.js").read_text(),
        "secrets": [{"name": "TINYBIRD_ADMIN_TOKEN", "value": ADMIN_TOKEN}],
        "configuration": {"TINYBIRD_WORKSPACE_ID": "ws-t", "TINYBIRD_PIPE_NAMES": "sales_by_city"}}, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    action_id = created.json()["id"]
    try:
        tested = admin.post(server.url(f"api/v2/actions/actions/{action_id}/test"),
                            json={"payload": {"user": {"user_id": "auth0|tester"}}}, timeout=TIMEOUT)
        assert tested.status_code == 200, tested.text
        assert ADMIN_TOKEN not in tested.text
        commands = {c["name"]: c for c in tested.json()["payload"]["commands"]}
        token = commands["idToken.setCustomClaim"]["value"]
        assert jwt.decode(token, ADMIN_TOKEN, algorithms=["HS256"])["name"] == "tinybird_jwt_auth0|tester"
    finally:
        admin.delete(server.url(f"api/v2/actions/actions/{action_id}"), timeout=TIMEOUT)


def test_test_endpoint_masks_secrets_an_action_prints(server, admin):
    secret = "sk_test_" + uuid.uuid4().hex
    remember_secret(secret)
    created = admin.post(server.url("api/v2/actions/actions"), json={
        "name": f"Leaky {uuid.uuid4().hex[:6]}",
        "code": "exports.onExecutePostLogin = async (event) => { console.log(event.secrets); throw new Error(event.secrets.KEY); };",
        "secrets": [{"name": "KEY", "value": secret}]}, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    action_id = created.json()["id"]
    try:
        tested = admin.post(server.url(f"api/v2/actions/actions/{action_id}/test"), json={}, timeout=TIMEOUT)
        assert tested.status_code == 200, tested.text
        assert secret not in tested.text and "[secret]" in tested.json()["payload"]["logs"]
        assert "[secret]" in tested.json()["payload"]["error"]["message"]
    finally:
        admin.delete(server.url(f"api/v2/actions/actions/{action_id}"), timeout=TIMEOUT)


def test_fetch_reaches_only_what_the_tenant_file_allows(server, admin, tmp_path):
    """An Action's fetch to this machine by name is refused until the tenant file names the host (`outbound.allow`,
    applied with `tessera apply` while the server runs); a metadata address stays refused even then."""
    class Pong(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = b"pong " + self.headers.get("Host", "").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    apply_outbound(server, tmp_path, [])
    pong = HTTPServer(("127.0.0.1", 0), Pong)
    threading.Thread(target=pong.serve_forever, daemon=True).start()
    port = pong.server_address[1]
    code = ("exports.onExecutePostLogin = async (event) => { for (const url of event.secrets.URLS.split(' ')) {"
            " try { const res = await fetch(url); console.log(url + ' -> ' + res.status + ' ' + (await res.text())); }"
            " catch (error) { console.log(url + ' -> ' + error.message); } } };")
    urls = f"http://localhost:{port}/ping http://169.254.169.254/latest/meta-data/"
    created = admin.post(server.url("api/v2/actions/actions"), json={
        "name": f"Outbound {uuid.uuid4().hex[:6]}", "code": code, "secrets": [{"name": "URLS", "value": urls}]}, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    action_id = created.json()["id"]

    def logs():
        tested = admin.post(server.url(f"api/v2/actions/actions/{action_id}/test"), json={}, timeout=TIMEOUT)
        assert tested.status_code == 200, tested.text
        return tested.json()["payload"]["logs"]

    try:
        before = logs()
        assert "outbound.allow" in before and "pong" not in before, before
        apply_outbound(server, tmp_path, ["*", "localhost"])
        after = logs()
        assert f"-> 200 pong localhost:{port}" in after, after
        assert "169.254.169.254" in after and "never reachable" in after, after
    finally:
        admin.delete(server.url(f"api/v2/actions/actions/{action_id}"), timeout=TIMEOUT)
        pong.shutdown()
