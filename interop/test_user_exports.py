"""Auth0's bulk user export (`POST /api/v2/jobs/users-exports`, `GET /api/v2/jobs/{id}`, the gzipped file behind a
job's `location`) driven by Auth0's own Python SDK, `auth0-python` 6.8.0, unmodified
(`ManagementClient(...).jobs.users_exports.create(...)`, `.jobs.get(id)`), on SQLite and on PostgreSQL (a fresh database
on TESSERA_TEST_POSTGRES_URL's server; skipped when that variable is unset).

Users are made through the Management API with the SDK; each file is downloaded with `requests` from the job's
`location` with no Authorization header, gunzipped with Python's gzip and read as NDJSON or with Python's csv module.
The tests share one server per store, so an export holds every test's users: each test checks the file against all
of the tenant's users (listed with the SDK), and its own users field by field.

The SDK talks https only; `PlainHTTP` (test_directory.py's) sends its requests to the loopback server over http.
Every exchange the SDK makes is recorded beneath it: none may be a 5xx or a 429 (the SDK would retry those silently).
Download tokens are remembered as secrets: no server log may hold one.

A job's hour is checked in the store (its expires_at), and its end by moving expires_at back there: nothing waits an
hour. The servers hash passwords at bcrypt cost 4 (TESSERA_BCRYPT_COST) so the 520 users of the paging test take a
few seconds; nothing here measures hashing.
"""
import csv
import datetime
import gzip
import io
import json
import os
import re
import secrets
import sqlite3
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
import requests
from auth0.management import ManagementClient
from auth0.management.core.api_error import ApiError
from auth0.management.types.create_export_users_fields import CreateExportUsersFields

from conftest import TIMEOUT, TesseraServer, fetch_token, postgres_database, remember_secret, serve_module
from test_directory import PlainHTTP

DATABASE = "Username-Password-Authentication"
CONNECTION_ID = "con_tessera_database"
DEFAULT_FIELDS = ["user_id", "email", "email_verified", "username", "name", "given_name", "family_name", "nickname",
                  "picture", "created_at", "updated_at", "last_login", "logins_count", "blocked"]
JOB_ID = re.compile(r"^job_[A-Za-z0-9_-]+$")
NO_JOB = {"statusCode": 404, "error": "Not Found", "message": "The job does not exist", "errorCode": "inexistent_job"}
NO_CONNECTION = {"statusCode": 404, "error": "Not Found", "message": "The connection does not exist",
                 "errorCode": "inexistent_connection"}


def invalid_body(message: str) -> dict:
    return {"statusCode": 400, "error": "Bad Request", "message": message, "errorCode": "invalid_body"}


def insufficient_scope(scopes: str) -> dict:
    return {"statusCode": 403, "error": "Forbidden", "message": f"Insufficient scope, expected any of: {scopes}",
            "errorCode": "insufficient_scope"}


# ---------------------------------------------------------------------------------------------------- the servers

@dataclass
class Tenant:
    kind: str  # "sqlite" or "postgres"
    server: TesseraServer
    database_url: str = None  # PostgreSQL's; None on SQLite (the store is data_dir/tessera.sqlite)

    def query(self, statement: str, *values):
        """One statement on the server's store, behind its back (to read a job's expiry, or age it): the first value
        of its first row, None when there is none. `?` stands for each value (a string)."""
        if self.database_url is None:
            with sqlite3.connect(os.path.join(self.server.data_dir, "tessera.sqlite"), timeout=10) as db:
                rows = db.execute(statement, values).fetchall()
            return rows[0][0] if rows else None
        literal = statement.replace("?", "{}").format(*("'" + value.replace("'", "''") + "'" for value in values))
        output = subprocess.run(["psql", self.database_url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c",
                                 literal], check=True, timeout=60, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True).stdout.strip()
        return output.splitlines()[0] if output else None


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def tenant(request):
    env = dict(os.environ, TESSERA_BCRYPT_COST="4")
    env.pop("TESSERA_MASTER_KEY", None)
    if request.param == "sqlite":
        for server in serve_module(env=env):
            yield Tenant("sqlite", server)
        return
    # PostgreSQL requires a master key (every instance reads the signing keys from the database).
    env["TESSERA_MASTER_KEY"] = "user-exports-master-key-" + secrets.token_urlsafe(24)
    remember_secret(env["TESSERA_MASTER_KEY"])
    with postgres_database("user_exports_interop_") as database_url:
        for server in serve_module("--database", database_url, env=env):
            yield Tenant("postgres", server, database_url)


