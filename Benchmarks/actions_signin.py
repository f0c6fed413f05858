"""What a post-login flow with seed 000's action adds to a sign-in: a signed-in browser repeats /authorize (single
sign-on, so the flow runs and a code is issued without a password check), in alternating blocks with the flow bound
and unbound. Prints p50/p99 in ms for both and their difference."""
import base64, hashlib, json, re, secrets, statistics, sys, time
from pathlib import Path
import requests

base, credentials_file, client_id, callback, email, password, rounds, per_round = sys.argv[1:9]
rounds, per_round = int(rounds), int(per_round)
# The action measured: seed 000's by default, or a file and its secrets (JSON) as arguments 9 and 10.
code_file = sys.argv[9] if len(sys.argv) > 9 else "examples/actions/tinybird-jwt.js"
action_secrets = json.loads(sys.argv[10]) if len(sys.argv) > 10 else {"TINYBIRD_ADMIN_TOKEN": "p.bench-admin-token-0123456789abcdef"}
label = sys.argv[11] if len(sys.argv) > 11 else "seed 000 action"
credentials = json.loads(Path(credentials_file).read_text())
token = requests.post(f"{base}oauth/token", data={
    "grant_type": "client_credentials", "client_id": credentials["client_id"],
    "client_secret": credentials["client_secret"], "audience": credentials["audience"]}, timeout=10).json()["access_token"]
admin = requests.Session()
admin.headers["Authorization"] = f"Bearer {token}"
action = admin.post(f"{base}api/v2/actions/actions", json={
    "name": f"{label} (bench)", "code": Path(code_file).read_text(),
    "secrets": [{"name": name, "value": value} for name, value in action_secrets.items()],
    "configuration": {"TINYBIRD_WORKSPACE_ID": "w", "TINYBIRD_PIPE_NAMES": "sales_by_city"}}, timeout=10).json()
assert admin.post(f"{base}api/v2/actions/actions/{action['id']}/deploy", timeout=10).status_code == 201


def bind(on):
    bindings = [{"ref": {"type": "action_id", "value": action["id"]}}] if on else []
    response = admin.patch(f"{base}api/v2/actions/triggers/post-login/bindings", json={"bindings": bindings}, timeout=10)
    assert response.status_code == 200, response.text


def authorize_query():
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return {"response_type": "code", "client_id": client_id, "redirect_uri": callback, "scope": "openid profile email",
            "state": "s", "nonce": secrets.token_hex(8), "code_challenge": challenge, "code_challenge_method": "S256"}


browser = requests.Session()
page = browser.get(f"{base}authorize", params=authorize_query(), timeout=10)
fields = {name: re.search(rf'name="{name}" value="([^"]+)"', page.text).group(1) for name in ("state", "csrf")}
signed_in = browser.post(f"{base}u/login", data={**fields, "email": email, "password": password},
                         allow_redirects=False, timeout=10)
assert "code=" in signed_in.headers["Location"], signed_in.headers

timings = {False: [], True: []}
for _ in range(rounds):
    for on in (False, True):
        bind(on)
        for _ in range(per_round):
            query = authorize_query()
            started = time.perf_counter()
            response = browser.get(f"{base}authorize", params=query, allow_redirects=False, timeout=10)
            timings[on].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 302 and "code=" in response.headers["Location"], response.headers
bind(False)


def summary(values):
    values = sorted(values)
    return statistics.median(values), values[max(0, int(len(values) * 0.99) - 1)]


(off50, off99), (on50, on99) = summary(timings[False]), summary(timings[True])
print("| flow | requests | p50 | p99 |\n|---|---|---|---|")
print(f"| none bound | {len(timings[False])} | {off50:.2f} ms | {off99:.2f} ms |")
print(f"| {label} bound | {len(timings[True])} | {on50:.2f} ms | {on99:.2f} ms |")
print(f"| **added by the flow** | | **{on50 - off50:+.2f} ms** | **{on99 - off99:+.2f} ms** |")
