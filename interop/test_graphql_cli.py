"""`tessera graphql` against a running server, as the Hasura CLI is used on a project: migrations applied once each,
metadata applied from and exported into the v3 directory layout, and a query from the terminal."""
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import EXAMPLES_DIR, _binary, remember_secret, start_tessera, stop_tessera

SECRET = "cli-secret-" + uuid.uuid4().hex
remember_secret(SECRET)


@pytest.fixture(scope="module")
def base():
    running = start_tessera(env=dict(os.environ, HASURA_GRAPHQL_ADMIN_SECRET=SECRET))
    try:
        yield running.base.rstrip("/")
    finally:
        stop_tessera(running)


def cli(base, *args, secret=SECRET):
    return subprocess.run([_binary(), "graphql", *args, "--endpoint", base, "--admin-secret", secret],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_project_round_trip(base, tmp_path):
    project = tmp_path / "hasura"
    shutil.copytree(EXAMPLES_DIR / "hasura", project)
    extra = project / "migrations" / "default" / "1800000000000_posts"
    extra.mkdir()
    (extra / "up.sql").write_text('CREATE TABLE posts (id INTEGER PRIMARY KEY, "userId" TEXT REFERENCES users("userId"), body TEXT);\n'
                                  "INSERT INTO posts (id, body) VALUES (1, 'it''s; tricky -- not a comment');\n")
    first = cli(base, "migrate", "apply", "--project", str(project))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["applied 1733300000000_create_table_public_users", "applied 1800000000000_posts",
                                         "2 migration(s) applied"]
    again = cli(base, "migrate", "apply", "--project", str(project))
    assert again.returncode == 0 and again.stdout.strip() == "nothing to apply", again.stdout + again.stderr

    applied = cli(base, "metadata", "apply", "--project", str(project))
    assert applied.returncode == 0, applied.stderr
    query = cli(base, "query", 'mutation($id: String!) { insert_users_one(object: {userId: $id}) { userId userName } }',
                "--variables", json.dumps({"id": "u1"}))
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout) == {"data": {"insert_users_one": {"userId": "u1", "userName": None}}}

    exported = tmp_path / "exported"
    result = cli(base, "metadata", "export", "--project", str(exported))
    assert result.returncode == 0, result.stderr
    files = sorted(str(path.relative_to(exported)) for path in exported.rglob("*") if path.is_file())
    assert files == ["metadata/databases/databases.yaml", "metadata/databases/default/tables/public_users.yaml",
                     "metadata/databases/default/tables/tables.yaml", "metadata/version.yaml"]
    table = (exported / "metadata/databases/default/tables/public_users.yaml").read_text()
    assert "X-Hasura-User-Id" in table, "the permission written in the project comes back"
    assert "!include public_users.yaml" in (exported / "metadata/databases/default/tables/tables.yaml").read_text()


def test_errors_are_clear(base, tmp_path):
    failed = cli(base, "query", "{ nope }")
    assert failed.returncode != 0
    assert json.loads(failed.stdout)["errors"][0]["message"] == "field 'nope' not found in type: 'query_root'"
    denied = cli(base, "metadata", "export", "--project", str(tmp_path / "x"), secret="wrong")
    assert denied.returncode != 0 and "invalid x-hasura-admin-secret" in denied.stderr, denied.stderr
    missing = cli(base, "metadata", "apply", "--project", str(tmp_path / "nowhere"))
    assert missing.returncode != 0 and "databases.yaml does not exist" in missing.stderr, missing.stderr
