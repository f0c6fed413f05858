"""Issue 16's figures, against a running Tessera: what a redirect Action's round trip and an MFA challenge add to a
sign-in (server time, as the client sees it on loopback), and how long a `require('auth0')` ManagementClient call
takes from inside an Action.

Signed-in browsers repeat /authorize (single sign-on: no bcrypt), in alternating blocks with one Action bound:
- `noop` sets one claim (the baseline: a flow runs and a code is issued);
- `redirect` sends the browser away once; the time is /authorize (302 to the site) + /continue (302 with the code);
- `mfa` asks for a code every time; the time is /authorize + GET /u/mfa + POST /u/mfa (302 with the code). Each
  30-second TOTP step is good once per user, so every MFA block uses a fresh step for each of USERS users;
- `management` calls `management.users.get` twice (the first call also fetches the client-credentials token) and
  puts both durations, measured inside the Action, in the ID token.
Prints Markdown tables."""
import base64, hashlib, hmac, json, re, secrets, statistics, struct, sys, time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
import requests

base, credentials_file, client_id, callback, rounds, per_round, users = sys.argv[1:8]
rounds, per_round, users = int(rounds), int(per_round), int(users)
credentials = json.loads(Path(credentials_file).read_text())
token = requests.post(f"{base}oauth/token", data={
    "grant_type": "client_credentials", "client_id": credentials["client_id"],
    "client_secret": credentials["client_secret"], "audience": credentials["audience"]}, timeout=10).json()["access_token"]
admin = requests.Session()
admin.headers["Authorization"] = f"Bearer {token}"
host = urlsplit(base).netloc

# An application the ManagementClient signs in as, allowed to read users.
m2m = admin.post(f"{base}api/v2/clients", json={"name": "Bench ManagementClient", "app_type": "non_interactive",
                                                 "grant_types": ["client_credentials"]}, timeout=10).json()
grant = admin.post(f"{base}api/v2/client-grants", json={"client_id": m2m["client_id"], "audience": f"{base}api/v2/",
                                                        "scope": ["read:users"]}, timeout=10)
assert grant.status_code == 201, grant.text

ACTIONS = {
    "noop": "exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('https://b/noop', 1); };",
    "redirect": """
        exports.onExecutePostLogin = async (event, api) => { api.redirect.sendUserTo('http://127.0.0.1:9/consent'); };
        exports.onContinuePostLogin = async (event, api) => { api.idToken.setCustomClaim('https://b/back', 1); };""",
    "mfa": "exports.onExecutePostLogin = async (event, api) => { api.multifactor.enable('any'); };",
    "management": """
        const { ManagementClient } = require('auth0');
        exports.onExecutePostLogin = async (event, api) => {
          const management = new ManagementClient({ domain: event.secrets.domain, clientId: event.secrets.clientId,
                                                     clientSecret: event.secrets.clientSecret });
          const t0 = Date.now();
          await management.users.get({ id: event.user.user_id });
          const t1 = Date.now();
          const { data } = await management.users.get({ id: event.user.user_id });
          const t2 = Date.now();
          api.idToken.setCustomClaim('https://b/times', [t1 - t0, t2 - t1, data.user_id === event.user.user_id]);
        };""",
}
action_ids = {}
for name, code in ACTIONS.items():
    created = admin.post(f"{base}api/v2/actions/actions", json={
        "name": f"bench {name}", "code": code,
        "secrets": [{"name": "domain", "value": host}, {"name": "clientId", "value": m2m["client_id"]},
                    {"name": "clientSecret", "value": m2m["client_secret"]}]}, timeout=10)
    assert created.status_code == 201, created.text
    action_ids[name] = created.json()["id"]
    assert admin.post(f"{base}api/v2/actions/actions/{action_ids[name]}/deploy", timeout=10).status_code == 201


def bind(name):
    bindings = [{"ref": {"type": "action_id", "value": action_ids[name]}}] if name else []
    response = admin.patch(f"{base}api/v2/actions/triggers/post-login/bindings", json={"bindings": bindings}, timeout=10)
    assert response.status_code == 200, response.text


def authorize_query():
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, {"response_type": "code", "client_id": client_id, "redirect_uri": callback, "scope": "openid",
                      "state": "s", "nonce": secrets.token_hex(8), "code_challenge": challenge, "code_challenge_method": "S256"}


def field(name, html):
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def element(element_id, html):
    return re.search(rf'id="{element_id}"[^>]*>([^<]+)<', html).group(1)


def totp(secret, at):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def code_of(response):
    location = response.headers["Location"]
    assert location.startswith(callback) and "code=" in location, (response.status_code, location, response.text[:300])
    return parse_qs(urlsplit(location).query)["code"][0]


