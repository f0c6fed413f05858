"""JWT mode against an issuer that is not Tessera: PyJWT signs RS256 tokens with keys a local JWKS server publishes,
as any OIDC provider would. The engine fetches the JWKS on first use, follows a key rotation by refetching when a
token names an unknown kid, and refuses what Hasura refuses, in Hasura's words."""
import base64
import hashlib
import hmac as hmac_module
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import TIMEOUT, remember_secret, start_tessera, stop_tessera

SECRET = "jwt-admin-" + uuid.uuid4().hex
remember_secret(SECRET)
ISSUER = "https://issuer.interop.test/"
AUDIENCE = "https://api.interop.test/"


def new_key(kid):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return private, public


class JWKS(BaseHTTPRequestHandler):
    keys = []
    fetches = 0

    def do_GET(self):
        JWKS.fetches += 1
        body = json.dumps({"keys": JWKS.keys}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def jwks_url():
    httpd = HTTPServer(("127.0.0.1", 0), JWKS)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/.well-known/jwks.json"
    httpd.shutdown()


@pytest.fixture(scope="module")
def base(jwks_url):
    config = {"jwk_url": jwks_url, "issuer": ISSUER, "audience": [AUDIENCE, "another"], "allowed_skew": 5}
    running = start_tessera(env=dict(os.environ, HASURA_GRAPHQL_ADMIN_SECRET=SECRET, HASURA_GRAPHQL_JWT_SECRET=json.dumps(config)))
    try:
        admin = {"x-hasura-admin-secret": SECRET}
        sql = """CREATE TABLE notes (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, body TEXT);
                 INSERT INTO notes VALUES (1, 'alice', 'a1'), (2, 'bob', 'b1'), (3, 'alice', 'a2');"""
        assert requests.post(running.base + "v2/query", json={"type": "run_sql", "args": {"sql": sql}}, headers=admin,
                             timeout=TIMEOUT).status_code == 200
        metadata = {"version": 3, "sources": [{"name": "default", "kind": "postgres", "tables": [{
            "table": {"schema": "public", "name": "notes"},
            "select_permissions": [{"role": "user", "permission": {
                "columns": ["id", "body"], "filter": {"owner": {"_eq": "X-Hasura-User-Id"}}}}]}]}]}
        replaced = requests.post(running.base + "v1/metadata", json={"type": "replace_metadata", "args": metadata},
                                 headers=admin, timeout=TIMEOUT)
        assert replaced.status_code == 200, replaced.text
        yield running.base
    finally:
        stop_tessera(running)


def token(private, kid, user="alice", **overrides):
    claims = {"sub": user, "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 300,
              "https://hasura.io/jwt/claims": {"x-hasura-default-role": "user", "x-hasura-allowed-roles": ["user"],
                                               "x-hasura-user-id": user}}
    claims.update(overrides)
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


def query(base, bearer, document="{ notes(order_by: {id: asc}) { id body } }"):
    response = requests.post(base + "v1/graphql", json={"query": document},
                             headers={"Authorization": f"Bearer {bearer}"}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def test_rotation_is_followed_and_foreign_keys_refused(base):
    first, first_public = new_key("first")
    JWKS.keys = [first_public]
    assert query(base, token(first, "first")) == {"data": {"notes": [{"id": 1, "body": "a1"}, {"id": 3, "body": "a2"}]}}
    assert query(base, token(first, "first", user="bob")) == {"data": {"notes": [{"id": 2, "body": "b1"}]}}
    fetched = JWKS.fetches

    # The issuer rotates: a new key, the old one gone. The first token with the new kid makes the engine refetch.
    second, second_public = new_key("second")
    JWKS.keys = [second_public]
    assert query(base, token(second, "second")) == {"data": {"notes": [{"id": 1, "body": "a1"}, {"id": 3, "body": "a2"}]}}
    assert JWKS.fetches == fetched + 1

    stranger, _ = new_key("stranger")
    refused = query(base, token(stranger, "stranger"))
    assert refused == {"errors": [{"message": "Could not verify JWT: JWSError NoUsableKeys",
                                   "extensions": {"path": "$", "code": "invalid-jwt"}}]}
    # A token signed by a key the JWKS does not hold, under a kid it does: the signature fails.
    assert query(base, token(stranger, "second"))["errors"][0]["message"] == "Could not verify JWT: JWSError JWSInvalidSignature"
    # HMAC with the public key as the secret (the algorithm-confusion attack), and alg none: refused.
    public_pem = second.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hmac = forge_hs256({"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 300,
                        "https://hasura.io/jwt/claims": {"x-hasura-default-role": "user", "x-hasura-allowed-roles": ["user"],
                                                         "x-hasura-user-id": "bob"}}, public_pem, kid="second")
    assert query(base, hmac)["errors"][0]["extensions"]["code"] == "invalid-jwt"
    unsigned = jwt.encode({"sub": "alice"}, None, algorithm="none")
    assert query(base, unsigned)["errors"][0]["extensions"]["code"] == "invalid-jwt"


def forge_hs256(claims, secret: bytes, kid: str) -> str:
    """An HS256 token keyed with the RSA public key: PyJWT refuses to make one, attackers do not."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    signing_input = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + b64(json.dumps(claims).encode())
    signature = hmac_module.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def test_claims_are_checked_in_hasuras_words(base):
    key, public = new_key("checks")
    JWKS.keys = [public]
    expired = token(key, "checks", exp=int(time.time()) - 60)
    assert query(base, expired)["errors"][0]["message"] == "Could not verify JWT: JWTExpired"
    # Within allowed_skew (5 s), a just-expired token still passes.
    assert "data" in query(base, token(key, "checks", exp=int(time.time()) - 2))
    assert query(base, token(key, "checks", aud="https://elsewhere/"))["errors"][0]["message"] == "Could not verify JWT: JWTNotInAudience"
    assert "data" in query(base, token(key, "checks", aud=["x", "another"]))
    assert query(base, token(key, "checks", iss="https://evil/"))["errors"][0]["message"] == "Could not verify JWT: JWTNotInIssuer"
    no_namespace = token(key, "checks", **{"https://hasura.io/jwt/claims": None})
    assert query(base, no_namespace)["errors"][0]["extensions"]["code"] == "jwt-invalid-claims"
    hidden = query(base, token(key, "checks"), "{ notes { owner } }")
    assert hidden["errors"][0]["message"] == "field 'owner' not found in type: 'notes'"
