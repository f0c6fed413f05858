"""Hasura's JWT test cases, ported to Tessera: hasura/graphql-engine server/tests-py/test_jwt.py and
server/tests-py/test_jwt_claims_map.py, run on SQLite always and on PostgreSQL when TESSERA_TEST_POSTGRES_URL is set.

Where the cases come from
  - test_jwt.py (the version with `format_claims`/`set_claims` and the `jwt_configuration` fixture): the classes
    AbstractTestJwtBasic (9 cases), AbstractTestJwtExpirySkew, AbstractTestJwtAudienceCheck and
    AbstractTestJwtIssuerCheck, each with the JWT configurations Hasura's subclasses give them: an RS512 PEM `key`,
    an Ed25519 `key`, `header` Cookie and CustomHeader, `claims_format: stringified_json`, `claims_namespace_path`
    `$`, `$.hasura_claims`, `$.hasura.claims` and `$.hasura['claims%']`, `allowed_skew: 60`, `audience`
    "myapp-1234" and ["myapp-1234", "myapp-9876"], `issuer` "https://hasura.com".
  - test_jwt_claims_map.py: AbstractTestJWTClaimsMapBasic (6 cases) with Hasura's `basic_claims_map` and
    `basic_claims_map_with_default_values`, and AbstractTestJWTClaimsMapWithStaticHasuraClaimsMapValues (3 cases)
    with its `static_claims_map`.
  - Hasura's CI script (.circleci/test-server.sh, jobs jwt-audience-check-*, jwt-issuer-check) ran the whole of
    test_jwt.py under the audience and issuer configurations too, so the basic cases run there as well (tokens
    without `aud` / `iss`, which Hasura accepts), except test_jwt_no_audience_in_conf / test_jwt_no_issuer_in_conf,
    which Hasura skips when the configuration has an audience / issuer.

Every case sends the query of Hasura's queries/graphql_query/permissions/user_select_query_unpublished_articles.yaml
(role `user` asks for the unpublished articles with their author) with the headers of that folder's `user` cases
(X-Hasura-Role: user, X-Hasura-User-Id: 1) plus the token, and asserts Hasura's whole answer: the data of Article 1
(the answer test_jwt_expiry_leeway spells out), or one error with Hasura's message, extensions.code and
extensions.path "$", always with HTTP 200, the status Hasura's cases give /v1/graphql.

Adapted
  - Only /v1/graphql: Hasura runs each case on /v1alpha1/graphql too, which Tessera does not serve.
  - The tables are the two the query reads (author, article) from the folder's setup.yaml, with its rows, its
    object/array relationships and its `user` select permissions, in SQL both databases take (INTEGER PRIMARY KEY
    with explicit ids instead of SERIAL), installed with run_sql and replace_metadata.
  - The case file itself could not be read (it is not in the stored copy of Hasura's repository this port was
    written from): its query, headers and answer are written here from test_jwt_expiry_leeway, which spells the
    answer out, and from the sibling case files of the folder.
  - Keys are made here with `cryptography` (Hasura makes them with openssl); tokens are signed with PyJWT.
  - Three configurations beyond Hasura's subclasses, carrying the same nine basic cases: RS256 with a PEM key,
    HS256 with a shared `key` (Hasura's invalid-signature case signs with HS384 then, as it provides for), and
    `claims_namespace` (the claims under a custom namespace instead of Hasura's default one).
  - Not ported: AbstractTestSubscriptionJwtExpiry (a websocket subscription that must be closed when the token
    expires: Tessera has no websocket transport), and the ES configurations of the newest test_jwt.py (the stored
    copy of Hasura's fixtures/jwt.py does not say which curve they use).

Each configuration gets its own server (and, on PostgreSQL, its own database), started once; the next few are
started in the background while the cases of the current one run (see Engines).

Where Tessera's answer differs from Hasura's, the case is a strict xfail (GAPS) that says what each answers.
"""
import json
import math
import os
import secrets
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from conftest import TIMEOUT, remember_secret, start_tessera, stop_tessera