def sign_in(email, password):
    """A browser signed in with no flow bound; returns it."""
    browser = requests.Session()
    _, query = authorize_query()
    page = browser.get(f"{base}authorize", params=query, timeout=10)
    response = browser.post(f"{base}u/login", data={"state": field("state", page.text), "csrf": field("csrf", page.text),
                                                     "email": email, "password": password}, allow_redirects=False, timeout=10)
    return browser, response


def timed(call):
    started = time.perf_counter()
    response = call()
    return response, (time.perf_counter() - started) * 1000


people = []
for index in range(users):
    email, password = f"parity-{index}-{secrets.token_hex(3)}@example.com", "Bench-Passw0rd-1"
    created = admin.post(f"{base}api/v2/users", json={"email": email, "password": password, "connection": "Username-Password-Authentication"}, timeout=10)
    assert created.status_code == 201, created.text
    people.append((email, password))

bind(None)
browser, response = sign_in(*people[0])
code_of(response)
timings = {name: [] for name in ("noop", "redirect", "mfa", "management")}
inside = []

# Enrol every user once (MFA bound), keeping each signed-in browser and its authenticator key.
bind("mfa")
enrolled = []
for email, password in people:
    session, response = sign_in(email, password)
    page = session.get(f"{base}{response.headers['Location'].lstrip('/')}", timeout=10)
    key = element("totp-secret", page.text).replace(" ", "")
    form = {"state": field("state", page.text), "csrf": field("csrf", page.text)}
    assert session.post(f"{base}u/mfa", data={**form, "code": totp(key, time.time())}, timeout=10).status_code == 200
    code_of(session.post(f"{base}u/mfa", data={**form, "step": "done"}, allow_redirects=False, timeout=10))
    enrolled.append((session, key))

for _ in range(rounds):
    for name in ("noop", "redirect", "management"):
        bind(name)
        for _ in range(per_round):
            verifier, query = authorize_query()
            response, first = timed(lambda: browser.get(f"{base}authorize", params=query, allow_redirects=False, timeout=10))
            total = first
            if name == "redirect":
                state = parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]
                response, second = timed(lambda: browser.get(f"{base}continue", params={"state": state}, allow_redirects=False, timeout=10))
                total += second
            code = code_of(response)
            timings[name].append(total)
            if name == "management" and len(inside) < per_round * rounds:
                tokens = requests.post(f"{base}oauth/token", data={"grant_type": "authorization_code", "client_id": client_id,
                                                                    "code": code, "redirect_uri": callback, "code_verifier": verifier}, timeout=10).json()
                claims = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[1] + "=="))
                first_call, second_call, found = claims["https://b/times"]
                assert found, claims
                inside.append((first_call, second_call))
    # One challenge per enrolled user, in a TOTP step none of them has used yet.
    bind("mfa")
    time.sleep(30 - time.time() % 30 + 0.2)
    for session, key in enrolled:
        _, query = authorize_query()
        response, a = timed(lambda: session.get(f"{base}authorize", params=query, allow_redirects=False, timeout=10))
        page, b = timed(lambda: session.get(f"{base}{response.headers['Location'].lstrip('/')}", timeout=10))
        form = {"state": field("state", page.text), "csrf": field("csrf", page.text), "code": totp(key, time.time())}
        response, c = timed(lambda: session.post(f"{base}u/mfa", data=form, allow_redirects=False, timeout=10))
        code_of(response)
        timings["mfa"].append(a + b + c)
bind(None)


def summary(values):
    values = sorted(values)
    return statistics.median(values), values[max(0, int(len(values) * 0.99) - 1)]


base50, base99 = summary(timings["noop"])
print("| sign-in (single sign-on, one Action bound) | requests | p50 | p99 | added at p50 |\n|---|---|---|---|---|")
labels = {"noop": "a claim only (baseline)", "redirect": "redirect: /authorize + /continue",
          "mfa": "MFA challenge: /authorize + GET and POST /u/mfa", "management": "ManagementClient: two users.get"}
for name in ("noop", "redirect", "mfa", "management"):
    p50, p99 = summary(timings[name])
    added = "" if name == "noop" else f"**{p50 - base50:+.2f} ms**"
    print(f"| {labels[name]} | {len(timings[name])} | {p50:.2f} ms | {p99:.2f} ms | {added} |")
firsts, seconds = summary([a for a, _ in inside]), summary([b for _, b in inside])
print("\n| ManagementClient call, timed inside the Action (ms, Date.now) | calls | p50 | p99 |\n|---|---|---|---|")
print(f"| first `users.get` (client-credentials token + call) | {len(inside)} | {firsts[0]:.0f} ms | {firsts[1]:.0f} ms |")
print(f"| second `users.get` (token cached) | {len(inside)} | {seconds[0]:.0f} ms | {seconds[1]:.0f} ms |")