# ---------------------------------------------------------------------------------------------------- the SDK

class Recording(PlainHTTP):
    """PlainHTTP that keeps every exchange: (method, url, status, request headers, response body as JSON or text)."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def handle_request(self, request):
        response = super().handle_request(request)
        response.read()
        try:
            body = json.loads(response.content) if response.content else None
        except ValueError:
            body = response.content.decode(errors="replace")
        self.seen.append((request.method, str(request.url), response.status_code, dict(request.headers), body))
        return response

    def last(self, method: str, path: str):
        """The JSON of the last answer to `method` on a URL whose path is `path`."""
        for entry in reversed(self.seen):
            if entry[0] == method and unquote(urlsplit(entry[1]).path) == path:
                return entry[4]
        raise AssertionError(f"no {method} {path} in {[(entry[0], entry[1]) for entry in self.seen]}")


@dataclass
class Management:
    sdk: ManagementClient
    recording: Recording
    server: TesseraServer
    token: str


def sdk_client(server: TesseraServer, token: str) -> Management:
    recording = Recording()
    domain = server.base_url.split("://", 1)[1].rstrip("/")
    client = ManagementClient(domain=domain, token=token,
                              httpx_client=httpx.Client(transport=recording, timeout=TIMEOUT))
    return Management(client, recording, server, token)


def m2m_token(tenant: Tenant, scopes: list) -> str:
    """A client-credentials token of a new M2M application granted `scopes` on the Management API."""
    admin = sdk_client(tenant.server, fetch_token(tenant.server, tenant.server.client_id,
                                                  tenant.server.client_secret)).sdk
    client = admin.clients.create(name="Exports " + uuid.uuid4().hex[:8], app_type="non_interactive")
    remember_secret(client.client_secret)
    grant = admin.client_grants.create(client_id=client.client_id, audience=tenant.server.audience, scope=scopes)
    assert grant.scope == scopes
    return fetch_token(tenant.server, client.client_id, client.client_secret)


@pytest.fixture
def management(tenant):
    """auth0-python's ManagementClient with a fresh admin token; afterwards, no answer the SDK would have retried."""
    made = sdk_client(tenant.server, fetch_token(tenant.server, tenant.server.client_id, tenant.server.client_secret))
    yield made
    retried = [entry[:3] for entry in made.recording.seen if entry[2] >= 500 or entry[2] == 429]
    assert not retried, f"answers the SDK retries: {retried}"


