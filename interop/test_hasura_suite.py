"""Hasura's own server test cases (hasura/graphql-engine, server/tests-py/queries/...), run against Tessera.

The case files under interop/hasura/queries/ are byte-for-byte copies of Hasura's (see the README there for the
repository, paths, commits and licence). This runner does what Hasura's harness (server/tests-py/validate.py,
`check_query_f`) does with them: send `query` to `url` as the admin, expect `status`, and compare the JSON answer
with `response`. Like Hasura's `json_ordered`, key order is ignored and list order is not. For an answer with
`errors`, each error's `message`, `extensions.code` and `extensions.path` are compared (and `data` too when the case
names it). A case file that is a list of cases runs them in order, as Hasura's harness does; a case without
`response` checks only the status, as Hasura's does.

Setup files are Hasura's `type: bulk` lists, split here between Tessera's endpoints: `run_sql` goes to /v2/query,
metadata commands (track_table, create_object/array_relationship, drop_relationship) to /v1/metadata, and v1 `insert`
commands become `INSERT` statements sent with `run_sql`. The database adaptations are kept as files beside the
originals, never in the case files:
  - X.sqlite.yaml  (SQLite): SERIAL/BIGSERIAL PRIMARY KEY -> INTEGER PRIMARY KEY, NOW() -> CURRENT_TIMESTAMP,
    `text[] ... default '{}'::text[]` -> `text ... default '{}'`, no CREATE EXTENSION / DO $$ / CREATE TYPE /
    SET TIME ZONE / setval() (SQLite restarts an emptied INTEGER PRIMARY KEY at 1), and graphql_query/basic without its
    PostgreSQL-only `test_types` table, which no ported case reads.
  - X.postgres.yaml (PostgreSQL): only where the original needs PostGIS, which the test cluster lacks: no
    CREATE EXTENSION postgis / DO $$ block and no `location geography` column (no ported case reads it).
Otherwise PostgreSQL runs Hasura's setup as it is.

Each folder gets its own Tessera server and database: SQLite always; PostgreSQL too when TESSERA_TEST_POSTGRES_URL
names a server (postgres://user@host:port/db), in a database created for the folder and dropped afterwards.
Query folders are set up once. Mutation folders with values files are reset around every case file the way
Hasura's harness does it for them (per_method_tests_db_state): schema_setup once, then values_setup before and
values_teardown after each case. The two constraint folders, whose cases are all errors that must change nothing,
are set up once; Hasura's teardown-then-setup cycle for them is test_teardown_then_setup_again.

Differences Tessera has on purpose, or that come from the database, are listed in KNOWN_DIFFERENCES and expected to
fail (xfail, strict: a case that starts passing must leave the list).
"""
import json
import os
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
import yaml

from conftest import remember_secret, start_tessera, stop_tessera

ROOT = Path(__file__).resolve().parent / "hasura" / "queries"
TIMEOUT = 10
ADMIN_SECRET = "hasura-suite-admin-secret-" + uuid.uuid4().hex
remember_secret(ADMIN_SECRET)
POSTGRES_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL")
METADATA_TYPES = {"track_table", "untrack_table", "create_object_relationship", "create_array_relationship",
                  "drop_relationship", "pg_track_table", "pg_untrack_table", "pg_create_object_relationship",
                  "pg_create_array_relationship", "pg_drop_relationship"}


@dataclass
class Folder:
    setup: list = field(default_factory=list)  # once per server
    before_each: list = field(default_factory=list)  # before every case file
    after_each: list = field(default_factory=list)  # after every case file


FOLDERS = {
    "graphql_query/basic": Folder(setup=["setup.yaml"]),
    "graphql_query/aggregations": Folder(setup=["setup.yaml"]),
    "graphql_query/limits": Folder(setup=["setup.yaml"]),
    "graphql_query/order_by": Folder(setup=["setup.yaml"]),
    "graphql_mutation/insert/onconflict": Folder(setup=["schema_setup.yaml"], before_each=["values_setup.yaml"],
                                                 after_each=["values_teardown.yaml"]),
    # Hasura's harness runs setup.yaml before and teardown.yaml after each case here. Its cases are all errors that
    # change nothing, so setting up once checks the same; the teardown-then-setup cycle has its own test below
    # (test_teardown_then_setup_again), since Tessera keeps tables dropped by run_sql tracked.
    "graphql_mutation/insert/constraints": Folder(setup=["setup.yaml"]),
    "graphql_mutation/update/basic": Folder(setup=["schema_setup.yaml"], before_each=["values_setup.yaml"],
                                            after_each=["values_teardown.yaml"]),
    "graphql_mutation/delete/basic": Folder(setup=["schema_setup.yaml"], before_each=["values_setup.yaml"],
                                            after_each=["values_teardown.yaml"]),
    "graphql_mutation/delete/constraints": Folder(setup=["setup.yaml"]),  # as above: one case, an error
}

