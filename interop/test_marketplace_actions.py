"""Marketplace-style post-login Actions, unmodified, in real sign-ins through the hosted pages.

Each Action in interop/marketplace_actions/ is written the way Auth0's documentation and Marketplace templates write
them (secrets and settings in event.secrets / event.configuration), and each test compares what a real sign-in
gives with what Auth0 documents for it: claims in the ID and access tokens (read with PyJWT), app_metadata and roles
through the Management API, `access_denied` with the Action's reason, a redirect to another site and back through
/continue, a second factor on the hosted page (codes computed with pyotp), the Management API client called from the
Action, and outbound calls to loopback stand-ins for a risk service, a chat webhook and a partner API."""
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pyotp
import pytest
import requests

from conftest import TIMEOUT, BackgroundHTTPServer, create_password_user, pkce_pair
from test_actions import Flow, apply_outbound
from test_browser_mfa import ConsentSite
from test_signin import callback_query, discovery, login_form, oauth_session, spa, submit_credentials  # noqa: F401

ACTIONS = Path(__file__).resolve().parent / "marketplace_actions"
BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 InteropTests"
NAMESPACE = "https://my-app.example.com"


def action(name, **extra):
    return {"name": name, "code": (ACTIONS / f"{name}.js").read_text(), **extra}


@pytest.fixture(scope="module", autouse=True)
def loopback_allowed(server, tmp_path_factory):
    """The stand-in services below listen on 127.0.0.1, which Actions reach only when the tenant names it."""
    apply_outbound(server, tmp_path_factory.mktemp("outbound"), ["*", "127.0.0.1"])


@pytest.fixture
def flow(server, admin):
    built = Flow(server, admin)
    yield built
    built.close()


@pytest.fixture
def person(server, admin):
    created = create_password_user(server, admin)
    return {"user_id": created["user_id"], "email": created["email"], "password": "Passw0rd-Ok"}


class Attempt:
    """One authorization request (authorization code + PKCE, with authlib) driven by a requests browser."""

    def __init__(self, discovery, spa, browser=None, **extra):
        self.discovery, self.spa = discovery, spa
        self.oauth = oauth_session(spa)
        self.verifier, _ = pkce_pair()
        self.state = uuid.uuid4().hex
        self.url, _ = self.oauth.create_authorization_url(discovery["authorization_endpoint"], state=self.state,
                                                          code_verifier=self.verifier, nonce=uuid.uuid4().hex, **extra)
        if browser is None:
            browser = requests.Session()
            browser.headers["User-Agent"] = BROWSER_AGENT
        self.browser = browser

    def login(self, email, password):
        """The password form; answers what the form post answered (a 302, or the page a redirect Action leads to)."""
        return submit_credentials(self.browser, login_form(self.browser.get(self.url, timeout=TIMEOUT)), email, password)

    def authorize(self):
        """Single sign-on: the browser already has a session."""
        return self.browser.get(self.url, allow_redirects=False, timeout=TIMEOUT)

    def tokens(self, response):
        query = callback_query(response, self.spa.callback)
        assert query.get("code") and query.get("state") == self.state, query
        token = self.oauth.fetch_token(self.discovery["token_endpoint"], authorization_response=response.headers["Location"],
                                       code_verifier=self.verifier, state=self.state)
        decode = lambda value: jwt.decode(value, options={"verify_signature": False})  # noqa: E731
        return decode(token["id_token"]), decode(token["access_token"])

    def denied(self, response):
        query = callback_query(response, self.spa.callback)
        assert query.get("error") == "access_denied" and query.get("state") == self.state, query
        return query["error_description"]


def sign_in(discovery, spa, person, **extra):
    attempt = Attempt(discovery, spa, **extra)
    return attempt, attempt.login(person["email"], person["password"])