ADMIN_SECRET = "hasura-jwt-admin-" + uuid.uuid4().hex
remember_secret(ADMIN_SECRET)
POSTGRES_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL")
DEFAULT_NAMESPACE = "https://hasura.io/jwt/claims"
CUSTOM_NAMESPACE = "https://tessera.test/hasura/claims"
MYAPP = "https://myapp.com/jwt/claims"

# ---------------------------------------------------------------------------------------------------- the data

SCHEMA_SQL = """
CREATE TABLE author (
  id INTEGER PRIMARY KEY,
  name TEXT UNIQUE,
  is_registered BOOLEAN NOT NULL DEFAULT FALSE,
  remarks_internal TEXT
);
INSERT INTO author (id, name, remarks_internal) VALUES
  (1, 'Author 1', 'remark 1'), (2, 'Author 2', 'remark 2'), (3, 'Author 3', 'remark 3');
CREATE TABLE article (
  id INTEGER PRIMARY KEY,
  title TEXT,
  content TEXT,
  author_id INTEGER NOT NULL REFERENCES author(id),
  is_published BOOLEAN NOT NULL DEFAULT FALSE,
  published_on TIMESTAMP
);
INSERT INTO article (id, title, content, author_id, is_published) VALUES
  (1, 'Article 1', 'Sample article content 1', 1, FALSE),
  (2, 'Article 2', 'Sample article content 2', 1, TRUE),
  (3, 'Article 3', 'Sample article content 3', 2, TRUE),
  (4, 'Article 4', 'Sample article content 4', 3, FALSE);
"""

# The two tables of setup.yaml that the query reads: relationships and `user` select permissions as Hasura's.
METADATA = {"version": 3, "sources": [{"name": "default", "kind": "postgres", "tables": [
    {"table": {"schema": "public", "name": "author"},
     "array_relationships": [{"name": "articles", "using": {"foreign_key_constraint_on": {
         "table": {"schema": "public", "name": "article"}, "column": "author_id"}}}],
     "select_permissions": [{"role": "user", "permission": {
         "columns": ["id", "name", "is_registered"],
         "filter": {"_or": [{"id": "X-HASURA-USER-ID"}, {"articles": {"is_published": {"_eq": True}}}]},
         "limit": 10}}]},
    {"table": {"schema": "public", "name": "article"},
     "object_relationships": [{"name": "author", "using": {"foreign_key_constraint_on": "author_id"}}],
     "select_permissions": [{"role": "user", "permission": {
         "columns": ["id", "title", "content", "is_published"],
         "filter": {"$or": [{"author_id": "X-HASURA-USER-ID"}, {"is_published": True}]}}}]},
]}]}

# user_select_query_unpublished_articles.yaml: its query, its headers, its answer.
QUERY = """query {
  article (
    where: {is_published: {_eq: false}}
  ) {
    id
    title
    content
    is_published
    author {
      id
      name
    }
  }
}"""
CASE_HEADERS = {"X-Hasura-Role": "user", "X-Hasura-User-Id": "1"}
SUCCESS = {"data": {"article": [{
    "id": 1, "title": "Article 1", "content": "Sample article content 1", "is_published": False,
    "author": {"id": 1, "name": "Author 1"}}]}}


INVALID_ALLOWED_ROLES = ("invalid x-hasura-allowed-roles; should be a list of roles: parsing [] failed, expected Array, "
                         "but encountered String")


def refusal(code: str, message: str) -> dict:
    return {"errors": [{"extensions": {"code": code, "path": "$"}, "message": message}]}


# ---------------------------------------------------------------------------------------------------- keys

@dataclass(frozen=True)
class Signer:
    jwt_type: str  # the configuration's "type"
    algorithm: str  # PyJWT's name for it
    private: object  # what PyJWT signs with
    public: str  # the configuration's "key"


SIGNERS: dict = {}
SIGNERS_LOCK = threading.Lock()  # servers start in background threads, and each kind must get one key only


def signer(kind: str) -> Signer:
    """One key per kind, made once: "rs512" and "rs256" (RSA 2048, PEM public key), "ed25519", "hs256"."""
    with SIGNERS_LOCK:
        if kind not in SIGNERS:
            SIGNERS[kind] = make_signer(kind)
        return SIGNERS[kind]