# Keys: a case path (relative to interop/hasura/queries) for both databases, or "sqlite:<path>" / "postgres:<path>".

# Where Tessera legitimately differs: Hasura changed the message since the copied version of the case, or SQLite
# cannot store what the PostgreSQL setup stores.
KNOWN_DIFFERENCES = {
    "graphql_query/basic/select_query_user.yaml":
        "expects bigint columns as strings, which Hasura answers only with HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES=true "
        "(hasura/graphql-engine#7855); Hasura's default, and Tessera's, is numbers (Tessera honours the variable too)",
    "postgres:graphql_query/basic/select_query_batching.yaml":
        "as select_query_user.yaml: bigint as strings needs HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES=true",
    "graphql_mutation/insert/constraints/address_not_null_constraint_error.yaml":
        "PostgreSQL 13 and later name the table in a not-null violation (null value in column \"name\" of relation "
        "\"address\" ...); the case was recorded on an older PostgreSQL, and Tessera words it as today's PostgreSQL",
    "sqlite:graphql_query/order_by/album_order_by_tracks_max_name.yaml":
        "SQLite computes stddev in double precision (653697.391667072); PostgreSQL's numeric stddev rounds it "
        "(653697.39166707)",
    "graphql_query/basic/select_query_author_col_not_present_err.yaml":
        "message of an older Hasura: field \"notPresentCol\" ...; later Hasura (and Tessera) write field 'notPresentCol' "
        "... (as select_placeholder_err.yaml of the same folder does)",
    "graphql_query/basic/select_query_non_tracked_table_err.yaml":
        "message of an older Hasura: field \"random\" ...; later Hasura (and Tessera) write field 'random' ...",
    "graphql_query/basic/select_query_batching_with_one_error.yaml":
        "message of an older Hasura: field \"does_not_exist\" ...; later Hasura (and Tessera) write field 'does_not_exist'",
    "graphql_query/limits/select_query_article_string_limit_error.yaml":
        "message of an older Hasura: expecting Integer value for \"limit\"; later Hasura writes expected a 32-bit "
        "integer for type \"Int\", but found a string (Tessera: ... type 'Int' ...)",
    "sqlite:graphql_query/basic/select_query_batching.yaml":
        "the SQLite setup makes user.id INTEGER PRIMARY KEY (SQLite fills in no BIGSERIAL), so it is no bigint there",
    "sqlite:graphql_query/basic/select_query_invalid_escape_sequence.yaml":
        "SQLite's LIKE has no escape character, so 'John\\' is a valid pattern and matches",
    "sqlite:graphql_mutation/update/basic/author_by_pk.yaml":
        "SQLite has no arrays: emails is text there, answered as the string set",
    "sqlite:graphql_mutation/delete/constraints/author_foreign_key_violation.yaml":
        "SQLite's foreign key errors name neither the constraint nor the tables",
}

# Where Tessera differs from Hasura's answer and should not: the engine's to-do list, one entry per case, expected
# to fail until fixed (strict, so a fix must remove its entry). TESSERA_HASURA_STRICT=1 runs them as plain tests.
ENGINE_GAPS = {
    "postgres:graphql_query/basic/select_query_invalid_escape_sequence.yaml":
        "an execution error answers without \"data\": null, and with code data-exception (case: bad-request)",
    "postgres:graphql_mutation/update/basic/author_by_pk.yaml":
        "a text[] column is bound as $1::text (PostgreSQL: column is of type text[] but expression is of type text)",
    "postgres:graphql_mutation/update/basic/author_by_pk_null.yaml": "as author_by_pk.yaml: text[] bound as text",
}
STRICT = os.environ.get("TESSERA_HASURA_STRICT") == "1"


def expected_failure(database: str, key: str):
    """The xfail mark for a case Tessera is known to fail, if it is one."""
    why = KNOWN_DIFFERENCES.get(f"{database}:{key}") or KNOWN_DIFFERENCES.get(key)
    if why:
        return [pytest.mark.xfail(reason=why, strict=True)]
    why = ENGINE_GAPS.get(f"{database}:{key}") or ENGINE_GAPS.get(key)
    if why and not STRICT:
        return [pytest.mark.xfail(reason="engine gap: " + why, strict=True)]
    return []


