"""Hasura's JWT mode against issuers that are not Tessera, with the real clients: `gql` (RequestsHTTPTransport) for
GraphQL, PyJWT to sign tokens, `requests` where the exact HTTP answer matters, on SQLite and on PostgreSQL.

Every key of the JWT configuration (the JSON of HASURA_GRAPHQL_JWT_SECRET) is used by some server here:
  - `main` (SQLite, and PostgreSQL when TESSERA_TEST_POSTGRES_URL is set): `jwk_url` (a local JWKS server, one path
    per engine; the engine fetches on first use and, beyond Hasura, which only refreshes on Cache-Control/Expires,
    refetches when a token names an unknown kid, at most 3 times in 10 s: only two tests use unknown kids), `issuer`,
    `audience` as a list, `allowed_skew`. It carries the roles, every permission kind, and Hasura's error table.
  - SQLite-only servers, one per configuration Hasura cannot combine: `type`+`key` for HS256 (with
    `claims_namespace`, `audience` as a string and HASURA_GRAPHQL_UNAUTHORIZED_ROLE), RS256 with a PEM public key
    (`claims_namespace_path`), RS256 with an X.509 certificate (`claims_format: stringified_json`), ES256 (`header`
    Cookie), Ed25519 (`header` CustomHeader), and `claims_map` (literal, `{path}` and `{path, default}`).

Each server gets the same tables (run_sql with the admin secret) and permissions (replace_metadata, Hasura's v3
metadata). What is asserted is what Hasura v2 answers: results, and errors word for word with extensions.code and
extensions.path, always HTTP 200 on /v1/graphql (the `http_log` fixture checks every exchange). Where Tessera's
answer differs from Hasura's, the test is a strict xfail that says how.
"""
import base64
import contextlib
import datetime
import functools
import hashlib
import hmac as hmac_module
import json
import os
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

from conftest import TIMEOUT, postgres_database, remember_secret, start_tessera, stop_tessera

SECRET = "jwt-admin-" + uuid.uuid4().hex
remember_secret(SECRET)
ADMIN = {"x-hasura-admin-secret": SECRET}
ISSUER = "https://issuer.interop.test/"
AUDIENCE = "https://api.interop.test/"
NAMESPACE = "https://hasura.io/jwt/claims"
HS_NAMESPACE = "https://tessera.test/claims"
HS_AUDIENCE = "tessera-hs"
HS_KEY = "hs256-interop-" + secrets.token_hex(24)
OTHER_HS_KEY = "hs256-other-" + secrets.token_hex(24)
remember_secret(HS_KEY, OTHER_HS_KEY)
COOKIE = "hasura_jwt"
CUSTOM_HEADER = "X-Tessera-Token"

SCHEMA_SQL = """
CREATE TABLE notes (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, body TEXT);
CREATE TABLE items (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, price INTEGER NOT NULL,
                    status TEXT NOT NULL DEFAULT 'new');
"""

SEED_SQL = """
DELETE FROM notes;
DELETE FROM items;
INSERT INTO notes (id, owner, body) VALUES (1, 'alice', 'a1'), (2, 'bob', 'b1'), (3, 'alice', 'a2'), (4, 'carol', 'c1');
INSERT INTO items (id, owner, title, price, status) VALUES
  (1, 'alice', 'pen', 5, 'new'), (2, 'bob', 'ink', 7, 'new'), (3, 'alice', 'pad', 9, 'new'),
  (4, 'alice', 'box', 20, 'new'), (5, 'carol', 'cup', 3, 'new');
"""

ITEMS = [
    {"id": 1, "owner": "alice", "title": "pen", "price": 5, "status": "new"},
    {"id": 2, "owner": "bob", "title": "ink", "price": 7, "status": "new"},
    {"id": 3, "owner": "alice", "title": "pad", "price": 9, "status": "new"},
    {"id": 4, "owner": "alice", "title": "box", "price": 20, "status": "new"},
    {"id": 5, "owner": "carol", "title": "cup", "price": 3, "status": "new"},
]
ALICE_NOTES = {"notes": [{"id": 1, "body": "a1"}, {"id": 3, "body": "a2"}]}
NOTES = "{ notes(order_by: {id: asc}) { id body } }"
ITEMS_QUERY = "{ items(order_by: {id: asc}) { id owner title price status } }"

# The session variables are written in three cases on purpose: names are case-insensitive.
METADATA = {"version": 3, "sources": [{"name": "default", "kind": "postgres", "tables": [
    {"table": {"schema": "public", "name": "notes"},
     "select_permissions": [
         {"role": "user", "permission": {"columns": ["id", "body"], "filter": {"owner": {"_eq": "X-Hasura-User-Id"}}}}]},
    {"table": {"schema": "public", "name": "items"},
     "select_permissions": [
         {"role": "user", "permission": {"columns": ["id", "owner", "title", "price", "status"],
                                         "filter": {"owner": {"_eq": "x-hasura-user-id"}}, "allow_aggregations": True}},
         {"role": "editor", "permission": {"columns": "*", "filter": {}}},
         {"role": "viewer", "permission": {"columns": ["id", "title"], "filter": {}, "limit": 2,
                                           "query_root_fields": ["select"]}},
         {"role": "picker", "permission": {"columns": ["id", "title"], "filter": {"id": {"_in": "X-Hasura-Allowed-Ids"}}}},
         {"role": "anonymous", "permission": {"columns": ["id", "title"], "filter": {"price": {"_lt": 6}}}}],
     "insert_permissions": [
         {"role": "user", "permission": {"columns": ["id", "title", "price"], "check": {"price": {"_lte": 100}},
                                         "set": {"owner": "X-HASURA-USER-ID"}}}],
     "update_permissions": [
         {"role": "user", "permission": {"columns": ["title", "price"], "filter": {"owner": {"_eq": "X-Hasura-User-Id"}},
                                         "check": {"price": {"_lte": 100}}, "set": {"status": "edited"}}}],
     "delete_permissions": [
         {"role": "user", "permission": {"filter": {"owner": {"_eq": "X-Hasura-User-Id"}}}}]},
]}]}