def make_signer(kind: str) -> Signer:
    if kind in ("rs512", "rs256"):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif kind == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        shared = "hs256-" + secrets.token_hex(32)
        remember_secret(shared)
        return Signer("HS256", "HS256", shared, shared)
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    algorithm = {"rs512": "RS512", "rs256": "RS256", "ed25519": "EdDSA"}[kind]
    return Signer({"ed25519": "Ed25519"}.get(kind, algorithm), algorithm, private, public)


# ---------------------------------------------------------------------------------------------------- configurations

BASIC_CLAIMS_MAP = {
    "x-hasura-user-id": {"path": f"$.['{MYAPP}'].user.id"},
    "x-hasura-allowed-roles": {"path": f"$.['{MYAPP}'].role.allowed"},
    "x-hasura-default-role": {"path": f"$.['{MYAPP}'].role.default"},
}
BASIC_CLAIMS_MAP_WITH_DEFAULTS = {
    "x-hasura-user-id": {"path": f"$.['{MYAPP}'].user.id", "default": "1"},
    "x-hasura-allowed-roles": {"path": f"$.['{MYAPP}'].role.allowed", "default": ["user", "editor"]},
    "x-hasura-default-role": {"path": f"$.['{MYAPP}'].role.default", "default": "user"},
}
STATIC_CLAIMS_MAP = {
    "x-hasura-user-id": {"path": f"$.['{MYAPP}'].user.id"},
    "x-hasura-allowed-roles": ["user", "editor"],
    "x-hasura-default-role": "user",
    "x-hasura-custom-header": "custom-value",
}


@dataclass
class Setup:
    key: str  # a signer kind
    extra: dict = field(default_factory=dict)  # the configuration beside "type" and "key"
    suites: tuple = ("basic",)

    @property
    def signer(self) -> Signer:
        return signer(self.key)

    @property
    def configuration(self) -> dict:
        return {"type": self.signer.jwt_type, "key": self.signer.public, **self.extra}


SETUPS = {
    # Hasura's subclasses of AbstractTestJwtBasic (RSA is RS512 in Hasura's fixture).
    "rs512": Setup("rs512"),
    "ed25519": Setup("ed25519"),
    "rs512-cookie": Setup("rs512", {"header": {"type": "Cookie", "name": "hasura_user"}}),
    "ed25519-cookie": Setup("ed25519", {"header": {"type": "Cookie", "name": "hasura_user"}}),
    "rs512-custom-header": Setup("rs512", {"header": {"type": "CustomHeader", "name": "hasura_user"}}),
    "rs512-stringified": Setup("rs512", {"claims_format": "stringified_json"}),
    "ed25519-stringified": Setup("ed25519", {"claims_format": "stringified_json"}),
    "rs512-ns-path-root": Setup("rs512", {"claims_namespace_path": "$"}),
    "rs512-ns-path-one-level": Setup("rs512", {"claims_namespace_path": "$.hasura_claims"}),
    "rs512-ns-path-two-levels": Setup("rs512", {"claims_namespace_path": "$.hasura.claims"}),
    "rs512-ns-path-special-characters": Setup("rs512", {"claims_namespace_path": "$.hasura['claims%']"}),
    # Beyond Hasura's subclasses (see the docstring).
    "rs256": Setup("rs256"),
    "hs256": Setup("hs256"),
    "rs512-claims-namespace": Setup("rs512", {"claims_namespace": CUSTOM_NAMESPACE}),
    # AbstractTestJwtExpirySkew, AbstractTestJwtAudienceCheck, AbstractTestJwtIssuerCheck.
    "rs512-allowed-skew": Setup("rs512", {"allowed_skew": 60}, suites=("skew",)),
    "rs512-audience": Setup("rs512", {"audience": "myapp-1234"}, suites=("basic", "audience")),
    "rs512-audience-list": Setup("rs512", {"audience": ["myapp-1234", "myapp-9876"]}, suites=("basic", "audience")),
    "rs512-issuer": Setup("rs512", {"issuer": "https://hasura.com"}, suites=("basic", "issuer")),
    # test_jwt_claims_map.py.
    "rs512-claims-map": Setup("rs512", {"claims_map": BASIC_CLAIMS_MAP}, suites=("claims_map",)),
    "rs512-claims-map-defaults": Setup("rs512", {"claims_map": BASIC_CLAIMS_MAP_WITH_DEFAULTS}, suites=("claims_map",)),
    "rs512-claims-map-static": Setup("rs512", {"claims_map": STATIC_CLAIMS_MAP}, suites=("static_claims_map",)),
}