def is_support_file(name: str) -> bool:
    return "setup" in name or "teardown" in name


def databases():
    return ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def cases():
    params = []
    for database in databases():
        for folder in FOLDERS:
            for path in sorted((ROOT / folder).glob("*.yaml")):
                if is_support_file(path.name):
                    continue
                case = f"{folder}/{path.name}"
                params.append(pytest.param(database, folder, case, id=f"{database}:{case}",
                                           marks=expected_failure(database, case)))
    return params


# ---------------------------------------------------------------- servers, one per (database, folder)

class FolderServer:
    def __init__(self, database: str, folder: str):
        self.database, self.folder = database, folder
        self.db_name = None
        env = dict(os.environ)
        env["HASURA_GRAPHQL_ADMIN_SECRET"] = ADMIN_SECRET
        env.pop("HASURA_GRAPHQL_DATABASE_URL", None)
        if database == "postgres":
            self.db_name = "hasura_" + folder.replace("/", "_") + "_" + uuid.uuid4().hex[:8]
            psql(POSTGRES_URL, f'CREATE DATABASE "{self.db_name}"')
            parts = urlsplit(POSTGRES_URL)
            env["HASURA_GRAPHQL_DATABASE_URL"] = urlunsplit(parts._replace(path="/" + self.db_name))
        self.running = start_tessera(env=env, prefix="tessera-hasura-suite-")
        self.session = requests.Session()
        self.session.headers["x-hasura-admin-secret"] = ADMIN_SECRET
        for name in FOLDERS[folder].setup:
            self.run_setup_file(name)

    def stop(self):
        self.session.close()
        try:
            stop_tessera(self.running)
        finally:
            if self.db_name:
                psql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{self.db_name}"')

    def post(self, path: str, body, headers=None):
        return self.session.post(self.running.base + path.lstrip("/"), json=body, headers=headers or {},
                                 timeout=TIMEOUT)

    # -- Hasura's setup files

    def setup_path(self, name: str) -> Path:
        variant = ROOT / self.folder / name.replace(".yaml", f".{self.database}.yaml")
        return variant if variant.exists() else ROOT / self.folder / name

    def run_setup_file(self, name: str):
        path = self.setup_path(name)
        document = yaml.safe_load(path.read_text())
        steps = document["args"] if document.get("type") == "bulk" else [document]
        for index, step in enumerate(steps):
            self.run_step(step, f"{path.relative_to(ROOT)} step {index}")

    def run_step(self, step: dict, where: str):
        kind, args = step["type"], step.get("args", {})
        if kind == "run_sql":
            endpoint, body = "v2/query", {"type": "run_sql", "args": args}
        elif kind == "insert":
            endpoint, body = "v2/query", {"type": "run_sql", "args": {"sql": insert_sql(args)}}
        elif kind in METADATA_TYPES:
            endpoint, body = "v1/metadata", {"type": kind, "args": args}
        else:
            raise AssertionError(f"{where}: setup step type {kind!r} has no Tessera endpoint")
        response = self.post(endpoint, body)
        assert response.status_code == 200, (f"{where} ({self.database}): {kind} answered {response.status_code}: "
                                             f"{response.text}\n{json.dumps(body, indent=1)}")


def psql(url: str, statement: str):
    result = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", statement], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, f"psql {statement!r}: {result.stderr}"


def sql_literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    return "'" + str(value).replace("'", "''") + "'"


def insert_sql(args: dict) -> str:
    """Hasura v1 `insert` ({table, objects}) as INSERT statements, one per object (objects may name other columns)."""
    table = args["table"]
    name = table["name"] if isinstance(table, dict) else table
    statements = []
    for row in args["objects"]:
        columns = ", ".join('"' + column + '"' for column in row)
        values = ", ".join(sql_literal(value) for value in row.values())
        statements.append(f'INSERT INTO "{name}" ({columns}) VALUES ({values});')
    return "\n".join(statements)


@pytest.fixture(scope="module")
def servers():
    """At most one server at a time: the cases come grouped by database and folder, so a server stops when the
    next case belongs to another folder."""
    current = {}

    def get(database: str, folder: str) -> FolderServer:
        key = (database, folder)
        if key not in current:
            for server in current.values():
                server.stop()
            current.clear()
            current[key] = FolderServer(database, folder)
        return current[key]

    yield get
    for server in current.values():
        server.stop()


# ---------------------------------------------------------------- comparing as Hasura's harness does

MISSING = "<missing>"


