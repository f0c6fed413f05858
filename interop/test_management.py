"""Interop tests: Tessera as an Auth0-compatible token endpoint and Management API,
exercised with requests and PyJWT the way a third-party client would."""

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import uuid
from urllib.parse import quote

import jwt
import pytest
import requests

from conftest import TIMEOUT, fetch_token, remember_secret

DB = "Username-Password-Authentication"
PASSWORD = "Passw0rd!x"
remember_secret(PASSWORD)
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 413: "Content Too Large",
           414: "URI Too Long"}
BODY_LIMIT = 64 * 1024  # the Management API reads at most 64 KiB of body


# ---------------------------------------------------------------- helpers


def jwks_client(server):
    # A fresh client each time: no cached keys from before a rotation.
    return jwt.PyJWKClient(server.url(".well-known/jwks.json"), cache_keys=False, cache_jwk_set=False)


def verify(server, token, audience=None):
    key = jwks_client(server).get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=audience or server.audience,
        issuer=server.issuer,
    )


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def unique_email(domain=None):
    domain = domain or f"d{uuid.uuid4().hex[:10]}.example.com"
    return f"u{uuid.uuid4().hex[:12]}@{domain}"


def assert_auth0_error(response, status, error_code=None):
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert body["statusCode"] == status, body
    assert isinstance(body["error"], str) and body["error"], body
    if status in REASONS:
        assert body["error"] == REASONS[status], body
    assert isinstance(body["message"], str) and body["message"], body
    if error_code is not None:
        assert body.get("errorCode") == error_code, body
    return body


def assert_oauth_error(response, status, error):
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert body["error"] == error, body
    assert isinstance(body.get("error_description"), str) and body["error_description"], body
    return body


def assert_healthy(server):
    response = requests.get(server.url("healthz"), timeout=TIMEOUT)
    assert response.status_code == 200, response.text