# Where a claims_namespace_path puts Hasura's claims (Hasura's set_claims knows the same four paths).
NAMESPACE_PATHS = {"$": (), "$.hasura_claims": ("hasura_claims",), "$.hasura.claims": ("hasura", "claims"),
                   "$.hasura['claims%']": ("hasura", "claims%")}


# ---------------------------------------------------------------------------------------------------- engines

@dataclass
class Engine:
    database: str
    setup_name: str
    base: str

    @property
    def setup(self) -> Setup:
        return SETUPS[self.setup_name]

    @property
    def configuration(self) -> dict:
        return self.setup.configuration

    def admin(self, path: str, body: dict) -> dict:
        response = requests.post(self.base + path, json=body, headers={"x-hasura-admin-secret": ADMIN_SECRET},
                                 timeout=TIMEOUT)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return response.json()

    # -- tokens, as Hasura's tests make them

    def registered_claims(self, hours: int) -> dict:
        now = datetime.now()
        return {"sub": "1234567890", "name": "John Doe", "iat": math.floor(now.timestamp()),
                "exp": math.floor((now + timedelta(hours=hours)).timestamp())}

    def with_hasura_claims(self, hasura: dict, hours: int = 10, default_place: bool = False) -> dict:
        """Hasura's format_claims + set_claims: the claims (a JSON string under stringified_json) where the
        configuration looks for them. `default_place`: under Hasura's default namespace whatever the configuration
        says, as the audience, issuer and skew cases do (they call set_claims without the namespace path)."""
        conf = self.configuration
        claims = self.registered_claims(hours)
        value = json.dumps(hasura) if conf.get("claims_format") == "stringified_json" else hasura
        path = None if default_place else conf.get("claims_namespace_path")
        if path is None:
            namespace = DEFAULT_NAMESPACE if default_place else conf.get("claims_namespace", DEFAULT_NAMESPACE)
            claims[namespace] = value
        elif path == "$":
            claims.update(value)
        else:
            *parents, last = NAMESPACE_PATHS[path]
            holder = claims
            for name in parents:
                holder = holder.setdefault(name, {})
            holder[last] = value
        return claims

    def sign(self, claims: dict, private=None, algorithm=None) -> str:
        token = jwt.encode(claims, self.setup.signer.private if private is None else private,
                           algorithm=algorithm or self.setup.signer.algorithm)
        remember_secret(token)
        return token

    def token_headers(self, token: str, authorization_only: bool = False) -> dict:
        """Hasura's mk_authz_header: where the configuration's `header` says the token is."""
        header = {} if authorization_only else self.configuration.get("header", {})
        if header.get("type") == "Cookie":
            return {"Cookie": f"{header['name']}={token}"}
        if header.get("type") == "CustomHeader":
            return {header["name"]: token}
        return {"Authorization": "Bearer " + token}

    def ask(self, token: str, extra_headers=None, authorization_only: bool = False) -> dict:
        headers = {**CASE_HEADERS, **self.token_headers(token, authorization_only), **(extra_headers or {})}
        response = requests.post(self.base + "v1/graphql", json={"query": QUERY}, headers=headers, timeout=TIMEOUT)
        assert response.status_code == 200, f"HTTP {response.status_code}: {response.text}"
        return response.json()


def _psql(url: str, statement: str) -> None:
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", statement], check=True, capture_output=True,
                   stdin=subprocess.DEVNULL, timeout=60)