def comparable(actual, expected):
    """`actual` reduced to what the case asserts: for an expected error answer, each error's message, code and path."""
    if isinstance(expected, list) and isinstance(actual, list) and len(actual) == len(expected):
        return [comparable(a, e) for a, e in zip(actual, expected)]
    if isinstance(expected, dict) and "errors" in expected and isinstance(actual, dict):
        reduced = {"errors": [error_triple(error) for error in actual.get("errors") or []]}
        if "data" in expected:
            reduced["data"] = actual.get("data", MISSING)
        return reduced
    return actual


def error_triple(error):
    if not isinstance(error, dict):
        return error
    extensions = error.get("extensions") or {}
    return {"message": error.get("message", MISSING), "code": extensions.get("code", MISSING),
            "path": extensions.get("path", MISSING)}


def check_case(server: FolderServer, conf: dict, label: str):
    headers = {str(key): str(value) for key, value in (conf.get("headers") or {}).items()}
    response = server.post(conf["url"], conf["query"], headers)
    try:
        actual = response.json()
    except ValueError:
        actual = response.text
    assert response.status_code == conf["status"], (
        f"{label}: status {response.status_code}, expected {conf['status']}\n"
        f"answer: {json.dumps(actual, indent=1, ensure_ascii=False)}")
    if conf.get("response"):
        expected = comparable(conf["response"], conf["response"])
        got = comparable(actual, conf["response"])
        assert got == expected, (
            f"{label}: answer differs\n--- differences (path: expected != got) ---\n"
            + "\n".join(differences(expected, got)) +
            f"\n--- expected ---\n{compact(expected)}\n--- got ---\n{compact(got)}")


def compact(value, limit=4000) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def differences(expected, got, path="$", found=None, limit=15):
    """The paths where two JSON values differ, at most `limit` of them."""
    found = [] if found is None else found
    if len(found) >= limit:
        return found
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in list(expected) + [k for k in got if k not in expected]:
            if key not in got:
                found.append(f"{path}.{key}: {compact(expected[key], 300)} != <absent>")
            elif key not in expected:
                found.append(f"{path}.{key}: <absent> != {compact(got[key], 300)}")
            else:
                differences(expected[key], got[key], f"{path}.{key}", found, limit)
    elif isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        for index, (e, g) in enumerate(zip(expected, got)):
            differences(e, g, f"{path}[{index}]", found, limit)
    elif expected != got or type(expected) is not type(got) and not (
            isinstance(expected, (int, float)) and isinstance(got, (int, float)) and not isinstance(got, bool)):
        if expected != got:
            found.append(f"{path}: {compact(expected, 300)} != {compact(got, 300)}")
    return found[:limit]


@pytest.mark.parametrize("database,folder,case", cases())
def test_hasura_case(servers, database, folder, case):
    run_case_file(servers(database, folder), FOLDERS[folder], database, case)


def run_case_file(server, spec, database, case):
    """Runs one case file (one case or a list) on a folder's server, between its before/after-each setups."""
    confs = yaml.safe_load((ROOT / case).read_text())
    confs = confs if isinstance(confs, list) else [confs]
    for name in spec.before_each:
        server.run_setup_file(name)
    failures = []
    try:
        # Every case of a list file runs, in order, so that one report shows all that differ.
        for index, conf in enumerate(confs):
            try:
                check_case(server, conf, f"{database}:{case}" + (f" [{index}]" if len(confs) > 1 else ""))
            except AssertionError as failure:
                failures.append(str(failure))
        assert not failures, "\n\n".join(failures)
    finally:
        for name in spec.after_each:
            server.run_setup_file(name)


@pytest.mark.parametrize("database", [
    pytest.param(database, id=database,
                 marks=expected_failure(database, "teardown-then-setup:graphql_mutation/insert/constraints"))
    for database in databases()])
def test_teardown_then_setup_again(servers, database):
    """Hasura's harness tears a folder down and sets it up again between cases: its teardown drops tracked tables
    with run_sql (graphql_mutation/insert/constraints/teardown.yaml), and its setup tracks them again."""
    server = servers(database, "graphql_mutation/insert/constraints")
    server.run_setup_file("teardown.yaml")
    server.run_setup_file("setup.yaml")
    response = server.post("v1/graphql", {"query": "{ author { id } resident { id } address { id } }"})
    assert response.json() == {"data": {"author": [], "resident": [], "address": []}}, response.text


def test_enough_cases_are_ported():
    count = sum(1 for folder in FOLDERS for path in (ROOT / folder).glob("*.yaml") if not is_support_file(path.name))
    assert count >= 45, count