def sent_to(response):
    """Where a redirect Action sends the browser: a 302, or (after a form post) the page's continue link."""
    if response.status_code == 302:
        return response.headers["Location"]
    assert response.status_code == 200, f"{response.status_code}: {response.text[:300]}"
    return re.search(r'id="continue-link" href="([^"]+)"', response.text).group(1).replace("&amp;", "&")


def query_of(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def element(element_id, html):
    found = re.search(rf'id="{element_id}"[^>]*>([^<]+)<', html)
    return found.group(1) if found else None


def hidden(name, html):
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


class MFAPage:
    """The hosted second-factor page a sign-in was sent to."""

    def __init__(self, server, browser, response):
        assert response.status_code == 302 and response.headers["Location"].startswith("/u/mfa?state="), (response.status_code, response.headers)
        self.server, self.browser = server, browser
        self.page = browser.get(server.url(response.headers["Location"].lstrip("/")), timeout=TIMEOUT)
        assert self.page.status_code == 200, self.page.text[:300]
        self.fields = {"state": hidden("state", self.page.text), "csrf": hidden("csrf", self.page.text)}

    @property
    def key(self):
        shown = element("totp-secret", self.page.text)
        return shown.replace(" ", "") if shown else None

    def post(self, **fields):
        return self.browser.post(self.server.url("u/mfa"), data={**self.fields, **fields}, allow_redirects=False, timeout=TIMEOUT)

    def enrol(self):
        """Enrols the authenticator app: a first code, the recovery code shown once, then on to the application."""
        key = self.key
        assert key, "this page is a challenge, not an enrolment"
        self.code = pyotp.TOTP(key).now()
        shown = self.post(code=self.code)
        assert shown.status_code == 200, shown.text[:300]
        recovery = element("recovery-code", shown.text)
        assert recovery and len(recovery) == 24
        return key, recovery, self.post(step="done")


# ---------------------------------------------------------------- claims, denials, metadata


def test_roles_go_into_both_tokens(server, admin, discovery, spa, person, flow):
    role = admin.post(server.url("api/v2/roles"), json={"name": f"editor-{uuid.uuid4().hex[:6]}"}, timeout=TIMEOUT).json()
    assert admin.post(server.url(f"api/v2/users/{person['user_id']}/roles"), json={"roles": [role["id"]]}, timeout=TIMEOUT).status_code == 204
    flow.bind(action("add-roles-to-tokens"))
    attempt, response = sign_in(discovery, spa, person)
    id_claims, access_claims = attempt.tokens(response)
    assert id_claims[f"{NAMESPACE}/roles"] == [role["name"]] == access_claims[f"{NAMESPACE}/roles"]


@pytest.mark.parametrize("networks, allowed", [("127.0.0.1/32, 10.0.0.0/8", True), ("10.0.0.0/8,::1/128", False)])
def test_ip_allowlist(discovery, spa, person, flow, networks, allowed):
    flow.bind(action("ip-allowlist", configuration={"ALLOWED_NETWORKS": networks}))
    attempt, response = sign_in(discovery, spa, person)
    if allowed:
        attempt.tokens(response)
    else:
        assert attempt.denied(response) == "Access from your IP address is not allowed."


def test_chained_claims(discovery, spa, person, flow):
    flow.bind(action("chained-claims"))
    attempt, response = sign_in(discovery, spa, person)
    id_claims, access_claims = attempt.tokens(response)
    assert id_claims[f"{NAMESPACE}/email"] == person["email"] and id_claims[f"{NAMESPACE}/logins"] == 1
    assert access_claims[f"{NAMESPACE}/client"] == spa.name
    assert access_claims[f"{NAMESPACE}/connection"] == "Username-Password-Authentication"


def test_verified_email_is_required(server, admin, discovery, spa, person, flow):
    flow.bind(action("require-verified-email"))
    attempt, response = sign_in(discovery, spa, person)
    assert attempt.denied(response) == "Please verify your email before logging in."
    assert admin.patch(server.url(f"api/v2/users/{person['user_id']}"), json={"email_verified": True}, timeout=TIMEOUT).status_code == 200
    attempt, response = sign_in(discovery, spa, person)
    assert attempt.tokens(response)[0]["email_verified"] is True


def test_email_domain_allowlist(server, admin, discovery, spa, flow):
    flow.bind(action("email-domain-allowlist", configuration={"ALLOWED_DOMAINS": "partner.example, example.com"}))
    inside = create_password_user(server, admin, email=f"in-{uuid.uuid4().hex[:8]}@partner.example")
    outside = create_password_user(server, admin, email=f"out-{uuid.uuid4().hex[:8]}@elsewhere.example")
    attempt, response = sign_in(discovery, spa, {"email": inside["email"], "password": "Passw0rd-Ok"})
    attempt.tokens(response)
    attempt, response = sign_in(discovery, spa, {"email": outside["email"], "password": "Passw0rd-Ok"})
    assert attempt.denied(response) == "Sign-ins from elsewhere.example are not allowed for this application."


def test_first_login_is_flagged_once_and_recorded(server, admin, discovery, spa, person, flow):
    flow.bind(action("first-login-flag"))
    attempt, response = sign_in(discovery, spa, person)
    assert attempt.tokens(response)[0][f"{NAMESPACE}/first_login"] is True
    first_at = admin.get(server.url(f"api/v2/users/{person['user_id']}"), timeout=TIMEOUT).json()["app_metadata"]["first_login_at"]
    attempt, response = sign_in(discovery, spa, person)
    assert attempt.tokens(response)[0][f"{NAMESPACE}/first_login"] is False
    assert admin.get(server.url(f"api/v2/users/{person['user_id']}"), timeout=TIMEOUT).json()["app_metadata"]["first_login_at"] == first_at


def test_user_metadata_goes_into_the_id_token(server, admin, discovery, spa, person, flow):
    admin.patch(server.url(f"api/v2/users/{person['user_id']}"), json={"user_metadata": {"preferred_language": "fr"}}, timeout=TIMEOUT)
    flow.bind(action("user-metadata-claims"))
    attempt, response = sign_in(discovery, spa, person)
    claims = attempt.tokens(response)[0]
    assert claims[f"{NAMESPACE}/language"] == "fr" and claims[f"{NAMESPACE}/theme"] == "light"


def test_scripted_user_agents_are_turned_away(discovery, spa, person, flow):
    flow.bind(action("block-by-user-agent"))
    attempt, response = sign_in(discovery, spa, person)
    attempt.tokens(response)
    scripted = requests.Session()  # python-requests' own User-Agent
    attempt, response = sign_in(discovery, spa, person, browser=scripted)
    assert attempt.denied(response) == "Automated sign-ins are not allowed."


def test_country_from_geoip_is_unknown_on_loopback(discovery, spa, person, flow):
    # Loopback has no country: the field is absent (never made up), and the template's fallback applies.
    flow.bind(action("country-from-geoip"))
    attempt, response = sign_in(discovery, spa, person)
    assert attempt.tokens(response)[0][f"{NAMESPACE}/country"] == "unknown"


# ---------------------------------------------------------------- outbound calls (axios, fetch, cache, jwt-decode)


class StandIn(BackgroundHTTPServer):
    """A loopback stand-in for a risk service, a chat webhook and a partner API; records what it was sent."""

    def __init__(self, score=10):
        stand_in = self
        self.requests, self.score = [], score

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                stand_in.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path == "/risk":
                    if self.headers.get("X-Api-Key") != "risk-key-0123":
                        return self.answer(401, {"error": "bad key"})
                    return self.answer(200, {"score": stand_in.score})
                if self.path == "/token":
                    return self.answer(200, {"access_token": f"partner-{len(stand_in.requests)}", "expires_in": 3600})
                return self.answer(200, {"ok": True})

            def do_GET(self):  # noqa: N802
                stand_in.requests.append({"path": self.path, "headers": dict(self.headers), "body": ""})
                self.answer(200, {"tier": "gold"} if self.headers.get("Authorization", "").startswith("Bearer partner-") else {"tier": None})

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.serve_in_background("stand-in")

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.mark.parametrize("score, key, outcome", [(12, "risk-key-0123", "allowed"), (95, "risk-key-0123", "risky"),
                                                 (12, "wrong-key", "refused")])
def test_risk_score_with_axios(discovery, spa, person, flow, score, key, outcome):
    with StandIn(score=score) as service:
        flow.bind(action("risk-score-axios", secrets={"RISK_API_URL": service.url("/risk"), "RISK_API_KEY": key},
                         configuration={"RISK_THRESHOLD": "80"}))
        attempt, response = sign_in(discovery, spa, person)
        sent = json.loads(service.requests[0]["body"])
    assert sent["user_id"] == person["user_id"] and sent["ip"] == "127.0.0.1" and sent["user_agent"] == BROWSER_AGENT
    if outcome == "allowed":
        assert attempt.tokens(response)[0][f"{NAMESPACE}/risk"] == 12
    elif outcome == "risky":
        assert attempt.denied(response) == "This sign-in looks risky. Contact support."
    else:
        assert attempt.denied(response) == "The risk service refused our key."


def test_first_login_notification_posts_a_form(discovery, spa, person, flow):
    with StandIn() as webhook:
        flow.bind(action("notify-first-login", secrets={"WEBHOOK_URL": webhook.url("/hooks/T0/B0")},
                         configuration={"CHANNEL": "#new-users"}))
        attempt, response = sign_in(discovery, spa, person)
        attempt.tokens(response)
        attempt, response = sign_in(discovery, spa, person)  # not the first any more: nothing sent
        attempt.tokens(response)
        received = list(webhook.requests)
    assert len(received) == 1 and received[0]["path"] == "/hooks/T0/B0"
    assert received[0]["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert parse_qs(received[0]["body"]) == {"text": [f"New user: {person['email']}"], "channel": ["#new-users"]}


def test_partner_token_is_cached_across_sign_ins(discovery, spa, person, flow):
    with StandIn() as partner:
        flow.bind(action("cache-api-token", secrets={"PARTNER_URL": partner.url(), "PARTNER_ID": "p1", "PARTNER_SECRET": "partner-secret-1"}))
        for _ in range(2):
            attempt, response = sign_in(discovery, spa, person)
            assert attempt.tokens(response)[0][f"{NAMESPACE}/tier"] == "gold"
        paths = [entry["path"].split("?")[0] for entry in partner.requests]
    assert paths == ["/token", "/profile", "/profile"]


def test_partner_jwt_is_decoded(discovery, spa, person, flow):
    partner_jwt = jwt.encode({"sub": "org-7", "plan": "enterprise"}, "partner-signing-key-0123456789abcdef", algorithm="HS256")
    flow.bind(action("partner-token-jwt-decode", secrets={"PARTNER_JWT": partner_jwt}))
    attempt, response = sign_in(discovery, spa, person)
    assert attempt.tokens(response)[0][f"{NAMESPACE}/plan"] == "enterprise"


# ---------------------------------------------------------------- the Management API client


def test_default_role_with_management_client(server, admin, discovery, spa, person, flow):
    role = admin.post(server.url("api/v2/roles"), json={"name": f"member-{uuid.uuid4().hex[:6]}"}, timeout=TIMEOUT).json()
    m2m = admin.post(server.url("api/v2/clients"), json={"name": "Actions Management", "app_type": "non_interactive",
                                                         "grant_types": ["client_credentials"]}, timeout=TIMEOUT).json()
    secrets = {"domain": urlsplit(server.base_url).netloc, "clientId": m2m["client_id"], "clientSecret": m2m["client_secret"],
               "DEFAULT_ROLE_ID": role["id"]}
    flow.bind(action("default-role-management-client", secrets=secrets))
    # Without a grant the Management API says no, and the Action reports the status it got.
    attempt, response = sign_in(discovery, spa, person)
    assert attempt.denied(response) == "Could not assign the default role: 403"

    granted = admin.post(server.url("api/v2/client-grants"), json={
        "client_id": m2m["client_id"], "audience": server.audience, "scope": ["read:users", "read:roles", "create:role_members"]}, timeout=TIMEOUT)
    assert granted.status_code == 201, granted.text
    attempt, response = sign_in(discovery, spa, person)
    assert attempt.tokens(response)[0][f"{NAMESPACE}/roles"] == [role["name"]]
    roles = admin.get(server.url(f"api/v2/users/{person['user_id']}/roles"), timeout=TIMEOUT).json()
    assert [entry["id"] for entry in roles] == [role["id"]]
    # The role is there now: the Action does not call the Management API again.
    attempt, response = sign_in(discovery, spa, person)
    assert f"{NAMESPACE}/roles" not in attempt.tokens(response)[0]


# ---------------------------------------------------------------- redirects


def test_consent_redirect_and_continue(server, admin, discovery, spa, person, flow):
    with ConsentSite(server.base_url) as site:
        consent_url = site.url
        flow.bind(action("consent-redirect", configuration={"CONSENT_URL": consent_url, "TERMS_VERSION": "2024-06"}),
                  action("chained-claims"))
        attempt, response = sign_in(discovery, spa, person)
        target = sent_to(response)
        assert target.startswith(consent_url + "?")
        query = query_of(target)
        assert query["version"] == "2024-06" and query["email"] == person["email"] and query["state"]
        assert attempt.browser.get(target, timeout=TIMEOUT).status_code == 200  # the person reads the terms
        # A forged state, or this one from another browser, goes nowhere.
        assert attempt.browser.get(server.url("continue"), params={"state": "forged", "accepted": "yes"}, timeout=TIMEOUT).status_code == 400
        assert requests.get(server.url("continue"), params={"state": query["state"], "accepted": "yes"}, timeout=TIMEOUT).status_code == 400
        back = attempt.browser.get(server.url("continue"), params={"state": query["state"], "accepted": "yes"},
                                   allow_redirects=False, timeout=TIMEOUT)
        id_claims, _ = attempt.tokens(back)
        # The Action after the redirecting one ran only after the browser came back.
        assert id_claims[f"{NAMESPACE}/email"] == person["email"]
        profile = admin.get(server.url(f"api/v2/users/{person['user_id']}"), timeout=TIMEOUT).json()
        assert profile["app_metadata"]["terms_accepted_version"] == "2024-06"
        # Used once: replaying the state is refused.
        replay = attempt.browser.get(server.url("continue"), params={"state": query["state"], "accepted": "yes"}, timeout=TIMEOUT)
        assert replay.status_code == 400 and "expired" in replay.text
        # Accepted: the next sign-in is not redirected.
        attempt, response = sign_in(discovery, spa, person)
        attempt.tokens(response)


def test_declining_consent_denies(server, discovery, spa, person, flow):
    flow.bind(action("consent-redirect", configuration={"CONSENT_URL": "https://consent.example/terms", "TERMS_VERSION": "v9"}))
    attempt, response = sign_in(discovery, spa, person)
    state = query_of(sent_to(response))["state"]
    back = attempt.browser.get(server.url("continue"), params={"state": state, "accepted": "no"}, allow_redirects=False, timeout=TIMEOUT)
    assert attempt.denied(back) == "You must accept the terms to continue."


def test_identity_verification_with_session_tokens(server, admin, discovery, spa, person, flow):
    secret = "session-token-secret-0123456789abcdef"
    flow.bind(action("identity-verification", secrets={"SESSION_TOKEN_SECRET": secret, "VERIFY_URL": "https://verify.example/start"}))
    attempt, response = sign_in(discovery, spa, person)
    target = query_of(sent_to(response))
    outgoing = jwt.decode(target["session_token"], secret, algorithms=["HS256"])
    assert outgoing["sub"] == person["user_id"] and outgoing["email"] == person["email"]
    assert outgoing["iss"] == urlsplit(server.base_url).netloc and outgoing["exp"] - outgoing["iat"] == 300
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(target["session_token"], "not-the-secret-not-the-secret-00", algorithms=["HS256"])

    # The verifier answers with a token of its own; one signed with another key ends the sign-in.
    forged = jwt.encode({"state": target["state"], "verified": True, "exp": int(time.time()) + 60}, "another-key-another-key-01234567", algorithm="HS256")
    back = attempt.browser.get(server.url("continue"), params={"state": target["state"], "result": forged}, allow_redirects=False, timeout=TIMEOUT)
    assert "invalid signature" in attempt.denied(back)

    attempt, response = sign_in(discovery, spa, person)
    target = query_of(sent_to(response))
    answer = jwt.encode({"state": target["state"], "verified": True, "sub": person["user_id"], "exp": int(time.time()) + 60}, secret, algorithm="HS256")
    back = attempt.browser.get(server.url("continue"), params={"state": target["state"], "result": answer}, allow_redirects=False, timeout=TIMEOUT)
    assert attempt.tokens(back)[0][f"{NAMESPACE}/verified"] is True
    assert admin.get(server.url(f"api/v2/users/{person['user_id']}"), timeout=TIMEOUT).json()["app_metadata"]["identity_verified"] is True


def test_progressive_profiling_asks_once(server, admin, discovery, spa, person, flow):
    flow.bind(action("progressive-profiling", configuration={"PROFILE_URL": "https://app.example/complete-profile"}))
    attempt, response = sign_in(discovery, spa, person)
    state = query_of(sent_to(response))["state"]
    # The form posts back (from the app's origin: the relay page posts it again from Tessera's, with the session).
    relayed = requests.post(server.url("continue"), data={"state": state, "company": "Acme & Co"}, timeout=TIMEOUT)
    assert relayed.status_code == 200 and 'name="tessera_resubmitted"' in relayed.text
    back = attempt.browser.post(server.url("continue"), data={"state": state, "company": "Acme & Co", "tessera_resubmitted": "1"},
                                allow_redirects=False, timeout=TIMEOUT)
    attempt.tokens(back)
    assert admin.get(server.url(f"api/v2/users/{person['user_id']}"), timeout=TIMEOUT).json()["user_metadata"]["company"] == "Acme & Co"
    attempt, response = sign_in(discovery, spa, person)
    attempt.tokens(response)  # not redirected again


def test_a_redirect_to_something_other_than_a_web_page_fails_the_action(discovery, spa, person, flow):
    flow.bind({"name": "Bad redirect", "code": "exports.onExecutePostLogin = async (event, api) => { api.redirect.sendUserTo('javascript:alert(1)'); };"})
    attempt, response = sign_in(discovery, spa, person)
    assert "sendUserTo needs an absolute http(s) URL" in attempt.denied(response)


# ---------------------------------------------------------------- multi-factor authentication


def test_mfa_once_per_session(server, admin, discovery, spa, person, flow):
    flow.bind(action("mfa-once-per-session"))
    attempt, response = sign_in(discovery, spa, person)
    page = MFAPage(server, attempt.browser, response)
    assert page.key and 'href="otpauth://totp/' in page.page.text
    wrong = page.post(code="000000")
    assert wrong.status_code == 401 and "Wrong code" in wrong.text
    key, recovery, done = page.enrol()
    id_claims, _ = attempt.tokens(done)
    assert id_claims["amr"] == ["mfa"]

    # Same session: no second challenge; the session's authentication included the second factor.
    again = Attempt(discovery, spa, browser=attempt.browser)
    assert again.tokens(again.authorize())[0]["amr"] == ["mfa"]

    methods = admin.get(server.url(f"api/v2/users/{person['user_id']}/authentication-methods"), timeout=TIMEOUT).json()
    assert sorted(method["type"] for method in methods) == ["recovery-code", "totp"]
    assert all(method["confirmed"] for method in methods) and key not in json.dumps(methods) and recovery not in json.dumps(methods)

    # A new browser is challenged; the code already used in this step is refused, the next step's is not.
    attempt, response = sign_in(discovery, spa, person)
    challenge = MFAPage(server, attempt.browser, response)
    assert challenge.key is None and 'name="recovery_code"' in challenge.page.text
    if challenge.post(code=page.code).status_code != 401:
        pytest.fail("a code from a step already used was accepted")
    # The next step's code is within the window of one step either side.
    assert attempt.tokens(challenge.post(code=pyotp.TOTP(key).at(time.time() + 30)))[0]["amr"] == ["mfa"]

    # Reset through the Management API: the next sign-in enrolls again.
    totp = next(method for method in methods if method["type"] == "totp")
    assert admin.delete(server.url(f"api/v2/users/{person['user_id']}/authentication-methods/{totp['id']}"), timeout=TIMEOUT).status_code == 204
    assert admin.delete(server.url(f"api/v2/users/{person['user_id']}/authentication-methods"), timeout=TIMEOUT).status_code == 204
    attempt, response = sign_in(discovery, spa, person)
    assert MFAPage(server, attempt.browser, response).key


def test_mfa_only_for_admins_and_recovery_codes(server, admin, discovery, spa, flow):
    role = admin.post(server.url("api/v2/roles"), json={"name": "admin"}, timeout=TIMEOUT)
    role_id = role.json()["id"] if role.status_code == 201 else next(
        r["id"] for r in admin.get(server.url("api/v2/roles"), timeout=TIMEOUT).json() if r["name"] == "admin")
    chief = create_password_user(server, admin)
    staff = create_password_user(server, admin)
    admin.post(server.url(f"api/v2/users/{chief['user_id']}/roles"), json={"roles": [role_id]}, timeout=TIMEOUT)
    flow.bind(action("mfa-for-admins"))
    attempt, response = sign_in(discovery, spa, {"email": staff["email"], "password": "Passw0rd-Ok"})
    assert "amr" not in attempt.tokens(response)[0]

    attempt, response = sign_in(discovery, spa, {"email": chief["email"], "password": "Passw0rd-Ok"})
    _, recovery, done = MFAPage(server, attempt.browser, response).enrol()
    attempt.tokens(done)
    # Lost the phone: the recovery code signs in once and a new one is shown.
    attempt, response = sign_in(discovery, spa, {"email": chief["email"], "password": "Passw0rd-Ok"})
    page = MFAPage(server, attempt.browser, response)
    shown = page.post(recovery_code=recovery)
    fresh = element("recovery-code", shown.text)
    assert shown.status_code == 200 and fresh and fresh != recovery
    assert attempt.tokens(page.post(step="done"))[0]["amr"] == ["mfa"]
    attempt, response = sign_in(discovery, spa, {"email": chief["email"], "password": "Passw0rd-Ok"})
    assert MFAPage(server, attempt.browser, response).post(recovery_code=recovery).status_code == 401


def test_wrong_codes_are_throttled(server, admin, discovery, spa, person, flow):
    flow.bind(action("mfa-once-per-session"))
    attempt, response = sign_in(discovery, spa, person)
    key, _, done = MFAPage(server, attempt.browser, response).enrol()
    attempt.tokens(done)
    attempt, response = sign_in(discovery, spa, person)
    page = MFAPage(server, attempt.browser, response)
    statuses = [page.post(code=f"{n:06d}").status_code for n in range(5)]
    assert statuses[:4] == [401] * 4 and statuses[4] == 429
    # Even the right code waits now.
    throttled = page.post(code=pyotp.TOTP(key).now())
    assert throttled.status_code == 429 and "Too many attempts" in throttled.text
    forged_csrf = attempt.browser.post(server.url("u/mfa"), data={"state": page.fields["state"], "csrf": "forged", "code": "123456"}, timeout=TIMEOUT)
    assert forged_csrf.status_code == 403