def start_engine(database: str, setup_name: str) -> tuple:
    """A Tessera server in JWT mode with one configuration, on a database of its own, with the tables and
    permissions: (Engine, RunningTessera, PostgreSQL database name or None)."""
    env = dict(os.environ, HASURA_GRAPHQL_ADMIN_SECRET=ADMIN_SECRET,
               HASURA_GRAPHQL_JWT_SECRET=json.dumps(SETUPS[setup_name].configuration))
    for name in ("HASURA_GRAPHQL_DATABASE_URL", "HASURA_GRAPHQL_UNAUTHORIZED_ROLE", "HASURA_GRAPHQL_JWT_SECRETS"):
        env.pop(name, None)
    db_name = running = None
    try:
        if database == "postgres":
            parts = urlsplit(POSTGRES_URL)
            remember_secret(parts.password)
            db_name = "hasura_jwt_" + uuid.uuid4().hex[:12]
            _psql(POSTGRES_URL, f'CREATE DATABASE "{db_name}"')
            env["HASURA_GRAPHQL_DATABASE_URL"] = urlunsplit(parts._replace(path="/" + db_name))
        running = start_tessera(env=env, prefix=f"tessera-hasura-jwt-{database}-")
        engine = Engine(database, setup_name, running.base)
        assert engine.admin("v2/query", {"type": "run_sql", "args": {"source": "default", "sql": SCHEMA_SQL}})[
            "result_type"] == "CommandOk"
        assert engine.admin("v1/metadata", {"type": "replace_metadata", "args": METADATA}) == {"message": "success"}
        return engine, running, db_name
    except BaseException:
        stop_engine(running, db_name)
        raise


def stop_engine(running, db_name) -> None:
    try:
        if running:
            stop_tessera(running)
    finally:
        if db_name:
            try:
                _psql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            except subprocess.CalledProcessError:  # PostgreSQL before 13 has no FORCE; the server has stopped
                _psql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{db_name}"')


PREFETCH = 3  # servers started ahead of need


class Engines:
    """One server per (database, configuration), started once: the cases come grouped by server, so a server stops
    when the next case needs another, and the next PREFETCH servers are started in the background meanwhile (a
    server takes a second or two to start, which would otherwise be most of this module's time). A server that
    cannot start fails each of its cases with the same message, without being tried again."""

    def __init__(self, order: list):
        self.order = order  # the servers the selected cases need, in the order they need them
        self.pool = ThreadPoolExecutor(max_workers=PREFETCH)
        self.current = None  # (key, Engine, RunningTessera, db_name)
        self.pending = {}  # key -> Future of start_engine
        self.failed = {}  # key -> why it did not start

    def get(self, key: tuple) -> Engine:
        if self.current and self.current[0] == key:
            return self.current[1]
        if key in self.failed:
            pytest.fail(self.failed[key], pytrace=False)
        self.stop_current()
        future = self.pending.pop(key, None) or self.pool.submit(start_engine, *key)
        self.prefetch_after(key)
        try:
            engine, running, db_name = future.result()
        except (Exception, pytest.fail.Exception) as failure:  # start_tessera fails with pytest.fail
            self.failed[key] = f"the {key[0]} server with configuration {key[1]} did not start: {failure}"
            pytest.fail(self.failed[key], pytrace=False)
        self.current = (key, engine, running, db_name)
        return engine

    def prefetch_after(self, key: tuple) -> None:
        later = self.order[self.order.index(key) + 1:] if key in self.order else []
        for following in later[:PREFETCH]:
            if following not in self.pending and following not in self.failed:
                self.pending[following] = self.pool.submit(start_engine, *following)

    def stop_current(self) -> None:
        if self.current:
            _, _, running, db_name = self.current
            self.current = None
            stop_engine(running, db_name)

    def close(self) -> None:
        try:
            self.stop_current()
        finally:
            for future in self.pending.values():
                try:
                    _, running, db_name = future.result()
                except BaseException:
                    continue
                stop_engine(running, db_name)
            self.pool.shutdown()


@pytest.fixture(scope="module")
def engines(request):
    order = []
    for item in request.session.items:
        key = getattr(item, "callspec", None) and item.callspec.params.get("server")
        if key and (not order or order[-1] != key):
            order.append(key)
    pool = Engines(order)
    yield pool
    pool.close()