# ---------------------------------------------------------------------------------------------------- keys, tokens

@dataclass
class Key:
    private: object
    algorithm: str
    kid: str = None

    def sign(self, claims: dict, kid: str = "") -> str:
        """A token of these claims; `kid` overrides the key's own (None: no kid)."""
        kid = self.kid if kid == "" else kid
        token = jwt.encode(claims, self.private, algorithm=self.algorithm, headers={"kid": kid} if kid else None)
        remember_secret(token)
        return token

    @property
    def public_pem(self) -> str:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    @property
    def jwk(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        public.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return public


@functools.lru_cache(maxsize=None)
def key(name: str, algorithm: str = "RS256") -> Key:
    """A key made once per name (RSA keys take a moment): RS256, ES256 (P-256) or EdDSA (Ed25519)."""
    if algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    return Key(private, algorithm, kid=name if algorithm == "RS256" else None)


def certificate_pem(private) -> str:
    """A self-signed X.509 certificate of the key, as an issuer publishes one."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.interop.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                   .sign(private, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def hasura_claims(user="alice", roles=("user",), default="user", **extra) -> dict:
    claims = {"x-hasura-default-role": default, "x-hasura-allowed-roles": list(roles)}
    if user is not None:
        claims["x-hasura-user-id"] = user
    claims.update(extra)
    return claims


def claims(user="alice", roles=("user",), default="user", namespace=NAMESPACE, **overrides) -> dict:
    """Registered claims plus Hasura's claims under `namespace` (None: nowhere); an override of None removes that claim."""
    result = {"sub": user or "nobody", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 300}
    if namespace is not None:
        result[namespace] = hasura_claims(user, roles, default)
    result.update(overrides)
    return {name: value for name, value in result.items() if value is not None}


def main_token(**kwargs) -> str:
    return key("main").sign(claims(**kwargs))


def forge_hs256(claims_set: dict, secret: bytes, kid: str) -> str:
    """An HS256 token keyed with the RSA public key: PyJWT refuses to make one, attackers do not."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    signing_input = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + b64(json.dumps(claims_set).encode())
    signature = hmac_module.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def unsigned(claims_set: dict) -> str:
    token = jwt.encode(claims_set, None, algorithm="none")
    remember_secret(token)
    return token


# ---------------------------------------------------------------------------------------------------- JWKS server

class JWKS(BaseHTTPRequestHandler):
    """A JWKS per path (one per engine, so that each engine's rotation is its own), with a fetch count per path."""
    keys: dict = {}
    fetches: dict = {}

    def do_GET(self):
        path = urlsplit(self.path).path
        JWKS.fetches[path] = JWKS.fetches.get(path, 0) + 1
        body = json.dumps({"keys": JWKS.keys.get(path, [])}).encode()
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
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# ---------------------------------------------------------------------------------------------------- engines

@dataclass
class Engine:
    kind: str  # "sqlite" or "postgres"
    base: str  # ends with "/"
    jwks_path: str = None  # the JWKS path of a jwk_url engine

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")

    def admin_post(self, path: str, body: dict) -> dict:
        response = requests.post(self.url(path), json=body, headers=ADMIN, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()

    def sql(self, sql: str) -> dict:
        return self.admin_post("v2/query", {"type": "run_sql", "args": {"source": "default", "sql": sql}})


def auth_headers(token=None, role=None, headers=None) -> dict:
    result = {}
    if token is not None:
        result["Authorization"] = f"Bearer {token}"
    if role is not None:
        result["x-hasura-role"] = role
    result.update(headers or {})
    return result


def client(engine: Engine, token=None, role=None, headers=None, cookies=None, fetch_schema=False) -> Client:
    transport = RequestsHTTPTransport(url=engine.url("v1/graphql"), headers=auth_headers(token, role, headers),
                                      cookies=cookies, timeout=TIMEOUT, retries=0)
    return Client(transport=transport, fetch_schema_from_transport=fetch_schema)


def run(engine: Engine, document: str, **kwargs) -> dict:
    """The data of a document through gql (no local schema: the server alone judges it)."""
    return client(engine, **kwargs).execute(gql(document))


def refused(engine: Engine, document: str, **kwargs) -> list:
    """The errors of a document the server refuses, through gql (it raises TransportQueryError with them)."""
    with pytest.raises(TransportQueryError) as raised:
        run(engine, document, **kwargs)
    assert raised.value.data is None, raised.value.data
    return raised.value.errors


def answer(engine: Engine, document: str, token=None, role=None, headers=None, cookies=None) -> dict:
    """The whole JSON answer of /v1/graphql through requests, which must be HTTP 200."""
    response = requests.post(engine.url("v1/graphql"), json={"query": document}, headers=auth_headers(token, role, headers),
                             cookies=cookies, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def error(message: str, code: str, path: str = "$") -> list:
    return [{"message": message, "extensions": {"path": path, "code": code}}]


def refusal(message: str, code: str, path: str = "$") -> dict:
    return {"errors": error(message, code, path)}


def admin_items(engine: Engine) -> list:
    return run(engine, ITEMS_QUERY, headers=ADMIN)["items"]


def serve(kind: str, config: dict, env_extra=None, jwks_path=None):
    """A Tessera server in JWT mode with `config`, the tables, the permissions and the seed rows (a fixture's body)."""
    env = dict(os.environ, HASURA_GRAPHQL_ADMIN_SECRET=SECRET, HASURA_GRAPHQL_JWT_SECRET=json.dumps(config))
    for name in ("HASURA_GRAPHQL_DATABASE_URL", "HASURA_GRAPHQL_UNAUTHORIZED_ROLE"):
        env.pop(name, None)
    env.update(env_extra or {})
    with contextlib.ExitStack() as stack:
        if kind == "postgres":
            env["HASURA_GRAPHQL_DATABASE_URL"] = stack.enter_context(postgres_database("jwt_interop_"))
        running = start_tessera(env=env, prefix=f"tessera-jwt-{kind}-")
        try:
            engine = Engine(kind, running.base, jwks_path)
            assert engine.sql(SCHEMA_SQL)["result_type"] == "CommandOk"
            assert engine.admin_post("v1/metadata", {"type": "replace_metadata", "args": METADATA}) == {"message": "success"}
            engine.sql(SEED_SQL)
            yield engine
        finally:
            stop_tessera(running)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def main(request, jwks_url):
    """jwk_url (RS256 keys "main" and "old" published from the start), issuer, audience list, allowed_skew."""
    path = f"/{request.param}/.well-known/jwks.json"
    JWKS.keys[path] = [key("main").jwk, key("old").jwk]
    config = {"jwk_url": jwks_url + path, "issuer": ISSUER, "audience": [AUDIENCE, "another"], "allowed_skew": 5}
    yield from serve(request.param, config, jwks_path=path)


@pytest.fixture
def seeded(main):
    """The main engine with the seed rows written again (the tests write)."""
    main.sql(SEED_SQL)
    return main


@pytest.fixture(scope="module")
def hs_engine():
    config = {"type": "HS256", "key": HS_KEY, "claims_namespace": HS_NAMESPACE, "audience": HS_AUDIENCE}
    yield from serve("sqlite", config, env_extra={"HASURA_GRAPHQL_UNAUTHORIZED_ROLE": "anonymous"})


@pytest.fixture(scope="module")
def rs_pem_engine():
    yield from serve("sqlite", {"type": "RS256", "key": key("pem").public_pem, "claims_namespace_path": "$.hasura.claims"})


@pytest.fixture(scope="module")
def x509_engine():
    config = {"type": "RS256", "key": certificate_pem(key("x509").private), "claims_format": "stringified_json"}
    yield from serve("sqlite", config)


@pytest.fixture(scope="module")
def es_engine():
    config = {"type": "ES256", "key": key("es", "ES256").public_pem, "header": {"type": "Cookie", "name": COOKIE}}
    yield from serve("sqlite", config)


@pytest.fixture(scope="module")
def ed_engine():
    config = {"type": "Ed25519", "key": key("ed", "EdDSA").public_pem,
              "header": {"type": "CustomHeader", "name": CUSTOM_HEADER}}
    yield from serve("sqlite", config)


@pytest.fixture(scope="module")
def map_engine():
    config = {"type": "RS256", "key": key("map").public_pem, "claims_map": {
        "x-hasura-allowed-roles": ["user", "editor"],
        "x-hasura-default-role": {"path": "$.tessera.role"},
        "x-hasura-user-id": {"path": "$.tessera.uid", "default": "carol"},
        "x-hasura-org-id": {"path": "$.tessera.org"},
    }}
    yield from serve("sqlite", config)


@pytest.fixture(autouse=True)
def http_log(monkeypatch):
    """Every HTTP exchange of the test (gql's and requests' own): no 5xx anywhere, HTTP 200 on /v1/graphql."""
    seen = []
    original = requests.Session.send

    def send(session, prepared, **kwargs):
        response = original(session, prepared, **kwargs)
        seen.append((prepared.method, prepared.url, response.status_code, response.text[:300]))
        return response

    monkeypatch.setattr(requests.Session, "send", send)
    yield seen
    failures = [entry for entry in seen if entry[2] >= 500]
    assert not failures, f"5xx answers: {failures}"
    not_ok = [entry for entry in seen if urlsplit(entry[1]).path == "/v1/graphql" and entry[2] != 200]
    assert not not_ok, f"/v1/graphql answered other than 200: {not_ok}"


# ---------------------------------------------------------------------------------------------------- jwk_url

def test_rotation_is_followed_and_foreign_keys_refused(main):
    path = main.jwks_path
    JWKS.keys[path] = [key("main").jwk, key("old").jwk]
    assert run(main, NOTES, token=key("old").sign(claims())) == ALICE_NOTES
    assert run(main, NOTES, token=key("old").sign(claims(user="bob"))) == {"notes": [{"id": 2, "body": "b1"}]}
    fetched = JWKS.fetches[path]

    # The issuer rotates: "new" comes, "old" goes. The first token with the new kid makes the engine refetch.
    JWKS.keys[path] = [key("main").jwk, key("new").jwk]
    assert run(main, NOTES, token=key("new").sign(claims())) == ALICE_NOTES
    assert JWKS.fetches[path] == fetched + 1
    assert answer(main, NOTES, token=key("old").sign(claims())) == refusal("Could not verify JWT: JWSError NoUsableKeys", "invalid-jwt")

    stranger = key("stranger")
    assert answer(main, NOTES, token=stranger.sign(claims())) == refusal("Could not verify JWT: JWSError NoUsableKeys", "invalid-jwt")
    # A token signed by a key the JWKS does not hold, under a kid it does: the signature fails.
    assert answer(main, NOTES, token=stranger.sign(claims(), kid="new")) == refusal(
        "Could not verify JWT: JWSError JWSInvalidSignature", "invalid-jwt")
    # HMAC with the public key as the secret (the algorithm-confusion attack), and alg none: refused.
    forged = forge_hs256(claims(user="bob"), key("new").public_pem.encode(), kid="new")
    remember_secret(forged)
    for token in [forged, unsigned(claims()), unsigned(claims(user="bob"))]:
        errors = answer(main, NOTES, token=token)["errors"]
        assert len(errors) == 1 and errors[0]["extensions"] == {"path": "$", "code": "invalid-jwt"}, errors
        assert errors[0]["message"].startswith("Could not verify JWT: JWSError "), errors
    assert run(main, NOTES, token=main_token()) == ALICE_NOTES


def test_claims_are_checked_in_hasuras_words(main):
    assert answer(main, NOTES, token=main_token(exp=int(time.time()) - 60)) == refusal("Could not verify JWT: JWTExpired", "invalid-jwt")
    # Within allowed_skew (5 s), a just-expired token still passes.
    assert run(main, NOTES, token=main_token(exp=int(time.time()) - 2)) == ALICE_NOTES
    assert answer(main, NOTES, token=main_token(aud="https://elsewhere/")) == refusal(
        "Could not verify JWT: JWTNotInAudience", "invalid-jwt")
    # audience is a list: any of its values, in a token's aud string or list, is enough.
    assert run(main, NOTES, token=main_token(aud="another")) == ALICE_NOTES
    assert run(main, NOTES, token=main_token(aud=["x", "another"])) == ALICE_NOTES
    assert answer(main, NOTES, token=main_token(aud=["x", "y"])) == refusal("Could not verify JWT: JWTNotInAudience", "invalid-jwt")
    assert answer(main, NOTES, token=main_token(iss="https://evil/")) == refusal("Could not verify JWT: JWTNotInIssuer", "invalid-jwt")
    assert answer(main, NOTES, token=main_token(**{NAMESPACE: None})) == refusal(
        "claims key: 'https://hasura.io/jwt/claims' not found", "jwt-invalid-claims")
    assert refused(main, "{ notes { owner } }", token=main_token()) == error(
        "field 'owner' not found in type: 'notes'", "validation-failed", "$.selectionSet.notes.selectionSet.owner")


def test_error_table_word_for_word(seeded):
    main = seeded
    # No token at all (and no HASURA_GRAPHQL_UNAUTHORIZED_ROLE on this server).
    assert answer(main, NOTES) == refusal("Missing 'Authorization' or 'Cookie' header in JWT authentication mode", "invalid-headers")
    good = main_token()
    for header in ["Token " + good, "Bearer", "Bearer ", "bearer " + good, f"Bearer {good} extra", "Basic YWxpY2U6cHc="]:
        assert answer(main, NOTES, headers={"Authorization": header}) == refusal("Malformed Authorization header", "invalid-headers"), header
    assert answer(main, NOTES, token=main_token(exp=int(time.time()) - 3600)) == refusal("Could not verify JWT: JWTExpired", "invalid-jwt")
    assert answer(main, NOTES, token=key("stranger").sign(claims(), kid="main")) == refusal(
        "Could not verify JWT: JWSError JWSInvalidSignature", "invalid-jwt")
    assert answer(main, NOTES, token=main_token(aud="https://elsewhere/")) == refusal("Could not verify JWT: JWTNotInAudience", "invalid-jwt")
    assert answer(main, NOTES, token=main_token(iss="https://another-issuer.test/")) == refusal(
        "Could not verify JWT: JWTNotInIssuer", "invalid-jwt")
    assert answer(main, NOTES, token=key("stranger").sign(claims(), kid="nobody-knows")) == refusal(
        "Could not verify JWT: JWSError NoUsableKeys", "invalid-jwt")
    assert answer(main, NOTES, token=main_token(**{NAMESPACE: None, "claims": hasura_claims()})) == refusal(
        "claims key: 'https://hasura.io/jwt/claims' not found", "jwt-invalid-claims")
    no_roles = hasura_claims()
    del no_roles["x-hasura-allowed-roles"]
    assert answer(main, NOTES, token=main_token(**{NAMESPACE: no_roles})) == refusal(
        "JWT claim does not contain x-hasura-allowed-roles", "jwt-missing-role-claims")
    assert answer(main, NOTES, token=main_token(), role="admin") == refusal("Your requested role is not in allowed roles", "access-denied")
    assert answer(main, NOTES, token=main_token(user=None)) == refusal('missing session variables: "x-hasura-user-id"', "not-found")
    insert = 'mutation { insert_items(objects: [{id: 90, title: "gold", price: 1000}]) { affected_rows } }'
    assert answer(main, insert, token=main_token()) == refusal("check constraint of an insert/update permission has failed",
                                                              "permission-error")
    assert admin_items(main) == ITEMS


def test_another_issuers_token_is_not_in_issuer(main):
    foreign = key("stranger").sign(claims(iss="https://another-issuer.test/"), kid=None)
    assert answer(main, NOTES, token=foreign) == refusal("Could not verify JWT: JWTNotInIssuer", "invalid-jwt")


# ---------------------------------------------------------------------------------------------------- roles

def test_requested_role_default_role_and_refused_roles(seeded):
    main = seeded
    token = main_token(roles=["user", "editor"])
    assert run(main, NOTES, token=token) == ALICE_NOTES
    assert run(main, "{ items(order_by: {id: asc}) { id owner } }", token=token) == {
        "items": [{"id": 1, "owner": "alice"}, {"id": 3, "owner": "alice"}, {"id": 4, "owner": "alice"}]}
    # x-hasura-role picks another of the allowed roles: editor reads every item, and has no notes.
    assert run(main, ITEMS_QUERY, token=token, role="editor") == {"items": ITEMS}
    assert refused(main, NOTES, token=token, role="editor") == error(
        "field 'notes' not found in type: 'query_root'", "validation-failed", "$.selectionSet.notes")
    # A role the token does not allow, asked for or as its default.
    assert answer(main, NOTES, token=token, role="viewer") == refusal("Your requested role is not in allowed roles", "access-denied")
    assert answer(main, NOTES, token=main_token(roles=["editor"], default="user")) == refusal(
        "Your requested role is not in allowed roles", "access-denied")
    # Role names are case-sensitive.
    assert answer(main, NOTES, token=token, role="Editor") == refusal("Your requested role is not in allowed roles", "access-denied")


def test_admin_secret_wins_over_the_jwt(seeded):
    main = seeded
    expired = main_token(exp=int(time.time()) - 3600)
    # With the admin secret, the token is not read at all, not even an expired one.
    assert run(main, "{ notes(order_by: {id: asc}) { id owner } }", token=expired, headers=ADMIN) == {"notes": [
        {"id": 1, "owner": "alice"}, {"id": 2, "owner": "bob"}, {"id": 3, "owner": "alice"}, {"id": 4, "owner": "carol"}]}
    # The admin secret may act as a role, with the session from x-hasura-* headers rather than the token's claims.
    assert run(main, NOTES, token=main_token(), role="user", headers={**ADMIN, "x-hasura-user-id": "bob"}) == {
        "notes": [{"id": 2, "body": "b1"}]}
    # A wrong admin secret is refused even with a good token.
    assert answer(main, NOTES, token=main_token(), headers={"x-hasura-admin-secret": SECRET + "-wrong"}) == refusal(
        "invalid x-hasura-admin-secret/x-hasura-access-key", "access-denied")


def test_session_variable_names_are_case_insensitive(seeded):
    main = seeded
    mixed = {"X-Hasura-Allowed-Roles": ["user", "editor"], "X-Hasura-Default-Role": "user", "X-HASURA-USER-ID": "bob"}
    token = main_token(user="bob", **{NAMESPACE: mixed})
    # The permissions name it X-Hasura-User-Id (notes), x-hasura-user-id (items) and X-HASURA-USER-ID (insert preset).
    assert run(main, NOTES, token=token) == {"notes": [{"id": 2, "body": "b1"}]}
    assert run(main, "{ items { id owner } }", token=token) == {"items": [{"id": 2, "owner": "bob"}]}
    assert run(main, 'mutation { insert_items_one(object: {id: 20, title: "nib", price: 2}) { id owner } }', token=token) == {
        "insert_items_one": {"id": 20, "owner": "bob"}}
    # The role header's name too.
    assert run(main, "{ items(order_by: {id: asc}) { id } }", token=token, headers={"X-HASURA-ROLE": "editor"}) == {
        "items": [{"id": i} for i in [1, 2, 3, 4, 5, 20]]}


# ---------------------------------------------------------------------------------------------------- permissions

def test_select_permission_columns_filter_aggregations(seeded):
    main = seeded
    alice = main_token()
    assert run(main, ITEMS_QUERY, token=alice) == {"items": [item for item in ITEMS if item["owner"] == "alice"]}
    # The request's where is added to the permission's filter, never instead of it.
    assert run(main, "{ items(where: {price: {_gt: 6}}, order_by: {id: asc}) { id } }", token=alice) == {"items": [{"id": 3}, {"id": 4}]}
    assert run(main, '{ items(where: {owner: {_eq: "bob"}}) { id } }', token=alice) == {"items": []}
    assert run(main, "{ a: items_by_pk(id: 4) { id title } b: items_by_pk(id: 2) { id title } }", token=alice) == {
        "a": {"id": 4, "title": "box"}, "b": None}
    # allow_aggregations: the role's aggregate sees its own rows only.
    assert run(main, "{ items_aggregate { aggregate { count max { price } } } }", token=alice) == {
        "items_aggregate": {"aggregate": {"count": 3, "max": {"price": 20}}}}
    # notes: no aggregations, and owner is not among the role's columns.
    assert refused(main, "{ notes_aggregate { aggregate { count } } }", token=alice) == error(
        "field 'notes_aggregate' not found in type: 'query_root'", "validation-failed", "$.selectionSet.notes_aggregate")
    assert refused(main, "{ notes { id owner } }", token=alice) == error(
        "field 'owner' not found in type: 'notes'", "validation-failed", "$.selectionSet.notes.selectionSet.owner")
    assert refused(main, '{ notes(where: {owner: {_eq: "bob"}}) { id } }', token=alice) == error(
        "field 'owner' not found in type: 'notes_bool_exp'", "validation-failed", "$.selectionSet.notes.args.where.owner")


def test_select_permission_limit_and_query_root_fields(seeded):
    main = seeded
    viewer = main_token(roles=["viewer"], default="viewer")
    assert run(main, "{ items(order_by: {id: asc}) { id title } }", token=viewer) == {
        "items": [{"id": 1, "title": "pen"}, {"id": 2, "title": "ink"}]}
    # The permission's limit caps the request's; a smaller request limit wins.
    assert run(main, "{ items(order_by: {id: desc}, limit: 10) { id } }", token=viewer) == {"items": [{"id": 5}, {"id": 4}]}
    assert run(main, "{ items(order_by: {id: asc}, limit: 1) { id } }", token=viewer) == {"items": [{"id": 1}]}
    # query_root_fields: ["select"] leaves out items_by_pk and items_aggregate.
    assert refused(main, "{ items_by_pk(id: 1) { id } }", token=viewer) == error(
        "field 'items_by_pk' not found in type: 'query_root'", "validation-failed", "$.selectionSet.items_by_pk")
    assert refused(main, "{ items_aggregate { aggregate { count } } }", token=viewer) == error(
        "field 'items_aggregate' not found in type: 'query_root'", "validation-failed", "$.selectionSet.items_aggregate")
    assert refused(main, "{ items { id price } }", token=viewer) == error(
        "field 'price' not found in type: 'items'", "validation-failed", "$.selectionSet.items.selectionSet.price")


def test_introspection_shows_the_roles_schema(main):
    with client(main, token=main_token(), fetch_schema=True) as session:
        schema = session.client.schema
    assert sorted(schema.query_type.fields) == ["items", "items_aggregate", "items_by_pk", "notes", "notes_by_pk"]
    assert sorted(schema.mutation_type.fields) == ["delete_items", "delete_items_by_pk", "insert_items", "insert_items_one",
                                                   "update_items", "update_items_by_pk", "update_items_many"]
    assert sorted(schema.type_map["notes"].fields) == ["body", "id"]
    assert sorted(schema.type_map["items_insert_input"].fields) == ["id", "price", "title"]
    assert sorted(schema.type_map["items_set_input"].fields) == ["price", "title"]
    with client(main, token=main_token(roles=["viewer"], default="viewer"), fetch_schema=True) as session:
        schema = session.client.schema
    assert sorted(schema.query_type.fields) == ["items"]
    assert schema.mutation_type is None
    assert sorted(schema.type_map["items"].fields) == ["id", "title"]


def test_insert_permission_check_presets_columns(seeded):
    main = seeded
    alice = main_token()
    result = run(main, """mutation { insert_items(objects: [{id: 10, title: "ruler", price: 4}]) {
        affected_rows returning { id owner title price status } } }""", token=alice)
    # owner is preset from the session (set: X-Hasura-User-Id), status takes its default.
    assert result == {"insert_items": {"affected_rows": 1,
                                       "returning": [{"id": 10, "owner": "alice", "title": "ruler", "price": 4, "status": "new"}]}}
    assert run(main, 'mutation { insert_items_one(object: {id: 11, title: "clip", price: 100}) { id owner price } }',
               token=main_token(user="bob")) == {"insert_items_one": {"id": 11, "owner": "bob", "price": 100}}
    # The check (price <= 100) fails: nothing is written, not even the objects that pass.
    assert refused(main, """mutation { insert_items(objects: [{id: 12, title: "ok", price: 1}, {id: 13, title: "gold", price: 101}]) {
        affected_rows } }""", token=alice) == error("check constraint of an insert/update permission has failed", "permission-error")
    assert refused(main, 'mutation { insert_items_one(object: {id: 14, title: "gold", price: 500}) { id } }', token=alice) == error(
        "check constraint of an insert/update permission has failed", "permission-error")
    # Neither a column outside the permission's columns nor a preset one can be given.
    assert refused(main, 'mutation { insert_items(objects: [{id: 15, title: "x", price: 1, status: "sold"}]) { affected_rows } }',
                   token=alice) == error("field 'status' not found in type: 'items_insert_input'", "validation-failed",
                                         "$.selectionSet.insert_items.args.objects[0].status")
    assert refused(main, 'mutation { insert_items_one(object: {id: 16, title: "x", price: 1, owner: "bob"}) { id } }',
                   token=alice) == error("field 'owner' not found in type: 'items_insert_input'", "validation-failed",
                                         "$.selectionSet.insert_items_one.args.object.owner")
    assert admin_items(main) == ITEMS + [{"id": 10, "owner": "alice", "title": "ruler", "price": 4, "status": "new"},
                                         {"id": 11, "owner": "bob", "title": "clip", "price": 100, "status": "new"}]


def test_update_permission_columns_filter_check_presets(seeded):
    main = seeded
    alice = main_token()
    result = run(main, 'mutation { update_items(where: {}, _set: {title: "mine"}) { affected_rows returning { id title status } } }',
                 token=alice)
    assert result["update_items"]["affected_rows"] == 3
    # Only the role's rows (filter), with the preset status (set: {status: edited}).
    assert sorted(result["update_items"]["returning"], key=lambda row: row["id"]) == [
        {"id": 1, "title": "mine", "status": "edited"}, {"id": 3, "title": "mine", "status": "edited"},
        {"id": 4, "title": "mine", "status": "edited"}]
    assert run(main, 'mutation { update_items_by_pk(pk_columns: {id: 2}, _set: {title: "stolen"}) { id } }', token=alice) == {
        "update_items_by_pk": None}
    assert run(main, "mutation { update_items(where: {id: {_eq: 5}}, _set: {price: 1}) { affected_rows } }", token=alice) == {
        "update_items": {"affected_rows": 0}}
    assert run(main, "mutation { update_items_by_pk(pk_columns: {id: 4}, _inc: {price: 80}) { id price } }", token=alice) == {
        "update_items_by_pk": {"id": 4, "price": 100}}
    # The check (price <= 100) on the updated rows fails: nothing is written.
    assert refused(main, "mutation { update_items_by_pk(pk_columns: {id: 1}, _set: {price: 500}) { id } }", token=alice) == error(
        "check constraint of an insert/update permission has failed", "permission-error")
    assert refused(main, "mutation { update_items(where: {}, _inc: {price: 1}) { affected_rows } }", token=alice) == error(
        "check constraint of an insert/update permission has failed", "permission-error")
    # Columns outside the permission's columns (owner) or preset (status) are not in items_set_input.
    assert refused(main, 'mutation { update_items(where: {}, _set: {owner: "bob"}) { affected_rows } }', token=alice) == error(
        "field 'owner' not found in type: 'items_set_input'", "validation-failed", "$.selectionSet.update_items.args._set.owner")
    assert refused(main, 'mutation { update_items(where: {}, _set: {status: "sold"}) { affected_rows } }', token=alice) == error(
        "field 'status' not found in type: 'items_set_input'", "validation-failed", "$.selectionSet.update_items.args._set.status")
    assert admin_items(main) == [
        {"id": 1, "owner": "alice", "title": "mine", "price": 5, "status": "edited"},
        {"id": 2, "owner": "bob", "title": "ink", "price": 7, "status": "new"},
        {"id": 3, "owner": "alice", "title": "mine", "price": 9, "status": "edited"},
        {"id": 4, "owner": "alice", "title": "mine", "price": 100, "status": "edited"},
        {"id": 5, "owner": "carol", "title": "cup", "price": 3, "status": "new"},
    ]


def test_delete_permission_filter(seeded):
    main = seeded
    alice = main_token()
    assert run(main, "mutation { delete_items_by_pk(id: 2) { id } }", token=alice) == {"delete_items_by_pk": None}
    assert run(main, 'mutation { delete_items(where: {owner: {_eq: "carol"}}) { affected_rows } }', token=alice) == {
        "delete_items": {"affected_rows": 0}}
    result = run(main, "mutation { delete_items(where: {price: {_lt: 10}}) { affected_rows returning { id } } }", token=alice)
    assert result["delete_items"]["affected_rows"] == 2
    assert sorted(row["id"] for row in result["delete_items"]["returning"]) == [1, 3]
    assert run(main, "mutation { delete_items_by_pk(id: 4) { id title } }", token=alice) == {"delete_items_by_pk": {"id": 4, "title": "box"}}
    assert [item["id"] for item in admin_items(main)] == [2, 5]


# ---------------------------------------------------------------------------------------------------- session arrays

def test_session_array_literal_with_in(seeded):
    """Hasura's own form: a PostgreSQL array literal in a string claim."""
    token = main_token(**{NAMESPACE: hasura_claims(roles=["picker"], default="picker", **{"x-hasura-allowed-ids": "{2,4}"})})
    assert run(seeded, "{ items(order_by: {id: asc}) { id title } }", token=token) == {
        "items": [{"id": 2, "title": "ink"}, {"id": 4, "title": "box"}]}


def test_session_array_claim_with_in(seeded):
    """Beyond Hasura (which refuses a claim that is not a string): a JSON array claim, used with _in as it is."""
    token = main_token(**{NAMESPACE: hasura_claims(roles=["picker"], default="picker", **{"x-hasura-allowed-ids": [1, 3]})})
    assert run(seeded, "{ items(order_by: {id: asc}) { id title } }", token=token) == {
        "items": [{"id": 1, "title": "pen"}, {"id": 3, "title": "pad"}]}
    empty = main_token(**{NAMESPACE: hasura_claims(roles=["picker"], default="picker", **{"x-hasura-allowed-ids": []})})
    assert run(seeded, "{ items { id } }", token=empty) == {"items": []}


# ---------------------------------------------------------------------------------------------------- type + key

def test_hs256_key_claims_namespace_and_audience_string(hs_engine):
    def hs(secret=HS_KEY, **overrides):
        token = jwt.encode(claims(namespace=HS_NAMESPACE, **{"aud": HS_AUDIENCE, **overrides}), secret, algorithm="HS256")
        remember_secret(token)
        return token
    assert run(hs_engine, NOTES, token=hs()) == ALICE_NOTES
    assert run(hs_engine, NOTES, token=hs(aud=["x", HS_AUDIENCE])) == ALICE_NOTES
    # No issuer configured: any iss passes.
    assert run(hs_engine, NOTES, token=hs(iss="https://whoever.test/")) == ALICE_NOTES
    assert answer(hs_engine, NOTES, token=hs(aud=AUDIENCE)) == refusal("Could not verify JWT: JWTNotInAudience", "invalid-jwt")
    assert answer(hs_engine, NOTES, token=hs(secret=OTHER_HS_KEY)) == refusal(
        "Could not verify JWT: JWSError JWSInvalidSignature", "invalid-jwt")
    # The claims under Hasura's default namespace are not read when claims_namespace names another.
    default_namespace = jwt.encode(claims(aud=HS_AUDIENCE), HS_KEY, algorithm="HS256")
    remember_secret(default_namespace)
    assert answer(hs_engine, NOTES, token=default_namespace) == refusal(
        "claims key: 'https://tessera.test/claims' not found", "jwt-invalid-claims")


def test_unauthorized_role_without_a_token(hs_engine):
    assert run(hs_engine, "{ items(order_by: {id: asc}) { id title } }") == {"items": [{"id": 1, "title": "pen"}, {"id": 5, "title": "cup"}]}
    assert refused(hs_engine, NOTES) == error("field 'notes' not found in type: 'query_root'", "validation-failed", "$.selectionSet.notes")
    # A token that is there but bad is refused, never downgraded to the unauthorized role.
    expired = jwt.encode(claims(namespace=HS_NAMESPACE, aud=HS_AUDIENCE, exp=int(time.time()) - 3600), HS_KEY, algorithm="HS256")
    remember_secret(expired)
    assert answer(hs_engine, NOTES, token=expired) == refusal("Could not verify JWT: JWTExpired", "invalid-jwt")
    assert answer(hs_engine, NOTES, headers={"Authorization": "Basic YWxpY2U6cHc="}) == refusal("Malformed Authorization header", "invalid-headers")


def test_rs256_pem_key_and_claims_namespace_path(rs_pem_engine):
    pem = key("pem")
    nested = claims(namespace=None, hasura={"claims": hasura_claims(user="bob")})
    assert run(rs_pem_engine, NOTES, token=pem.sign(nested)) == {"notes": [{"id": 2, "body": "b1"}]}
    assert answer(rs_pem_engine, NOTES, token=pem.sign(claims())) == refusal(
        "claims not found at claims_namespace_path: '$.hasura.claims'", "jwt-invalid-claims")
    assert answer(rs_pem_engine, NOTES, token=key("stranger").sign(nested, kid=None)) == refusal(
        "Could not verify JWT: JWSError JWSInvalidSignature", "invalid-jwt")


def test_rs256_x509_certificate_and_stringified_claims(x509_engine):
    cert_key = key("x509")
    stringified = claims(**{NAMESPACE: json.dumps(hasura_claims())})
    assert run(x509_engine, NOTES, token=cert_key.sign(stringified)) == ALICE_NOTES
    assert answer(x509_engine, NOTES, token=cert_key.sign(claims())) == refusal(
        "expecting a string when claims_format is stringified_json", "jwt-invalid-claims")
    assert answer(x509_engine, NOTES, token=cert_key.sign(claims(**{NAMESPACE: "not json"}))) == refusal(
        "expecting stringified json at: 'claims_namespace https://hasura.io/jwt/claims', but found: not json", "jwt-invalid-claims")
    assert answer(x509_engine, NOTES, token=key("stranger").sign(stringified, kid=None)) == refusal(
        "Could not verify JWT: JWSError JWSInvalidSignature", "invalid-jwt")


def test_es256_key_in_a_cookie(es_engine):
    es = key("es", "ES256")
    token = es.sign(claims(user="bob"))
    assert run(es_engine, NOTES, cookies={COOKIE: token}) == {"notes": [{"id": 2, "body": "b1"}]}
    assert run(es_engine, NOTES, headers={"Cookie": f"theme=dark; {COOKIE}={token}; lang=en"}) == {"notes": [{"id": 2, "body": "b1"}]}
    # The token is read from the cookie only.
    assert answer(es_engine, NOTES, token=token) == refusal(
        "Missing 'Authorization' or 'Cookie' header in JWT authentication mode", "invalid-headers")
    assert answer(es_engine, NOTES, cookies={"other": token}) == refusal(
        "Missing 'Authorization' or 'Cookie' header in JWT authentication mode", "invalid-headers")
    wrong = key("es-other", "ES256").sign(claims(user="bob"))
    assert answer(es_engine, NOTES, cookies={COOKIE: wrong}) == refusal("Could not verify JWT: JWSError JWSInvalidSignature", "invalid-jwt")
    assert answer(es_engine, NOTES, cookies={COOKIE: es.sign(claims(exp=int(time.time()) - 3600))}) == refusal(
        "Could not verify JWT: JWTExpired", "invalid-jwt")


def test_ed25519_key_in_a_custom_header(ed_engine):
    ed = key("ed", "EdDSA")
    token = ed.sign(claims())
    assert run(ed_engine, NOTES, headers={CUSTOM_HEADER: token}) == ALICE_NOTES
    assert run(ed_engine, NOTES, headers={CUSTOM_HEADER.lower(): token}) == ALICE_NOTES
    assert answer(ed_engine, NOTES, token=token) == refusal(
        "Missing 'Authorization' or 'Cookie' header in JWT authentication mode", "invalid-headers")
    wrong = key("ed-other", "EdDSA").sign(claims())
    assert answer(ed_engine, NOTES, headers={CUSTOM_HEADER: wrong}) == refusal(
        "Could not verify JWT: JWSError JWSInvalidSignature", "invalid-jwt")


def map_claims(**tessera) -> dict:
    return claims(namespace=None, tessera=tessera)


def test_claims_map_literal_path_and_default(map_engine):
    signer = key("map")
    assert run(map_engine, NOTES, token=signer.sign(map_claims(role="user", uid="bob", org="o1"))) == {"notes": [{"id": 2, "body": "b1"}]}
    # x-hasura-user-id: {path, default}: the default when the path is absent.
    assert run(map_engine, NOTES, token=signer.sign(map_claims(role="user", org="o1"))) == {"notes": [{"id": 4, "body": "c1"}]}
    # x-hasura-default-role from its path; x-hasura-allowed-roles is the literal list.
    assert run(map_engine, "{ items(order_by: {id: asc}) { id } }", token=signer.sign(map_claims(role="editor", org="o1"))) == {
        "items": [{"id": i} for i in [1, 2, 3, 4, 5]]}
    assert answer(map_engine, NOTES, token=signer.sign(map_claims(role="user", uid="bob", org="o1")), role="viewer") == refusal(
        "Your requested role is not in allowed roles", "access-denied")
    # With claims_map, Hasura's namespace is not read.
    both = map_claims(role="user", uid="bob", org="o1")
    both[NAMESPACE] = hasura_claims(user="alice", roles=["viewer"], default="viewer")
    assert run(map_engine, NOTES, token=signer.sign(both)) == {"notes": [{"id": 2, "body": "b1"}]}
    assert answer(map_engine, NOTES, token=signer.sign(map_claims(role="user", uid="bob"))) == refusal(
        "JWT claim from claims_map, x-hasura-org-id not found", "jwt-invalid-claims")


def test_claims_map_missing_default_role_path(map_engine):
    assert answer(map_engine, NOTES, token=key("map").sign(map_claims(uid="bob", org="o1"))) == refusal(
        "JWT claim does not contain x-hasura-default-role", "jwt-missing-role-claims")