def refused(call, *args, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as raised:
        call(*args, **kwargs)
    return raised.value


def fields(*specs) -> list:
    """CreateExportUsersFields from names or (name, export_as) pairs."""
    return [CreateExportUsersFields(name=spec) if isinstance(spec, str) else
            CreateExportUsersFields(name=spec[0], export_as=spec[1]) for spec in specs]


def export(management: Management, **body) -> dict:
    """POST jobs/users-exports through the SDK: the job exactly as the server answered it (checked against what the
    SDK parsed), its download token remembered as a secret."""
    job = management.sdk.jobs.users_exports.create(**body)
    answer = management.recording.last("POST", "/api/v2/jobs/users-exports")
    assert (job.id, job.type, job.status, job.format) == (answer["id"], "users_export", "completed", answer["format"])
    remember_secret(parse_qs(urlsplit(answer["location"]).query)["token"][0])
    return answer


def download(location: str) -> requests.Response:
    """The job's file, as anyone holding the URL gets it: a fresh session, no Authorization header."""
    with requests.Session() as session:
        response = session.get(location, timeout=TIMEOUT)
    assert "Authorization" not in response.request.headers
    return response


def file_text(location: str) -> str:
    response = download(location)
    assert response.status_code == 200, f"{response.status_code}: {response.text}"
    assert response.headers["Content-Type"] == "application/gzip", response.headers
    assert "Content-Encoding" not in response.headers, response.headers  # the file is gzip, not the transfer
    assert response.content[:2] == b"\x1f\x8b", response.content[:20]
    return gzip.decompress(response.content).decode("utf-8")


def ndjson(location: str) -> list:
    text = file_text(location)
    assert text == "" or text.endswith("\n"), text[-200:]
    return [json.loads(line) for line in text.split("\n")[:-1]]  # not splitlines: U+2028 may be in a JSON string


def csv_rows(location: str) -> tuple:
    """(raw text, rows as lists) of a CSV file."""
    text = file_text(location)
    return text, list(csv.reader(io.StringIO(text, newline=""), strict=True))


def everyone(management: Management) -> set:
    """Every user_id of the tenant, through the SDK's pager."""
    ids = [user.user_id for user in management.sdk.users.list(per_page=100)]
    assert len(ids) == len(set(ids)), ids
    return set(ids)


def total(management: Management) -> int:
    """How many users the tenant has (include_totals)."""
    response = requests.get(management.server.url("api/v2/users"), timeout=TIMEOUT,
                            params={"per_page": 1, "include_totals": "true"},
                            headers={"Authorization": "Bearer " + management.token})
    assert response.status_code == 200, response.text
    return response.json()["total"]


def create_user(management: Management, **profile) -> dict:
    """A database user made with the SDK; the user exactly as the server answered."""
    user = management.sdk.users.create(connection=DATABASE, email=f"{uuid.uuid4().hex[:12]}@exports.example.com",
                                       password="Passw0rd-Ok-" + uuid.uuid4().hex[:6], **profile)
    answer = management.recording.last("POST", "/api/v2/users")
    assert answer["user_id"] == user.user_id and user.user_id.startswith("auth0|"), answer
    return answer


def by_id(lines: list, key: str = "user_id") -> dict:
    found = {}
    for line in lines:
        assert line[key] not in found, f"{line[key]} is in the file twice"
        found[line[key]] = line
    return found


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------------------------------------------- JSON

JSON_FIELDS = [
    "user_id", ("email", "mail"), "name", "email_verified", "logins_count", "blocked", "created_at",
    ("user_metadata.plan", "plan"), ("user_metadata.profile.age", "age"), ("user_metadata.profile.tags[1]", "tag2"),
    "user_metadata", "app_metadata.tier", ("identities[0].connection", "connection"), "identities[0].provider",
    ("identities[1].provider", "second_provider"), "given_name",
]


def test_a_json_export_holds_every_user_once_with_export_as_and_nested_paths(management):
    ada = create_user(management, name='Ada, "the" Countess', given_name="Ada", app_metadata={"tier": "gold"},
                      user_metadata={"plan": "pro", "profile": {"age": 36, "tags": ["math", "poetry"]}})
    emile = create_user(management, name="Émile Zola — 日本", blocked=True,
                        user_metadata={"plan": "free", "profile": {"age": 0, "tags": ["x"]}, "note": "line\nbreak"})
    bare = create_user(management, name="Bare")  # no metadata: those keys are left out, not null
    gone = create_user(management, name="Deleted Before The Export")
    management.sdk.users.delete(gone["user_id"])

    job = export(management, format="json", fields=fields(*JSON_FIELDS))
    assert job["fields"] == [{"name": spec} if isinstance(spec, str) else {"name": spec[0], "export_as": spec[1]}
                             for spec in JSON_FIELDS]
    assert "connection_id" not in job and "limit" not in job and "connection" not in job, job
    lines = by_id(ndjson(job["location"]))
    assert set(lines) == everyone(management)
    assert {ada["user_id"], emile["user_id"], bare["user_id"]} <= set(lines) and gone["user_id"] not in lines

    assert lines[ada["user_id"]] == {
        "user_id": ada["user_id"], "mail": ada["email"], "name": 'Ada, "the" Countess', "email_verified": False,
        "logins_count": 0, "blocked": False, "created_at": ada["created_at"], "plan": "pro", "age": 36,
        "tag2": "poetry", "user_metadata": {"plan": "pro", "profile": {"age": 36, "tags": ["math", "poetry"]}},
        "app_metadata.tier": "gold", "connection": DATABASE, "identities[0].provider": "auth0", "given_name": "Ada"}
    assert lines[emile["user_id"]] == {
        "user_id": emile["user_id"], "mail": emile["email"], "name": "Émile Zola — 日本", "email_verified": False,
        "logins_count": 0, "blocked": True, "created_at": emile["created_at"], "plan": "free", "age": 0,
        "user_metadata": {"plan": "free", "profile": {"age": 0, "tags": ["x"]}, "note": "line\nbreak"},
        "connection": DATABASE, "identities[0].provider": "auth0"}
    # The API shows an empty user_metadata for a user made without one: the file has what the API shows.
    assert lines[bare["user_id"]] == {
        "user_id": bare["user_id"], "mail": bare["email"], "name": "Bare", "email_verified": False,
        "logins_count": 0, "blocked": False, "created_at": bare["created_at"], "connection": DATABASE,
        "identities[0].provider": "auth0",
        **({"user_metadata": bare["user_metadata"]} if "user_metadata" in bare else {})}
    # Integers stay integers (Python's 36 == 36.0 would hide a 36.0).
    assert [type(lines[ada["user_id"]][key]) for key in ("age", "logins_count")] == [int, int]
    assert [type(lines[emile["user_id"]][key]) for key in ("age", "logins_count")] == [int, int]
    # Every line of every user: the keys are the export_as names, or the names.
    allowed = {spec if isinstance(spec, str) else spec[1] for spec in JSON_FIELDS}
    assert all(set(line) <= allowed and line["connection"] == DATABASE for line in lines.values()), lines


def test_the_default_fields_are_the_profiles_scalar_fields(management):
    picture = "https://example.com/p/" + uuid.uuid4().hex + ".png"
    full = create_user(management, name="Grace Hopper", given_name="Grace", family_name="Hopper", nickname="amazing",
                       picture=picture, email_verified=True, user_metadata={"ignored": "not a default field"})
    job = export(management)  # no body at all: json, every user, the default fields
    assert job == {"type": "users_export", "status": "completed", "id": job["id"], "format": "json",
                   "fields": [{"name": name} for name in DEFAULT_FIELDS], "created_at": job["created_at"],
                   "location": job["location"]}
    lines = by_id(ndjson(job["location"]))
    assert set(lines) == everyone(management)
    assert management.sdk.users.get(full["user_id"]).picture == picture
    profile = management.recording.last("GET", "/api/v2/users/" + full["user_id"])
    expected = {name: profile[name] for name in DEFAULT_FIELDS if name in profile}
    assert expected["picture"] == picture and expected["email_verified"] is True, profile
    assert lines[full["user_id"]] == expected
    assert all(set(line) <= set(DEFAULT_FIELDS) for line in lines.values())


# ---------------------------------------------------------------------------------------------------- CSV

def test_a_csv_export_with_a_limit_quotes_commas_quotes_and_line_breaks(management):
    tricky = create_user(management, name='Smith, "Jo" Ann', user_metadata={"plan": 'a,b "c"'})
    plain = create_user(management, name="Plain Name", user_metadata={"plan": "basic"})
    feed = create_user(management, name="Line Feed", user_metadata={"plan": "line\nfeed"})
    ret = create_user(management, name="Carriage Return", user_metadata={"plan": "carriage\rreturn"})
    columns = [("user_id", "id"), ("name", "Full name, as shown"), "email", "user_metadata.plan", "blocked",
               "logins_count"]
    header = ["id", "Full name, as shown", "email", "user_metadata.plan", "blocked", "logins_count"]

    # Limited to 2: a header and two users, each as the full file has it.
    limited = export(management, format="csv", limit=2, fields=fields(*columns))
    assert (limited["format"], limited["limit"]) == ("csv", 2)
    assert urlsplit(limited["location"]).path == f"/api/v2/jobs/{limited['id']}/users.csv.gz"
    _, rows = csv_rows(limited["location"])
    assert rows[0] == header
    assert len(rows) == 3 and len({row[0] for row in rows[1:]}) == 2, rows

    whole = export(management, format="csv", fields=fields(*columns))
    assert "limit" not in whole
    text, all_rows = csv_rows(whole["location"])
    assert all_rows[0] == header
    assert text.startswith('id,"Full name, as shown",email,user_metadata.plan,blocked,logins_count\n'), text[:200]
    assert all(len(row) == len(header) for row in all_rows), all_rows
    everything = {row[0]: row for row in all_rows[1:]}
    assert len(everything) == len(all_rows) - 1, "a user is in the file twice"
    assert set(everything) == everyone(management)
    for row in rows[1:]:
        assert everything[row[0]] == row
    for user, plan in [(tricky, 'a,b "c"'), (plain, "basic"), (feed, "line\nfeed"), (ret, "carriage\rreturn")]:
        assert everything[user["user_id"]] == [user["user_id"], user["name"], user["email"], plan, "false", "0"]
    # RFC 4180: a cell with a comma, a quote or a line break is quoted, its quotes doubled; others are not.
    for line in (f'{tricky["user_id"]},"Smith, ""Jo"" Ann",{tricky["email"]},"a,b ""c""",false,0',
                 f'{plain["user_id"]},Plain Name,{plain["email"]},basic,false,0',
                 f'{feed["user_id"]},Line Feed,{feed["email"]},"line\nfeed",false,0',
                 f'{ret["user_id"]},Carriage Return,{ret["email"]},"carriage\rreturn",false,0'):
        assert "\n" + line + "\n" in text, line


def test_a_csv_cell_with_a_crlf_line_break_is_quoted(management):
    user = create_user(management, name="CRLF Note", user_metadata={"crlf_note": "first line\r\nsecond line"})
    job = export(management, format="csv", fields=fields("user_id", "user_metadata.crlf_note"))
    text, rows = csv_rows(job["location"])
    assert [row for row in rows if user["user_id"] in row[0]] == [[user["user_id"], "first line\r\nsecond line"]], \
        text
    assert all(len(row) == 2 for row in rows), rows
    assert f'\n{user["user_id"]},"first line\r\nsecond line"\n' in text, text


# ---------------------------------------------------------------------------------------------------- the job

def test_get_job_is_the_post_answer(tenant, management):
    create_user(management, name="Job Reader")
    started = datetime.datetime.now(datetime.timezone.utc)
    job = export(management, format="csv", limit=5, connection_id=CONNECTION_ID,
                 fields=fields("user_id", ("email", "Email address")))
    assert JOB_ID.match(job["id"]), job
    assert job == {"type": "users_export", "status": "completed", "id": job["id"], "format": "csv", "limit": 5,
                   "connection_id": CONNECTION_ID, "connection": DATABASE,
                   "fields": [{"name": "user_id"}, {"name": "email", "export_as": "Email address"}],
                   "created_at": job["created_at"], "location": job["location"]}
    assert abs((utc(job["created_at"]) - started).total_seconds()) < 60, (job["created_at"], started)
    location = urlsplit(job["location"])
    assert f"{location.scheme}://{location.netloc}/" == management.server.issuer
    assert location.path == f"/api/v2/jobs/{job['id']}/users.csv.gz"
    assert list(parse_qs(location.query)) == ["token"]

    read = management.sdk.jobs.get(job["id"])
    assert (read.id, read.status, read.type, read.format, read.location, read.connection_id) == \
        (job["id"], "completed", "users_export", "csv", job["location"], CONNECTION_ID)
    assert management.recording.last("GET", f"/api/v2/jobs/{job['id']}") == job
    # create:users reads jobs too (Auth0: read:users or create:users).
    writer = sdk_client(management.server, m2m_token(tenant, ["create:users"]))
    writer.sdk.jobs.get(job["id"])
    assert writer.recording.last("GET", f"/api/v2/jobs/{job['id']}") == job
    # The job lives an hour.
    expires = tenant.query("SELECT expires_at FROM user_exports WHERE id = ?", job["id"])
    assert utc(expires) - utc(job["created_at"]) == datetime.timedelta(hours=1), (expires, job["created_at"])

    for unknown in ("job_nope", "job_" + "A" * 16, job["id"] + "x", "job_' OR '1'='1"):
        error = refused(management.sdk.jobs.get, unknown)
        assert (error.status_code, error.body) == (404, NO_JOB), unknown


def test_an_expired_job_and_its_file_are_gone(tenant, management):
    job = export(management, format="json", fields=fields("user_id"))
    assert download(job["location"]).status_code == 200
    # An hour later, as the store sees it: the job's expiry moved to its creation time.
    assert tenant.query("UPDATE user_exports SET expires_at = ? WHERE id = ? RETURNING id", job["created_at"],
                        job["id"]) == job["id"]
    error = refused(management.sdk.jobs.get, job["id"])
    assert (error.status_code, error.body) == (404, NO_JOB)
    gone = download(job["location"])
    assert (gone.status_code, gone.json()) == (404, NO_JOB)


# ---------------------------------------------------------------------------------------------------- refusals

BAD_BODIES = [
    ("format xml", {"format": "xml"}, 400, invalid_body(
        "Payload validation error: 'No enum match for: \"xml\"' on property format (Format of the file. "
        "Must be json or csv).")),
    ("31 fields", {"fields": fields(*[f"user_metadata.f{index}" for index in range(31)])}, 400,
     invalid_body("Payload validation error: 'Array must have between 1 and 30 items' on property fields.")),
    ("no fields", {"fields": []}, 400,
     invalid_body("Payload validation error: 'Array must have between 1 and 30 items' on property fields.")),
    ("unknown property", {"request_options": {"additional_body_parameters": {"x": 1}}}, 400,
     invalid_body("Payload validation error: 'Additional properties not allowed: x'.")),
    ("limit 0", {"limit": 0}, 400,
     invalid_body("Payload validation error: 'Value 0 is outside 1...2147483647' on property limit.")),
    ("limit -1", {"limit": -1}, 400,
     invalid_body("Payload validation error: 'Value -1 is outside 1...2147483647' on property limit.")),
    ("two fields under one name", {"fields": [{"name": "email"}, {"name": "user_metadata.mail", "export_as": "email"}]}, 400,
     invalid_body("Payload validation error: 'Two fields are exported as email' on property fields.")),
    ("unknown connection", {"connection_id": "con_0123456789abcdef"}, 404, NO_CONNECTION),
    ("connection in capitals", {"connection_id": CONNECTION_ID.upper()}, 404, NO_CONNECTION),
    ("connection by name", {"connection_id": DATABASE}, 404, NO_CONNECTION),
    ("SQL quote", {"connection_id": "con_tessera_database' OR '1'='1"}, 404, NO_CONNECTION),
    ("SQL comment", {"connection_id": "x'; DROP TABLE users; --"}, 404, NO_CONNECTION),
    ("SQL wildcard", {"connection_id": "con_tessera_%"}, 404, NO_CONNECTION),
    ("SQL double quote", {"connection_id": 'con_tessera_database" --'}, 404, NO_CONNECTION),
]


@pytest.mark.parametrize("case,body,status,answer", BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_a_bad_request_is_refused_as_auth0_refuses_it(management, case, body, status, answer):
    before = total(management)
    error = refused(management.sdk.jobs.users_exports.create, **body)
    assert (error.status_code, error.body) == (status, answer), case
    # The refusal broke nothing: the users are all there (and, after SQL's metacharacters, an export holds each once).
    assert total(management) == before
    if "connection_id" in body:
        assert len(by_id(ndjson(export(management, fields=fields("user_id"))["location"]))) == before


def test_thirty_fields_and_the_one_connection_are_accepted(management):
    names = [f"user_metadata.f{index}" for index in range(29)] + ["user_id"]
    job = export(management, fields=fields(*names), connection_id=CONNECTION_ID, limit=1)
    assert [field["name"] for field in job["fields"]] == names
    lines = ndjson(job["location"])
    assert len(lines) == 1 and set(lines[0]) == {"user_id"} and lines[0]["user_id"] in everyone(management), lines


def test_tokens_and_scopes(tenant, management):
    url = management.server.url("api/v2/jobs/users-exports")
    job = export(management, fields=fields("user_id"))
    # No token, a token that is no JWT: 401.
    missing = requests.post(url, json={}, timeout=TIMEOUT)
    assert (missing.status_code, missing.json()) == (401, {
        "statusCode": 401, "error": "Unauthorized", "message": "Missing authentication",
        "errorCode": "missing_authentication"})
    missing = requests.get(management.server.url(f"api/v2/jobs/{job['id']}"), timeout=TIMEOUT)
    assert missing.status_code == 401 and missing.json()["errorCode"] == "missing_authentication", missing.text
    garbage = requests.post(url, json={}, timeout=TIMEOUT, headers={"Authorization": "Bearer not-a-token"})
    assert (garbage.status_code, garbage.json()["errorCode"]) == (401, "invalid_token"), garbage.text
    # Tokens without read:users: 403 through the SDK, for creating; reading a job takes read:users or create:users.
    for scopes in (["read:clients"], ["update:users"], ["create:users"]):
        limited = sdk_client(management.server, m2m_token(tenant, scopes)).sdk
        error = refused(limited.jobs.users_exports.create, format="json")
        assert (error.status_code, error.body) == (403, insufficient_scope("read:users")), scopes
        if scopes != ["create:users"]:
            error = refused(limited.jobs.get, job["id"])
            assert (error.status_code, error.body) == (403, insufficient_scope("read:users,create:users")), scopes
    # read:users alone is enough for both.
    reader = sdk_client(management.server, m2m_token(tenant, ["read:users"]))
    made = export(reader, format="csv", fields=fields("user_id"))
    reader.sdk.jobs.get(made["id"])
    assert reader.recording.last("GET", f"/api/v2/jobs/{made['id']}") == made
    assert csv_rows(made["location"])[1][0] == ["user_id"]


# ---------------------------------------------------------------------------------------------------- downloads

def test_forged_download_urls_are_not_found(management):
    job = export(management, format="json", fields=fields("user_id", "email"))
    other = export(management, format="json", fields=fields("user_id"))
    lines = ndjson(job["location"])
    assert set(by_id(lines)) == everyone(management)
    parts = urlsplit(job["location"])
    token = parse_qs(parts.query)["token"][0]
    other_token = parse_qs(urlsplit(other["location"]).query)["token"][0]
    base = f"{parts.scheme}://{parts.netloc}/api/v2/jobs/"
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    forged = {
        "a changed token": f"{base}{job['id']}/users.json.gz?token={flipped}",
        "a shortened token": f"{base}{job['id']}/users.json.gz?token={token[:-1]}",
        "the token in capitals": f"{base}{job['id']}/users.json.gz?token={token.upper()}",
        "no token": f"{base}{job['id']}/users.json.gz",
        "an empty token": f"{base}{job['id']}/users.json.gz?token=",
        "another job's token": f"{base}{job['id']}/users.json.gz?token={other_token}",
        "the csv file of a json job": f"{base}{job['id']}/users.csv.gz?token={token}",
        "another file name": f"{base}{job['id']}/export.json.gz?token={token}",
        "the file without .gz": f"{base}{job['id']}/users.json?token={token}",
        "an unknown job": f"{base}job_{'A' * 16}/users.json.gz?token={token}",
        "another job with this token": f"{base}{other['id']}/users.json.gz?token={token}",
    }
    assert token.upper() != token, token
    for case, url in forged.items():
        response = download(url)
        assert response.status_code == 404, (case, response.status_code, response.text)
        assert response.json() == NO_JOB, (case, response.text)
    # The job's own URL still serves its file, the same users; and a bearer token is not what authorizes it.
    assert ndjson(job["location"]) == lines
    headers = {"Authorization": "Bearer " + management.token}
    stolen = requests.get(f"{base}{job['id']}/users.json.gz", headers=headers, timeout=TIMEOUT)
    assert (stolen.status_code, stolen.json()) == (404, NO_JOB)


# ---------------------------------------------------------------------------------------------------- many users

CROWD = 520  # past the server's 500-user pages (last in the file: the other tests list fewer users)


def test_exports_past_a_page_of_users_hold_each_user_once_and_stop_at_the_limit(management):
    started = time.monotonic()
    def make(index):
        user = management.sdk.users.create(connection=DATABASE, name=f"Crowd {index:04d}",
                                           email=f"crowd-{index:04d}-{uuid.uuid4().hex[:8]}@exports.example.com",
                                           password="Passw0rd-Ok-" + uuid.uuid4().hex[:6])
        assert user.name == f"Crowd {index:04d}"
        return {"user_id": user.user_id, "name": user.name, "email": user.email}

    with ThreadPoolExecutor(4) as pool:
        crowd = {user["user_id"]: user for user in pool.map(make, range(CROWD))}
    print(f"{CROWD} users made with the SDK in {time.monotonic() - started:.1f} s")
    assert len(crowd) == CROWD
    tenant_users = everyone(management)
    assert set(crowd) <= tenant_users and len(tenant_users) > 500

    whole = by_id(ndjson(export(management, fields=fields("user_id", "name", "email"))["location"]))
    assert set(whole) == tenant_users
    assert {user_id: whole[user_id] for user_id in crowd} == \
        {user_id: {"user_id": user_id, "name": user["name"], "email": user["email"]} for user_id, user in crowd.items()}

    for limit in (499, 500, 501, len(tenant_users) - 1, len(tenant_users), len(tenant_users) + 1):
        lines = ndjson(export(management, limit=limit, fields=fields("user_id", "name", "email"))["location"])
        assert len(lines) == min(limit, len(tenant_users)), limit
        assert {line["user_id"]: line for line in lines} == {line["user_id"]: whole[line["user_id"]] for line in lines}
        assert len({line["user_id"] for line in lines}) == len(lines), limit
    _, rows = csv_rows(export(management, format="csv", limit=501, fields=fields("user_id"))["location"])
    assert rows[0] == ["user_id"] and len(rows) == 502 and len({row[0] for row in rows[1:]}) == 501
    assert {row[0] for row in rows[1:]} <= tenant_users