# ---------------------------------------------------------------------------------------------------- test_jwt.py

def valid_claims_success(engine: Engine):
    token = engine.sign(engine.with_hasura_claims({
        "x-hasura-user-id": "1", "x-hasura-allowed-roles": ["user", "editor"], "x-hasura-default-role": "user"}))
    assert engine.ask(token) == SUCCESS


def invalid_role_in_request_header(engine: Engine):
    token = engine.sign(engine.with_hasura_claims({
        "x-hasura-user-id": "1", "x-hasura-allowed-roles": ["contractor", "editor"],
        "x-hasura-default-role": "contractor"}))
    assert engine.ask(token) == refusal("access-denied", "Your requested role is not in allowed roles")


def no_allowed_roles_in_claim(engine: Engine):
    token = engine.sign(engine.with_hasura_claims({"x-hasura-user-id": "1", "x-hasura-default-role": "user"}))
    assert engine.ask(token) == refusal("jwt-missing-role-claims", "JWT claim does not contain x-hasura-allowed-roles")


def invalid_allowed_roles_in_claim(engine: Engine):
    token = engine.sign(engine.with_hasura_claims({
        "x-hasura-user-id": "1", "x-hasura-allowed-roles": "user", "x-hasura-default-role": "user"}))
    assert engine.ask(token) == refusal("jwt-invalid-claims", INVALID_ALLOWED_ROLES)


def no_default_role(engine: Engine):
    token = engine.sign(engine.with_hasura_claims({"x-hasura-user-id": "1", "x-hasura-allowed-roles": ["user"]}))
    assert engine.ask(token) == refusal("jwt-missing-role-claims", "JWT claim does not contain x-hasura-default-role")


USER_CLAIMS = {"x-hasura-user-id": "1", "x-hasura-default-role": "user", "x-hasura-allowed-roles": ["user"]}


def expired(engine: Engine):
    claims = engine.with_hasura_claims(USER_CLAIMS)
    claims["exp"] = round((datetime.now() - timedelta(minutes=1)).timestamp())
    assert engine.ask(engine.sign(claims)) == refusal("invalid-jwt", "Could not verify JWT: JWTExpired")


def invalid_signature(engine: Engine):
    # Hasura signs with HS256 and a secret of its own (HS384 when the configuration is HS256 itself).
    wrong_secret = "wrong-" + secrets.token_hex(32)
    algorithm = "HS384" if engine.setup.signer.algorithm == "HS256" else "HS256"
    token = engine.sign(engine.with_hasura_claims(USER_CLAIMS), private=wrong_secret, algorithm=algorithm)
    assert engine.ask(token) == refusal("invalid-jwt", "Could not verify JWT: JWSError JWSInvalidSignature")


def no_audience_in_conf(engine: Engine):
    claims = engine.with_hasura_claims(USER_CLAIMS)
    claims["aud"] = "hasura-test-suite"
    assert engine.ask(engine.sign(claims)) == SUCCESS


def no_issuer_in_conf(engine: Engine):
    claims = engine.with_hasura_claims(USER_CLAIMS)
    claims["iss"] = "rubbish-issuer"
    assert engine.ask(engine.sign(claims)) == SUCCESS


def jwt_expiry_leeway(engine: Engine):
    claims = engine.with_hasura_claims(USER_CLAIMS, default_place=True)
    claims["exp"] = round((datetime.now() - timedelta(seconds=30)).timestamp())
    assert engine.ask(engine.sign(claims), authorization_only=True) == SUCCESS


def valid_audience(engine: Engine):
    audience = engine.configuration["audience"]
    claims = engine.with_hasura_claims(USER_CLAIMS, hours=1, default_place=True)
    claims["aud"] = audience if isinstance(audience, str) else audience[0]
    assert engine.ask(engine.sign(claims), authorization_only=True) == SUCCESS


