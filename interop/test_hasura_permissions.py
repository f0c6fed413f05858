"""Hasura's own permission test cases (hasura/graphql-engine, server/tests-py/queries/graphql_query/permissions/ and
server/tests-py/queries/graphql_mutation/insert/permissions/), run against Tessera.

The case files are byte-for-byte copies of Hasura's (see the README.md in each folder for where they come from).
This module reuses test_hasura_suite's machinery (server per database and folder, setup-file runner, comparison
as Hasura's harness does it) and adds what permissions need:
  - metadata steps create_{select,insert,update,delete}_permission (and their pg_ forms) go to /v1/metadata;
  - each case is sent with its own headers (X-Hasura-Role, X-Hasura-User-Id, other X-Hasura-* session variables)
    plus the admin secret, as Hasura's harness does: the admin secret may act as any role, with the x-hasura-*
    headers as the session. A case without headers runs as the admin.

Setup: Hasura's setup files need PostGIS, SQL functions (computed fields, tracked functions) and operators Tessera
does not have, so each folder's setup runs from adapted files beside the cases (setup.sqlite.yaml /
setup.postgres.yaml, schema_setup.sqlite.yaml / schema_setup.postgres.yaml); their header comments say what was
changed. The insert folder is reset around every case file as Hasura's harness does it (per_method_tests_db_state):
schema_setup once, values_setup before and values_teardown after each case.

Cases Tessera cannot pass are listed in KNOWN_DIFFERENCES (Hasura changed since the copied version, or the database
differs) and ENGINE_GAPS (features Tessera lacks), each expected to fail (xfail, strict: a case that starts passing
must leave the list).
"""
import os

import pytest

import test_hasura_suite as suite
from test_hasura_suite import ROOT, Folder, FolderServer, databases, is_support_file, run_case_file

PERMISSION_TYPES = {f"{prefix}create_{kind}_permission" for prefix in ("", "pg_")
                    for kind in ("select", "insert", "update", "delete")} | {
    f"{prefix}drop_{kind}_permission" for prefix in ("", "pg_") for kind in ("select", "insert", "update", "delete")}

FOLDERS = {
    "graphql_query/permissions": Folder(setup=["setup.yaml"]),
    "graphql_mutation/insert/permissions": Folder(setup=["schema_setup.yaml"], before_each=["values_setup.yaml", "users_setup.yaml"],
                                                  after_each=["values_teardown.yaml"]),
}

Q = "graphql_query/permissions/"
I = "graphql_mutation/insert/permissions/"

# Keys: a case path (relative to interop/hasura/queries) for both databases, or "sqlite:<path>" / "postgres:<path>".
KNOWN_DIFFERENCES = {
    Q + "user_can_query_geometry_values_filter.yaml":
        "needs PostGIS (geometry column, $st_d_within), which neither SQLite nor the test PostgreSQL has: geom_table "
        "is left out of the adapted setups",
    Q + "user_can_query_geometry_values_filter_session_vars.yaml": "as user_can_query_geometry_values_filter.yaml",
    I + "user_insert_account_fail.yaml":
        "message and path of an older Hasura: 'Check constraint violation. insert/update check constraint failed' at "
        "$.selectionSet.insert_account.args.objects; later Hasura (and Tessera) answer 'check constraint of an "
        "insert/update permission has failed' at $",
    I + "user_with_no_backend_privilege.yaml":
        "message of an older Hasura: field \"insert_user\" ...; later Hasura (and Tessera) write field 'insert_user' ...",
}

ENGINE_GAPS = {
    Q + "iregex.yaml": "no _iregex operator (its permission is left out of the adapted setup)",
    Q + "jsonb_has_all.yaml": "no jsonb operators ($has_keys_all; its permission is left out of the adapted setup)",
    Q + "jsonb_has_any.yaml": "no jsonb operators ($has_keys_any; its permission is left out of the adapted setup)",
    Q + "reader_author.yaml": "no computed fields (the reader permission filters on get_articles)",
    Q + "tutor_get_students.yaml": "no computed fields (the tutor permission filters on total_marks)",
    Q + "tutor_get_students_session.yaml": "no computed fields (total_marks, total_marks_offset)",
    Q + "artist_search_tracks.yaml": "no tracked SQL functions (search_tracks)",
    Q + "staff_passed_students.yaml": "no tracked SQL functions (passed_students)",
}
STRICT = os.environ.get("TESSERA_HASURA_STRICT") == "1"


def expected_failure(database: str, key: str):
    why = KNOWN_DIFFERENCES.get(f"{database}:{key}") or KNOWN_DIFFERENCES.get(key)
    if why:
        return [pytest.mark.xfail(reason=why, strict=True)]
    why = ENGINE_GAPS.get(f"{database}:{key}") or ENGINE_GAPS.get(key)
    if why and not STRICT:
        return [pytest.mark.xfail(reason="engine gap: " + why, strict=True)]
    return []


def case_files(folder: str):
    return [path for path in sorted((ROOT / folder).glob("*.yaml")) if not is_support_file(path.name)]


def cases():
    return [pytest.param(database, folder, f"{folder}/{path.name}", id=f"{database}:{folder}/{path.name}",
                         marks=expected_failure(database, f"{folder}/{path.name}"))
            for database in databases() for folder in FOLDERS for path in case_files(folder)]


class PermissionFolderServer(FolderServer):
    """test_hasura_suite's FolderServer, set up from this module's FOLDERS and taking permission metadata steps."""

    def __init__(self, database: str, folder: str):
        saved = suite.FOLDERS.get(folder)
        suite.FOLDERS[folder] = FOLDERS[folder]  # FolderServer.__init__ reads the folder's setup list from there
        try:
            super().__init__(database, folder)
        finally:
            if saved is None:
                suite.FOLDERS.pop(folder, None)
            else:
                suite.FOLDERS[folder] = saved

    def run_step(self, step: dict, where: str):
        if step["type"] in PERMISSION_TYPES:
            response = self.post("v1/metadata", {"type": step["type"], "args": step.get("args", {})})
            assert response.status_code == 200, (f"{where} ({self.database}): {step['type']} answered "
                                                 f"{response.status_code}: {response.text}")
            return
        super().run_step(step, where)


@pytest.fixture(scope="module")
def servers():
    """One server at a time, as in test_hasura_suite."""
    current = {}

    def get(database: str, folder: str) -> PermissionFolderServer:
        key = (database, folder)
        if key not in current:
            for server in current.values():
                server.stop()
            current.clear()
            current[key] = PermissionFolderServer(database, folder)
        return current[key]

    yield get
    for server in current.values():
        server.stop()


@pytest.mark.parametrize("database,folder,case", cases())
def test_hasura_permission_case(servers, database, folder, case):
    run_case_file(servers(database, folder), FOLDERS[folder], database, case)


def test_enough_cases_are_ported():
    count = sum(len(case_files(folder)) for folder in FOLDERS)
    assert count >= 30, count