def create_user(server, admin, **extra):
    body = {"connection": DB, "email": unique_email(), "password": PASSWORD}
    body.update(extra)
    response = admin.post(server.url("api/v2/users"), json=body, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()


def user_url(server, user_id):
    return server.url("api/v2/users/" + quote(user_id, safe=""))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def create_m2m_client(server, admin, scopes):
    response = admin.post(
        server.url("api/v2/clients"),
        json={"name": f"limited-{uuid.uuid4().hex[:8]}", "app_type": "non_interactive"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    client = response.json()
    assert client["client_id"] and client["client_secret"], client
    remember_secret(client["client_secret"])
    grant = admin.post(
        server.url("api/v2/client-grants"),
        json={"client_id": client["client_id"], "audience": server.audience, "scope": scopes},
        timeout=TIMEOUT,
    )
    assert grant.status_code == 201, grant.text
    return client


# ---------------------------------------------------------------- 0. bootstrap


def test_admin_credentials_file(server):
    path = os.path.join(server.data_dir, "admin-client.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        document = json.load(handle)
    assert document["client_id"] == server.client_id
    assert document["client_secret"] == server.client_secret
    assert document["audience"] == server.issuer + "api/v2/"
    assert document["token_url"] == server.issuer + "oauth/token"


# ---------------------------------------------------------------- 1. client credentials


def check_token_response(server, response):
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    assert isinstance(body["scope"], str)
    assert "read:users" in body["scope"].split()
    token = body["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header.get("kid")

    claims = verify(server, token)
    assert claims["iss"] == server.issuer
    aud = claims["aud"]
    assert aud == server.audience or (isinstance(aud, list) and server.audience in aud)
    assert claims["sub"] == server.client_id + "@clients"
    assert claims["gty"] == "client-credentials"
    assert claims["azp"] == server.client_id
    assert claims.get("jti")
    assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int)
    assert claims["exp"] > claims["iat"]
    assert "read:users" in claims["scope"].split()
    assert set(claims["scope"].split()) == set(body["scope"].split())
    return claims


@pytest.mark.parametrize("encoding", ["data", "json"], ids=["client_secret_post-form", "client_secret_post-json"])
def test_token_client_secret_post(server, encoding):
    credentials = {
        "grant_type": "client_credentials",
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "audience": server.audience,
    }
    response = requests.post(server.url("oauth/token"), timeout=TIMEOUT, **{encoding: credentials})
    check_token_response(server, response)


def test_token_client_secret_basic(server):
    response = requests.post(
        server.url("oauth/token"),
        data={"grant_type": "client_credentials", "audience": server.audience},
        auth=(server.client_id, server.client_secret),
        timeout=TIMEOUT,
    )
    check_token_response(server, response)


def test_discovery_and_jwks(server):
    discovery = requests.get(server.url(".well-known/openid-configuration"), timeout=TIMEOUT)
    assert discovery.status_code == 200
    document = discovery.json()
    assert document["issuer"] == server.issuer
    assert document["jwks_uri"] == server.issuer + ".well-known/jwks.json"
    assert document["token_endpoint"] == server.issuer + "oauth/token"
    jwks = requests.get(server.url(".well-known/jwks.json"), timeout=TIMEOUT).json()
    assert jwks["keys"], jwks
    for key in jwks["keys"]:
        assert key["kty"] == "RSA" and key["kid"] and key["n"] and key["e"]
        assert "d" not in key and "p" not in key  # no private material


# ---------------------------------------------------------------- 2. token endpoint errors


def test_token_wrong_secret(server):
    response = requests.post(
        server.url("oauth/token"),
        data={
            "grant_type": "client_credentials",
            "client_id": server.client_id,
            "client_secret": "not-the-secret",
            "audience": server.audience,
        },
        timeout=TIMEOUT,
    )
    assert_oauth_error(response, 401, "invalid_client")


def test_token_wrong_secret_basic(server):
    response = requests.post(
        server.url("oauth/token"),
        data={"grant_type": "client_credentials", "audience": server.audience},
        auth=(server.client_id, "not-the-secret"),
        timeout=TIMEOUT,
    )
    assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    "overrides, status, error",
    [
        ({"client_id": "no-such-client", "client_secret": "whatever"}, 401, "invalid_client"),
        ({"grant_type": "urn:example:bogus"}, 400, "unsupported_grant_type"),
        ({"audience": None}, 403, "access_denied"),
        ({"audience": "https://unknown.example.com/api/"}, 403, "access_denied"),
    ],
    ids=["unknown-client", "unsupported-grant-type", "missing-audience", "unknown-audience"],
)
def test_token_request_refused(server, overrides, status, error):
    data = {
        "grant_type": "client_credentials",
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "audience": server.audience,
    }
    data.update(overrides)
    data = {key: value for key, value in data.items() if value is not None}
    response = requests.post(server.url("oauth/token"), data=data, timeout=TIMEOUT)
    assert_oauth_error(response, status, error)


# ---------------------------------------------------------------- 3. users


def test_user_lifecycle(server, admin):
    domain = f"d{uuid.uuid4().hex[:10]}.example.com"
    prefix = f"life{uuid.uuid4().hex[:10]}"
    email = f"{prefix}@{domain}"
    plan = f"pro{uuid.uuid4().hex[:6]}"  # unique, so the search result is exactly this user
    response = admin.post(
        server.url("api/v2/users"),
        json={
            "connection": DB,
            "email": email,
            "password": PASSWORD,
            "app_metadata": {"plan": plan, "seats": 3},
            "user_metadata": {"theme": "dark"},
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    user = response.json()
    user_id = user["user_id"]
    assert user_id.startswith("auth0|")
    assert user["email"] == email
    assert user["app_metadata"] == {"plan": plan, "seats": 3}
    assert user["user_metadata"] == {"theme": "dark"}
    assert "password" not in user and "password_hash" not in user

    def search(q, **params):
        r = admin.get(server.url("api/v2/users"), params={"q": q, **params}, timeout=TIMEOUT)
        assert r.status_code == 200, f"q={q!r}: {r.status_code} {r.text}"
        return r.json()

    def ids(users):
        return [u["user_id"] for u in users]

    assert ids(search(f"app_metadata.plan:{plan}")) == [user_id]
    assert ids(search(f'email:"{email}"')) == [user_id]
    assert ids(search(f"email.domain:{domain}")) == [user_id]
    assert ids(search(f"email:{prefix[:-3]}*")) == [user_id]

    totals = search(f"email.domain:{domain}", include_totals="true")
    assert set(totals) >= {"start", "limit", "length", "total", "users"}, totals
    assert totals["start"] == 0
    assert totals["limit"] > 0
    assert totals["length"] == 1
    assert totals["total"] == 1
    assert ids(totals["users"]) == [user_id]

    by_email = admin.get(server.url("api/v2/users-by-email"), params={"email": email}, timeout=TIMEOUT)
    assert by_email.status_code == 200, by_email.text
    assert isinstance(by_email.json(), list)
    assert ids(by_email.json()) == [user_id]

    fetched = admin.get(user_url(server, user_id), timeout=TIMEOUT)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["user_id"] == user_id

    patched = admin.patch(
        user_url(server, user_id),
        json={"app_metadata": {"seats": None, "tier": "gold"}, "name": "New Name"},
        timeout=TIMEOUT,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["app_metadata"] == {"plan": plan, "tier": "gold"}
    assert body["name"] == "New Name"
    assert body["user_metadata"] == {"theme": "dark"}
    # And persisted:
    again = admin.get(user_url(server, user_id), timeout=TIMEOUT).json()
    assert again["app_metadata"] == {"plan": plan, "tier": "gold"}
    assert again["name"] == "New Name"
    assert again["user_metadata"] == {"theme": "dark"}

    deleted = admin.delete(user_url(server, user_id), timeout=TIMEOUT)
    assert deleted.status_code == 204, deleted.text
    gone = admin.get(user_url(server, user_id), timeout=TIMEOUT)
    body = assert_auth0_error(gone, 404, "inexistent_user")
    assert body["error"] == "Not Found"
    assert search(f"email.domain:{domain}") == []


def test_users_requires_token(server):
    response = requests.get(server.url("api/v2/users"), timeout=TIMEOUT)
    assert_auth0_error(response, 401)


# ---------------------------------------------------------------- 4. scopes and clients


def test_insufficient_scope(server, admin):
    client = create_m2m_client(server, admin, ["read:users"])
    client_id = client["client_id"]

    shown = admin.get(server.url("api/v2/clients/" + quote(client_id, safe="")), timeout=TIMEOUT)
    assert shown.status_code == 200, shown.text
    assert shown.json()["client_id"] == client_id
    assert "client_secret" not in shown.json(), "client_secret must only be shown at creation"
    listed = admin.get(server.url("api/v2/clients"), timeout=TIMEOUT)
    assert listed.status_code == 200
    assert all("client_secret" not in c for c in listed.json())

    token = fetch_token(server, client_id, client["client_secret"])
    claims = verify(server, token)
    assert claims["sub"] == client_id + "@clients"
    assert claims["scope"].split() == ["read:users"]

    read = requests.get(server.url("api/v2/users"), headers=bearer(token), timeout=TIMEOUT)
    assert read.status_code == 200, read.text

    write = requests.post(
        server.url("api/v2/users"),
        headers=bearer(token),
        json={"connection": DB, "email": unique_email(), "password": PASSWORD},
        timeout=TIMEOUT,
    )
    assert write.status_code == 403, write.text
    assert write.json() == {
        "statusCode": 403,
        "error": "Forbidden",
        "message": "Insufficient scope, expected any of: create:users",
        "errorCode": "insufficient_scope",
    }


def test_client_without_grant_is_denied(server, admin):
    response = admin.post(
        server.url("api/v2/clients"),
        json={"name": f"nogrant-{uuid.uuid4().hex[:8]}", "app_type": "non_interactive"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    client = response.json()
    token = requests.post(
        server.url("oauth/token"),
        data={
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "audience": server.audience,
        },
        timeout=TIMEOUT,
    )
    assert_oauth_error(token, 403, "access_denied")


# ---------------------------------------------------------------- 5. key rotation


def test_key_rotation(server, admin):
    token_a = fetch_token(server, server.client_id, server.client_secret)
    kid_a = jwt.get_unverified_header(token_a)["kid"]
    verify(server, token_a)

    rotated = admin.post(server.url("api/v2/keys/signing/rotate"), timeout=TIMEOUT)
    assert rotated.status_code == 201, rotated.text
    new_key = rotated.json()
    assert new_key["kid"] and new_key["cert"]
    assert new_key["kid"] != kid_a

    # The old key is still published, so a token signed before the rotation still verifies.
    claims_a = verify(server, token_a)
    assert claims_a["sub"] == server.client_id + "@clients"

    token_b = fetch_token(server, server.client_id, server.client_secret)
    kid_b = jwt.get_unverified_header(token_b)["kid"]
    assert kid_b != kid_a
    assert kid_b == new_key["kid"]
    verify(server, token_b)

    jwks = requests.get(server.url(".well-known/jwks.json"), timeout=TIMEOUT).json()
    kids = {key["kid"] for key in jwks["keys"]}
    assert {kid_a, kid_b} <= kids

    # The Management API still accepts the pre-rotation token.
    still = requests.get(server.url("api/v2/users"), headers=bearer(token_a), params={"per_page": 1}, timeout=TIMEOUT)
    assert still.status_code == 200, still.text

    listed = admin.get(server.url("api/v2/keys/signing"), timeout=TIMEOUT)
    assert listed.status_code == 200, listed.text
    keys = {key["kid"]: key for key in listed.json()}
    for key in keys.values():
        for flag in ("current", "next", "previous"):
            assert isinstance(key[flag], bool), key
    assert keys[kid_b]["current"] is True
    assert keys[kid_a]["previous"] is True
    assert keys[kid_a]["current"] is False
    assert sum(1 for key in keys.values() if key["current"]) == 1

    one = admin.get(server.url("api/v2/keys/signing/" + quote(kid_b, safe="")), timeout=TIMEOUT)
    assert one.status_code == 200, one.text
    assert one.json()["kid"] == kid_b and one.json()["current"] is True


# ---------------------------------------------------------------- 6. bad input


def test_malformed_json(server, admin):
    response = admin.post(
        server.url("api/v2/users"),
        data=b'{"connection": "Username-Password-Authentication", "email": ',
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert_auth0_error(response, 400)
    assert_healthy(server)


def test_unknown_field(server, admin):
    response = admin.post(
        server.url("api/v2/users"),
        json={"connection": DB, "email": unique_email(), "password": PASSWORD, "bogus": 1},
        timeout=TIMEOUT,
    )
    body = assert_auth0_error(response, 400)
    assert "Additional properties not allowed: bogus" in body["message"], body
    assert_healthy(server)


def test_text_plain_content_type(server, admin):
    payload = json.dumps({"connection": DB, "email": unique_email(), "password": PASSWORD})
    response = admin.post(
        server.url("api/v2/users"),
        data=payload.encode(),
        headers={"Content-Type": "text/plain"},
        timeout=TIMEOUT,
    )
    assert_auth0_error(response, 400)
    assert_healthy(server)


def assert_body_too_large(response):
    body = assert_auth0_error(response, 413, "payload_too_large")
    assert body["message"] == f"Request body is larger than {BODY_LIMIT} bytes", body


def test_body_too_large(server, admin):
    """A 70 KiB body with a Content-Length: answered 413 from the header, before the body is read."""
    big = {"connection": DB, "email": unique_email(), "password": PASSWORD, "user_metadata": {"blob": "x" * (70 * 1024)}}
    response = admin.post(server.url("api/v2/users"), json=big, timeout=TIMEOUT)
    assert int(response.request.headers["Content-Length"]) > BODY_LIMIT
    assert_body_too_large(response)
    assert_healthy(server)


def test_body_too_large_chunked(server, admin):
    """The same limit without a Content-Length header (chunked transfer encoding)."""

    def chunks():
        yield b'{"connection":"Username-Password-Authentication","user_metadata":{"blob":"'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}}'

    # A real 413 in Auth0's shape, not a dropped connection (a ConnectionError fails the test).
    response = admin.post(
        server.url("api/v2/users"),
        data=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert response.request.headers.get("Transfer-Encoding") == "chunked", response.request.headers
    assert "Content-Length" not in response.request.headers
    assert_body_too_large(response)
    assert_healthy(server)


@pytest.mark.parametrize(
    "q",
    [
        "email:\"x' OR '1'='1\"",
        "name:x;DROP TABLE users",
        "app_metadata.plan:\"pro') OR 1=1 --\"",
        'name:"x\\" OR 1=1 --"',
    ],
)
def test_search_injection(server, admin, q):
    marker = create_user(server, admin)
    response = admin.get(server.url("api/v2/users"), params={"q": q}, timeout=TIMEOUT)
    assert response.status_code == 200, f"q={q!r}: {response.status_code} {response.text}"
    assert response.json() == []
    # The users table is intact and still searchable.
    again = admin.get(server.url("api/v2/users"), params={"q": f'email:"{marker["email"]}"'}, timeout=TIMEOUT)
    assert again.status_code == 200, again.text
    assert [u["user_id"] for u in again.json()] == [marker["user_id"]]
    assert_healthy(server)


def test_unknown_user_id(server, admin):
    response = admin.get(server.url("api/v2/users/nope"), timeout=TIMEOUT)
    assert_auth0_error(response, 404, "inexistent_user")
    response = admin.get(user_url(server, "auth0|doesnotexist"), timeout=TIMEOUT)
    assert_auth0_error(response, 404, "inexistent_user")


def _claims_like_admin(server):
    real = fetch_token(server, server.client_id, server.client_secret)
    return jwt.decode(real, options={"verify_signature": False})


def test_alg_none_token(server):
    claims = _claims_like_admin(server)
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    forged = f"{header}.{payload}."
    response = requests.get(server.url("api/v2/users"), headers=bearer(forged), timeout=TIMEOUT)
    assert_auth0_error(response, 401)
    assert_healthy(server)


def test_alg_none_token_with_real_kid(server):
    real = fetch_token(server, server.client_id, server.client_secret)
    kid = jwt.get_unverified_header(real)["kid"]
    claims = jwt.decode(real, options={"verify_signature": False})
    header = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    payload = b64url(json.dumps(claims).encode())
    for forged in (f"{header}.{payload}.", f"{header}.{payload}.{real.split('.')[2]}"):
        response = requests.get(server.url("api/v2/users"), headers=bearer(forged), timeout=TIMEOUT)
        assert_auth0_error(response, 401)


def test_hs256_token(server):
    claims = _claims_like_admin(server)
    forged = jwt.encode(claims, secrets.token_bytes(32), algorithm="HS256")
    response = requests.get(server.url("api/v2/users"), headers=bearer(forged), timeout=TIMEOUT)
    assert_auth0_error(response, 401)


def test_hs256_token_keyed_with_public_key(server):
    """Algorithm confusion: HS256 with the published RSA public key (PEM) as the HMAC secret."""
    real = fetch_token(server, server.client_id, server.client_secret)
    kid = jwt.get_unverified_header(real)["kid"]
    claims = jwt.decode(real, options={"verify_signature": False})
    listed = requests.get(
        server.url("api/v2/keys/signing/" + quote(kid, safe="")), headers=bearer(real), timeout=TIMEOUT
    )
    assert listed.status_code == 200, listed.text
    pem = listed.json()["cert"].encode()
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64url(json.dumps(claims).encode())

    signature = b64url(hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    forged = f"{header}.{payload}.{signature}"
    response = requests.get(server.url("api/v2/users"), headers=bearer(forged), timeout=TIMEOUT)
    assert_auth0_error(response, 401)


def test_tampered_payload(server):
    real = fetch_token(server, server.client_id, server.client_secret)
    header, payload, signature = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = claims["scope"] + " superuser"
    tampered = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"
    response = requests.get(server.url("api/v2/users"), headers=bearer(tampered), timeout=TIMEOUT)
    assert_auth0_error(response, 401)


def test_garbage_token(server):
    for token in ("garbage", "a.b.c", "...", "x" * 5000):
        response = requests.get(server.url("api/v2/users"), headers=bearer(token), timeout=TIMEOUT)
        assert_auth0_error(response, 401)
    assert_healthy(server)


def test_token_for_other_audience_rejected(server, admin):
    identifier = f"https://api-{uuid.uuid4().hex[:8]}.example.com/"
    created = admin.post(
        server.url("api/v2/resource-servers"),
        json={"name": "other", "identifier": identifier, "scopes": [{"value": "read:things"}]},
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    client = admin.post(
        server.url("api/v2/clients"),
        json={"name": f"other-{uuid.uuid4().hex[:8]}", "app_type": "non_interactive"},
        timeout=TIMEOUT,
    ).json()
    grant = admin.post(
        server.url("api/v2/client-grants"),
        json={"client_id": client["client_id"], "audience": identifier, "scope": ["read:things"]},
        timeout=TIMEOUT,
    )
    assert grant.status_code == 201, grant.text
    token = fetch_token(server, client["client_id"], client["client_secret"], audience=identifier)
    claims = verify(server, token, audience=identifier)
    assert claims["scope"] == "read:things"
    response = requests.get(server.url("api/v2/users"), headers=bearer(token), timeout=TIMEOUT)
    assert_auth0_error(response, 401)


@pytest.mark.parametrize("password", ["short1A", "alllowercase1", "ALLUPPERCASE1", "NoDigitsHere", ""])
def test_weak_password(server, admin, password):
    response = admin.post(
        server.url("api/v2/users"),
        json={"connection": DB, "email": unique_email(), "password": password},
        timeout=TIMEOUT,
    )
    assert_auth0_error(response, 400)
    assert_healthy(server)