def invalid_audience(engine: Engine):
    claims = engine.with_hasura_claims(USER_CLAIMS, hours=1, default_place=True)
    claims["aud"] = "rubbish_audience"
    assert engine.ask(engine.sign(claims), authorization_only=True) == refusal(
        "invalid-jwt", "Could not verify JWT: JWTNotInAudience")


def valid_issuer(engine: Engine):
    claims = engine.with_hasura_claims(USER_CLAIMS, hours=1, default_place=True)
    claims["iss"] = engine.configuration["issuer"]
    assert engine.ask(engine.sign(claims), authorization_only=True) == SUCCESS


def invalid_issuer(engine: Engine):
    claims = engine.with_hasura_claims(USER_CLAIMS, hours=1, default_place=True)
    claims["iss"] = "rubbish_issuer"
    assert engine.ask(engine.sign(claims), authorization_only=True) == refusal(
        "invalid-jwt", "Could not verify JWT: JWTNotInIssuer")


# ---------------------------------------------------------------------------------------- test_jwt_claims_map.py

def without_nones(value: dict) -> dict:
    """Hasura's clean_null_terms: drops None values, and objects left empty."""
    result = {}
    for name, item in value.items():
        if isinstance(item, dict):
            item = without_nones(item)
            if item:
                result[name] = item
        elif item is not None:
            result[name] = item
    return result


def myapp_token(engine: Engine, user_id=None, allowed=None, default=None) -> str:
    claims = engine.registered_claims(hours=1)
    claims[MYAPP] = without_nones({"user": {"id": user_id}, "role": {"allowed": allowed, "default": default}})
    return engine.sign(claims)


def map_default(engine: Engine, claim: str):
    return engine.configuration["claims_map"][claim].get("default")


def claims_map_valid_claims_success(engine: Engine):
    assert engine.ask(myapp_token(engine, "1", ["user", "editor"], "user")) == SUCCESS


def claims_map_invalid_role_in_request_header(engine: Engine):
    assert engine.ask(myapp_token(engine, "1", ["contractor", "editor"], "contractor")) == refusal(
        "access-denied", "Your requested role is not in allowed roles")


def claims_map_no_allowed_roles_in_claim(engine: Engine):
    expected = SUCCESS if map_default(engine, "x-hasura-allowed-roles") is not None else refusal(
        "jwt-missing-role-claims", "JWT claim does not contain x-hasura-allowed-roles")
    assert engine.ask(myapp_token(engine, "1", None, "user")) == expected


def claims_map_invalid_allowed_roles_in_claim(engine: Engine):
    assert engine.ask(myapp_token(engine, "1", "user", "user")) == refusal("jwt-invalid-claims", INVALID_ALLOWED_ROLES)


def claims_map_no_default_role(engine: Engine):
    expected = SUCCESS if map_default(engine, "x-hasura-default-role") is not None else refusal(
        "jwt-missing-role-claims", "JWT claim does not contain x-hasura-default-role")
    assert engine.ask(myapp_token(engine, "1", ["user"])) == expected


def claims_map_claim_not_found(engine: Engine):
    expected = SUCCESS if map_default(engine, "x-hasura-user-id") is not None else refusal(
        "jwt-invalid-claims", "JWT claim from claims_map, x-hasura-user-id not found")
    assert engine.ask(myapp_token(engine, None, ["user", "editor"], "user")) == expected


def static_claims_map_valid_claims_success(engine: Engine):
    assert engine.ask(myapp_token(engine, "1"), {"x-hasura-custom-header": "custom-value"}) == SUCCESS


def static_claims_map_invalid_role_in_request_header(engine: Engine):
    assert engine.ask(myapp_token(engine, "1"), {"X-Hasura-Role": "random_string"}) == refusal(
        "access-denied", "Your requested role is not in allowed roles")


def static_claims_map_claim_not_found(engine: Engine):
    assert engine.ask(myapp_token(engine, None)) == refusal(
        "jwt-invalid-claims", "JWT claim from claims_map, x-hasura-user-id not found")


