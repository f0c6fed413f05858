"""Interop tests: Tessera's OpenID Connect sign-in, driven by Authlib the way a third-party relying party would
use it: authorization code + PKCE through the hosted login page, ID token verification against the JWKS,
refresh-token rotation, userinfo, prompt=none and logout.

The "browser" here is a plain requests.Session that keeps cookies; the callback URL is never fetched (nothing
listens there): the tests read the code from the Location header of the last redirect."""

import base64
import hashlib
import json
import time
import uuid
import warnings
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from authlib.deprecate import AuthlibDeprecationWarning  # noqa: E402 (sets its own "always" filter on import)

with warnings.catch_warnings():
    # authlib.jose is deprecated in favour of joserfc but kept until Authlib 2 (requirements.txt pins authlib<2).
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.jose import JsonWebKey, jwt
    from authlib.oauth2.rfc6749.errors import MismatchingStateException

from conftest import (
    STRONG_PASSWORD,
    TIMEOUT,
    create_password_user,
    create_spa_client,
    fetch_token,
    free_port,
    pkce_pair,
    remember_secret,
)

API_IDENTIFIER = "https://api.interop.test/"
API_SCOPE = "read:rows"
SCOPE = "openid profile email offline_access"
WRONG_CREDENTIALS = "Wrong email or password."


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def discovery(server):
    response = requests.get(server.url(".well-known/openid-configuration"), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def api(server):
    """The resource server 'https://api.interop.test/' (offline access allowed), and a role granting read:rows."""
    admin = requests.Session()
    admin.headers["Authorization"] = "Bearer " + fetch_token(server, server.client_id, server.client_secret)
    created = admin.post(
        server.url("api/v2/resource-servers"),
        json={"name": "API", "identifier": API_IDENTIFIER, "allow_offline_access": True, "scopes": [{"value": API_SCOPE}]},
        timeout=TIMEOUT,
    )
    # Each module has a server of its own (conftest), so the API is always new here.
    assert created.status_code == 201, created.text
    role = admin.post(server.url("api/v2/roles"), json={"name": f"readers-{uuid.uuid4().hex[:8]}"}, timeout=TIMEOUT)
    assert role.status_code in (200, 201), role.text
    role_id = role.json()["id"]
    granted = admin.post(
        server.url(f"api/v2/roles/{role_id}/permissions"),
        json={"permissions": [{"resource_server_identifier": API_IDENTIFIER, "permission_name": API_SCOPE}]},
        timeout=TIMEOUT,
    )
    assert granted.status_code in (200, 201, 204), granted.text
    admin.close()
    return {"identifier": API_IDENTIFIER, "role_id": role_id}


@dataclass
class Spa:
    client_id: str
    name: str
    callback: str
    origin: str
    logout_url: str


@pytest.fixture
def spa(server, admin):
    origin = f"http://127.0.0.1:{free_port()}"
    client = create_spa_client(server, admin, origin + "/callback", logout_urls=[origin + "/signed-out"])
    assert "client_secret" not in client or not client["client_secret"], client
    assert client.get("token_endpoint_auth_method") == "none", client
    return Spa(client["client_id"], client["name"], origin + "/callback", origin, origin + "/signed-out")


@pytest.fixture
def user(server, admin):
    created = create_password_user(server, admin)
    return {"user_id": created["user_id"], "email": created["email"], "password": STRONG_PASSWORD}


# ---------------------------------------------------------------- the hosted login page, as a browser sees it


class FormParser(HTMLParser):
    """Collects the forms of a page (action, method, named inputs) and which ids have a <label for=…>."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self.labels = set()
        self.buttons = 0
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": (attrs.get("method") or "get").lower(),
                               "inputs": {}, "types": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["inputs"][attrs["name"]] = attrs.get("value") or ""
            self.forms[-1]["types"][attrs["name"]] = attrs.get("type") or "text"
        elif tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        elif tag == "button" and (attrs.get("type") or "submit") == "submit":
            self.buttons += 1

    def handle_data(self, data):
        self.text.append(data)


def parse_page(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    parser.close()
    return parser


def login_form(page: requests.Response) -> dict:
    """The single sign-in/sign-up form of a hosted page, checked for what a browser and a screen reader need."""
    assert page.status_code == 200, f"{page.status_code}: {page.text[:500]}"
    assert page.headers.get("Content-Type", "").startswith("text/html"), page.headers
    parsed = parse_page(page.text)
    assert len(parsed.forms) == 1, parsed.forms
    form = parsed.forms[0]
    assert form["method"] == "post", form
    assert form["action"] in ("/u/login", "/u/signup"), form
    assert form["types"].get("state") == "hidden" and form["inputs"]["state"], form
    assert form["types"].get("csrf") == "hidden" and form["inputs"]["csrf"], form
    assert form["types"].get("email") == "email", form
    assert form["types"].get("password") == "password", form
    assert {"email", "password"} <= parsed.labels, parsed.labels
    assert parsed.buttons >= 1
    form["url"] = urljoin(page.url, form["action"])
    return form


def submit_credentials(browser: requests.Session, form: dict, email: str, password: str, *, timeout=TIMEOUT, **overrides):
    fields = dict(form["inputs"])
    fields.update(email=email, password=password)
    for name, value in overrides.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return browser.post(form["url"], data=fields, allow_redirects=False, timeout=timeout)


def callback_query(response: requests.Response, callback: str) -> dict:
    """The query of a redirect back to the application's callback, as a dict of single values."""
    assert response.status_code == 302, f"{response.status_code}: {response.text[:500]}"
    location = response.headers["Location"]
    assert location.split("?", 1)[0] == callback, location
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


# ---------------------------------------------------------------- the relying party (Authlib)


def oauth_session(spa: Spa) -> OAuth2Session:
    return OAuth2Session(
        client_id=spa.client_id,
        redirect_uri=spa.callback,
        scope=SCOPE,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )


@dataclass
class SignIn:
    oauth: OAuth2Session
    token: dict
    nonce: str
    state: str
    browser: requests.Session  # carries the tessera_session cookie
    callback_url: str


def sign_in(discovery, spa: Spa, email: str, password: str, audience: str = None) -> SignIn:
    oauth = oauth_session(spa)
    verifier, _ = pkce_pair()
    nonce = uuid.uuid4().hex
    state = uuid.uuid4().hex
    extra = {"audience": audience} if audience else {}
    url, returned_state = oauth.create_authorization_url(
        discovery["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce, **extra
    )
    assert returned_state == state
    assert "code_challenge_method=S256" in url

    browser = requests.Session()
    page = browser.get(url, timeout=TIMEOUT)  # follows the 302 to /u/login?state=TX
    assert urlsplit(page.url).path == "/u/login", page.url
    form = login_form(page)
    response = submit_credentials(browser, form, email, password)
    query = callback_query(response, spa.callback)
    assert query.get("state") == state, query
    assert query.get("code"), query
    assert browser.cookies.get("tessera_session"), "the login response set no tessera_session cookie"

    callback_url = response.headers["Location"]
    token = oauth.fetch_token(
        discovery["token_endpoint"], authorization_response=callback_url, code_verifier=verifier, state=state
    )
    return SignIn(oauth, token, nonce, state, browser, callback_url)


def assert_granted_scope(token: dict, expected=("openid", "profile", "email", "offline_access")):
    granted = token.get("scope", "")
    assert set(granted.split()) >= set(expected), (
        f"granted scope {granted!r} for requested {SCOPE!r}"
        + (": '+' in the /authorize query was not decoded as a space" if "+" in granted else "")
    )


def key_set(discovery):
    response = requests.get(discovery["jwks_uri"], timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return JsonWebKey.import_key_set(response.json())


def jose_header(token: str) -> dict:
    segment = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def verify_id_token(server, discovery, id_token: str, client_id: str, nonce: str):
    assert jose_header(id_token)["alg"] == "RS256"
    claims = jwt.decode(
        id_token,
        key_set(discovery),
        claims_options={
            "iss": {"essential": True, "value": server.issuer},
            "aud": {"essential": True, "value": client_id},
            "nonce": {"essential": True, "value": nonce},
        },
    )
    claims.validate()
    return claims


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def authorize_url(discovery, spa: Spa, **overrides) -> str:
    """An /authorize URL built with Authlib (PKCE S256 included) for requests that do not need the verifier."""
    oauth = oauth_session(spa)
    verifier, _ = pkce_pair()
    url, _ = oauth.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier, **overrides)
    return url


# ---------------------------------------------------------------- discovery


def test_discovery_document(server, discovery):
    assert discovery["issuer"] == server.issuer
    for field in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"):
        assert discovery.get(field, "").startswith(server.issuer), (field, discovery.get(field))
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert "code" in discovery.get("response_types_supported", []), discovery
    assert "RS256" in discovery.get("id_token_signing_alg_values_supported", []), discovery
    keys = key_set(discovery)
    assert keys.keys, "the JWKS has no keys"


# ---------------------------------------------------------------- authorization code + PKCE


def test_code_flow_with_pkce_and_id_token(server, discovery, spa, user):
    started = int(time.time())
    result = sign_in(discovery, spa, user["email"], user["password"])
    token = result.token
    assert token["token_type"] == "Bearer"
    assert isinstance(token["expires_in"], int) and token["expires_in"] > 0
    assert_granted_scope(token)
    assert token["access_token"] and token["id_token"], token

    claims = verify_id_token(server, discovery, token["id_token"], spa.client_id, result.nonce)
    assert claims["sub"] == user["user_id"]
    assert claims["nonce"] == result.nonce
    assert claims["sid"], claims
    assert claims["at_hash"] == at_hash(token["access_token"])
    assert isinstance(claims["auth_time"], int), claims
    assert started - 5 <= claims["auth_time"] <= int(time.time()) + 5, claims
    assert claims["email"] == user["email"]
    assert claims["email_verified"] in (True, False)
    assert claims.get("name") and claims.get("nickname"), claims  # scope profile

    # Without an audience the access token is for /userinfo only.
    access = jwt.decode(token["access_token"], key_set(discovery),
                        claims_options={"iss": {"essential": True, "value": server.issuer}})
    access.validate()
    assert access["aud"] == server.issuer + "userinfo" or access["aud"] == [server.issuer + "userinfo"], access
    assert access["sub"] == user["user_id"]
    assert access["azp"] == spa.client_id


def test_id_token_rejected_with_wrong_nonce(server, discovery, spa, user):
    result = sign_in(discovery, spa, user["email"], user["password"])
    assert_granted_scope(result.token)
    with pytest.raises(Exception) as raised:
        verify_id_token(server, discovery, result.token["id_token"], spa.client_id, "not-the-nonce")
    assert "nonce" in str(raised.value).lower()


def test_access_token_for_api_has_audience_and_permissions(server, discovery, api, spa, user, admin):
    assigned = admin.post(server.url(f"api/v2/users/{user['user_id']}/roles"), json={"roles": [api["role_id"]]},
                          timeout=TIMEOUT)
    assert assigned.status_code in (200, 201, 204), assigned.text
    result = sign_in(discovery, spa, user["email"], user["password"], audience=API_IDENTIFIER)
    assert_granted_scope(result.token)
    assert result.token.get("refresh_token"), result.token  # offline_access, and the API allows it
    access = jwt.decode(result.token["access_token"], key_set(discovery),
                        claims_options={"iss": {"essential": True, "value": server.issuer}})
    access.validate()
    assert jose_header(result.token["access_token"])["alg"] == "RS256"
    assert access["aud"] == [API_IDENTIFIER, server.issuer + "userinfo"], access
    assert access["permissions"] == [API_SCOPE], access
    assert access["sub"] == user["user_id"]
    assert access["azp"] == spa.client_id
    verify_id_token(server, discovery, result.token["id_token"], spa.client_id, result.nonce)


def test_userinfo(server, discovery, spa, user):
    result = sign_in(discovery, spa, user["email"], user["password"])
    assert_granted_scope(result.token)
    for method in ("GET", "POST"):
        response = result.oauth.request(method, discovery["userinfo_endpoint"], timeout=TIMEOUT)
        assert response.status_code == 200, f"{method}: {response.status_code} {response.text}"
        body = response.json()
        assert body["sub"] == user["user_id"], body
        assert body["email"] == user["email"], body
        assert "email_verified" in body, body
    unauthenticated = requests.get(discovery["userinfo_endpoint"], timeout=TIMEOUT)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers.get("WWW-Authenticate", "").startswith("Bearer"), unauthenticated.headers


def test_refresh_token_rotation(server, discovery, api, spa, user):
    result = sign_in(discovery, spa, user["email"], user["password"], audience=API_IDENTIFIER)
    assert_granted_scope(result.token)
    oauth = result.oauth
    first_refresh = result.token["refresh_token"]
    first_access = result.token["access_token"]

    refreshed = oauth.refresh_token(discovery["token_endpoint"])
    second_refresh = refreshed["refresh_token"]
    remember_secret(first_refresh, second_refresh, first_access, refreshed["access_token"])
    assert second_refresh and second_refresh != first_refresh, "the refresh token was not rotated"
    assert refreshed["access_token"] and refreshed["access_token"] != first_access
    assert refreshed["token_type"] == "Bearer"
    if refreshed.get("id_token"):
        # No nonce on a refreshed ID token is allowed; check signature, issuer and audience.
        claims = jwt.decode(refreshed["id_token"], key_set(discovery), claims_options={
            "iss": {"essential": True, "value": server.issuer}, "aud": {"essential": True, "value": spa.client_id}})
        claims.validate()
        assert claims["sub"] == user["user_id"]

    # The new access token works (the session now carries it), and the rotated refresh token works too.
    userinfo = oauth.get(discovery["userinfo_endpoint"], timeout=TIMEOUT)
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["sub"] == user["user_id"]
    third = oauth.refresh_token(discovery["token_endpoint"], refresh_token=second_refresh)
    assert third["refresh_token"] and third["refresh_token"] not in (first_refresh, second_refresh)


def test_wrong_code_verifier_is_rejected(server, discovery, spa, user):
    oauth = oauth_session(spa)
    verifier, _ = pkce_pair()
    url, state = oauth.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier,
                                                nonce=uuid.uuid4().hex)
    browser = requests.Session()
    form = login_form(browser.get(url, timeout=TIMEOUT))
    query = callback_query(submit_credentials(browser, form, user["email"], user["password"]), spa.callback)
    other_verifier, _ = pkce_pair()
    response = requests.post(discovery["token_endpoint"], data={
        "grant_type": "authorization_code", "client_id": spa.client_id, "code": query["code"],
        "redirect_uri": spa.callback, "code_verifier": other_verifier,
    }, timeout=TIMEOUT)
    assert response.status_code in (400, 403), response.text
    assert response.json()["error"] == "invalid_grant", response.text


def test_state_mismatch_is_caught_by_the_client(discovery, spa, user):
    """Not a server check: Authlib refuses a callback whose state is not the one it sent."""
    result = sign_in(discovery, spa, user["email"], user["password"])
    with pytest.raises(MismatchingStateException):
        oauth_session(spa).fetch_token(discovery["token_endpoint"], authorization_response=result.callback_url,
                                       code_verifier="x" * 43, state="another-state")


@pytest.mark.parametrize("space", ["+", "%20"])
def test_authorize_query_space_encodings(server, discovery, spa, user, space):
    """A space in the /authorize query may be sent as '+' (application/x-www-form-urlencoded: Python's urlencode,
    browsers' URLSearchParams, HTML forms) or as '%20'; both must mean the same scopes."""
    verifier, challenge = pkce_pair()
    scope = SCOPE.replace(" ", space)
    url = (f"{discovery['authorization_endpoint']}?response_type=code&client_id={spa.client_id}"
           f"&redirect_uri={spa.callback}&scope={scope}&state=enc&nonce=n"
           f"&code_challenge={challenge}&code_challenge_method=S256")
    browser = requests.Session()
    form = login_form(browser.get(url, timeout=TIMEOUT))
    query = callback_query(submit_credentials(browser, form, user["email"], user["password"]), spa.callback)
    response = requests.post(discovery["token_endpoint"], data={
        "grant_type": "authorization_code", "client_id": spa.client_id, "code": query["code"],
        "redirect_uri": spa.callback, "code_verifier": verifier,
    }, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"].split() == SCOPE.split(), body["scope"]
    assert body.get("id_token"), "no id_token: the openid scope was not recognised"


# ---------------------------------------------------------------- errors at /authorize and on the login page


def test_unregistered_redirect_uri_shows_error_page(server, discovery, spa):
    url = authorize_url(discovery, spa, redirect_uri="https://evil.example.com/callback", state="s1")
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400, f"{response.status_code}: {response.text[:300]}"
    assert "Location" not in response.headers, response.headers
    assert response.headers.get("Content-Type", "").startswith("text/html"), response.headers
    assert "evil.example.com" not in response.headers.get("Set-Cookie", "")


def test_pkce_is_required_for_spa(server, discovery, spa):
    response = requests.get(discovery["authorization_endpoint"], params={
        "response_type": "code", "client_id": spa.client_id, "redirect_uri": spa.callback, "scope": "openid",
        "state": "no-pkce",
    }, allow_redirects=False, timeout=TIMEOUT)
    query = callback_query(response, spa.callback)
    assert query["error"] == "invalid_request", query
    assert query["state"] == "no-pkce", query
    assert "code" not in query


def test_prompt_none_without_session_is_login_required(server, discovery, spa):
    url = authorize_url(discovery, spa, prompt="none", state="silent-1", nonce="n")
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    query = callback_query(response, spa.callback)
    assert query["error"] == "login_required", query
    assert query["state"] == "silent-1", query
    assert "code" not in query


def test_wrong_password_shows_message(server, discovery, spa, user):
    url = authorize_url(discovery, spa, nonce="n")
    browser = requests.Session()
    form = login_form(browser.get(url, timeout=TIMEOUT))
    response = submit_credentials(browser, form, user["email"], "Wrong-Passw0rd")
    assert response.status_code == 401, f"{response.status_code}: {response.text[:300]}"
    assert WRONG_CREDENTIALS in response.text
    assert "Location" not in response.headers
    assert not browser.cookies.get("tessera_session")
    # The page offers the form again, with the email kept, and the same transaction still works.
    again = parse_page(response.text).forms[0]
    assert again["inputs"].get("email") == user["email"]
    retry = submit_credentials(browser, form, user["email"], user["password"])
    assert callback_query(retry, spa.callback).get("code")


def test_unknown_email_shows_the_same_message(server, discovery, spa):
    browser = requests.Session()
    form = login_form(browser.get(authorize_url(discovery, spa), timeout=TIMEOUT))
    response = submit_credentials(browser, form, f"nobody-{uuid.uuid4().hex[:8]}@interop.example.com", STRONG_PASSWORD)
    assert response.status_code == 401, response.status_code
    assert WRONG_CREDENTIALS in response.text


@pytest.mark.parametrize("csrf", [None, "", "forged-csrf-value"])
def test_login_without_valid_csrf_is_forbidden(server, discovery, spa, user, csrf):
    browser = requests.Session()
    form = login_form(browser.get(authorize_url(discovery, spa), timeout=TIMEOUT))
    response = submit_credentials(browser, form, user["email"], user["password"], csrf=csrf)
    assert response.status_code == 403, f"{response.status_code}: {response.text[:300]}"
    assert "Location" not in response.headers
    assert not browser.cookies.get("tessera_session")


def test_login_from_another_browser_is_forbidden(server, discovery, spa, user):
    """The form's csrf value is bound to the transaction cookie: posting it without that cookie fails."""
    browser = requests.Session()
    form = login_form(browser.get(authorize_url(discovery, spa), timeout=TIMEOUT))
    response = submit_credentials(requests.Session(), form, user["email"], user["password"])
    assert response.status_code == 403, f"{response.status_code}: {response.text[:300]}"


# ---------------------------------------------------------------- sessions: silent sign-in and logout


def test_logout_ends_the_session(server, discovery, spa, user):
    result = sign_in(discovery, spa, user["email"], user["password"])
    browser = result.browser

    # With a session, prompt=none signs in silently.
    silent = browser.get(authorize_url(discovery, spa, prompt="none", state="silent-2", nonce="n2"),
                         allow_redirects=False, timeout=TIMEOUT)
    query = callback_query(silent, spa.callback)
    assert query.get("code") and query.get("state") == "silent-2", query

    logout = browser.get(server.url("v2/logout"), params={"client_id": spa.client_id, "returnTo": spa.logout_url},
                         allow_redirects=False, timeout=TIMEOUT)
    assert logout.status_code == 302, f"{logout.status_code}: {logout.text[:300]}"
    assert logout.headers["Location"] == spa.logout_url
    assert not browser.cookies.get("tessera_session"), "logout did not clear the tessera_session cookie"

    after = browser.get(authorize_url(discovery, spa, prompt="none", state="silent-3", nonce="n3"),
                        allow_redirects=False, timeout=TIMEOUT)
    query = callback_query(after, spa.callback)
    assert query["error"] == "login_required", query
    assert query["state"] == "silent-3", query


def test_logout_kills_the_session_server_side(server, discovery, spa, user):
    """Replaying the old session cookie after logout must not sign in (the session is revoked, not just forgotten)."""
    result = sign_in(discovery, spa, user["email"], user["password"])
    cookie = result.browser.cookies.get("tessera_session")

    def silent_sign_in_with(cookie_value, state):
        replay = requests.Session()
        replay.cookies.set("tessera_session", cookie_value, domain=urlsplit(server.base_url).hostname, path="/")
        response = replay.get(authorize_url(discovery, spa, prompt="none", state=state, nonce="n"),
                              allow_redirects=False, timeout=TIMEOUT)
        return callback_query(response, spa.callback)

    assert silent_sign_in_with(cookie, "before").get("code"), "the copied session cookie does not sign in"
    logout = result.browser.get(server.url("v2/logout"), params={"client_id": spa.client_id, "returnTo": spa.logout_url},
                                allow_redirects=False, timeout=TIMEOUT)
    assert logout.status_code == 302, logout.text[:300]
    assert silent_sign_in_with(cookie, "after")["error"] == "login_required"


def test_logout_to_unlisted_url_is_refused(server, spa):
    response = requests.get(server.url("v2/logout"),
                            params={"client_id": spa.client_id, "returnTo": "https://evil.example.com/"},
                            allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400, response.status_code
    assert "Location" not in response.headers