# Hasura's test names (test_jwt_<name> in its classes) -> the ported case.
SUITES = {
    "basic": [valid_claims_success, invalid_role_in_request_header, no_allowed_roles_in_claim,
              invalid_allowed_roles_in_claim, no_default_role, expired, invalid_signature, no_audience_in_conf,
              no_issuer_in_conf],
    "skew": [jwt_expiry_leeway],
    "audience": [valid_audience, invalid_audience],
    "issuer": [valid_issuer, invalid_issuer],
    "claims_map": [claims_map_valid_claims_success, claims_map_invalid_role_in_request_header,
                   claims_map_no_allowed_roles_in_claim, claims_map_invalid_allowed_roles_in_claim,
                   claims_map_no_default_role, claims_map_claim_not_found],
    "static_claims_map": [static_claims_map_valid_claims_success, static_claims_map_invalid_role_in_request_header,
                          static_claims_map_claim_not_found],
}
CASES = {case.__name__: case for cases in SUITES.values() for case in cases}

# Where Tessera answers otherwise than Hasura: "<setup>/<case>" (or "<database>:<setup>/<case>", "*/<case>") ->
# what Hasura answers and what Tessera answers. Strict: a case that starts passing must leave the list.
GAPS = {}
ARTICLE_1 = "the data of Article 1 (HTTP 200)"
HASURA_ANSWERS = {
    "valid_claims_success": ARTICLE_1,
    "invalid_role_in_request_header": "access-denied 'Your requested role is not in allowed roles'",
    "no_allowed_roles_in_claim": "jwt-missing-role-claims 'JWT claim does not contain x-hasura-allowed-roles'",
    "invalid_allowed_roles_in_claim": f"jwt-invalid-claims '{INVALID_ALLOWED_ROLES}'",
    "no_default_role": "jwt-missing-role-claims 'JWT claim does not contain x-hasura-default-role'",
    "no_audience_in_conf": ARTICLE_1,
    "no_issuer_in_conf": ARTICLE_1,
}
# 1. A token without `aud` under a configured `audience`, or without `iss` under a configured `issuer`: Hasura's JWT
#    library (jose) checks aud / iss only when the token has them, so Hasura goes on to the claims (its CI ran these
#    basic cases under the audience and issuer configurations); Tessera refuses the token.
for _setup in ("rs512-audience", "rs512-audience-list"):
    for _case, _answer in HASURA_ANSWERS.items():
        if _case != "no_audience_in_conf":
            GAPS[f"{_setup}/{_case}"] = (
                f"the token has no aud claim: Hasura does not check aud then and answers {_answer}; Tessera answers "
                "invalid-jwt 'Could not verify JWT: JWTNotInAudience'")
for _case, _answer in HASURA_ANSWERS.items():
    if _case != "no_issuer_in_conf":
        GAPS[f"rs512-issuer/{_case}"] = (
            f"the token has no iss claim: Hasura does not check iss then and answers {_answer}; Tessera answers "
            "invalid-jwt 'Could not verify JWT: JWTNotInIssuer'")


def gap(database: str, setup_name: str, case: str):
    for key in (f"{database}:{setup_name}/{case}", f"{setup_name}/{case}", f"*/{case}"):
        if key in GAPS:
            return [pytest.mark.xfail(strict=True, reason=GAPS[key])]
    return []


def applies(setup: Setup, case) -> bool:
    """Hasura skips test_jwt_no_audience_in_conf / test_jwt_no_issuer_in_conf when the configuration has one."""
    if case is no_audience_in_conf and "audience" in setup.extra:
        return False
    if case is no_issuer_in_conf and "issuer" in setup.extra:
        return False
    return True


def databases():
    return ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def parameters():
    return [pytest.param((database, name), case.__name__, id=f"{database}-{name}-{case.__name__}",
                         marks=gap(database, name, case.__name__))
            for database in databases() for name, setup in SETUPS.items()
            for suite in setup.suites for case in SUITES[suite] if applies(setup, case)]


@pytest.mark.parametrize("server,case", parameters())
def test_hasura_jwt_case(engines, server, case):
    CASES[case](engines.get(server))


def test_enough_cases_are_ported():
    assert len({case for cases in SUITES.values() for case in cases}) == 23
    assert len(parameters()) >= 25 * len(databases())
