"""Seed 004 on the example tenant (`make run`): the sync Action, the seed's code with only its URL and secret swapped,
upserts the signed-in user into the GraphQL engine's `users` table through /v1/graphql during real sign-ins, and a
second sign-in takes the `on_conflict` path on the same row."""
import os
import uuid

import requests

import pytest

from conftest import DEMO_DIRECTORY_ENV, DEMO_HASURA_SECRET, TIMEOUT, example_tenant, serve_module
from test_signin import sign_in, spa, user  # noqa: F401

GRAPHQL_API = "https://graphql.example/"  # the example tenant's API (seed 004's audience)


@pytest.fixture(scope="module")
def server():
    env = dict(os.environ, **DEMO_DIRECTORY_ENV, TINYBIRD_ADMIN_TOKEN="demo-admin-token-change-me-0123456789abcdef",
               TESSERA_DEMO_PASSWORD="Demo-Passw0rd-interop!", HASURA_GRAPHQL_ADMIN_SECRET=DEMO_HASURA_SECRET)
    yield from serve_module("--apply", example_tenant, env=lambda base: dict(env, TESSERA_URL=base.rstrip("/")))


@pytest.fixture(scope="module")
def discovery(server):
    return requests.get(server.url(".well-known/openid-configuration"), timeout=TIMEOUT).json()


def graphql(server, query, variables=None, secret=DEMO_HASURA_SECRET):
    response = requests.post(server.url("v1/graphql"), json={"query": query, "variables": variables or {}},
                             headers={"x-hasura-admin-secret": secret}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


ROW = "query Row($id: String!) { users_by_pk(userId: $id) { userId userName lastSeen } users_aggregate { aggregate { count } } }"


def test_sign_ins_upsert_the_user_through_graphql(server, discovery, spa, user):  # noqa: F811
    before = graphql(server, ROW, {"id": user["user_id"]})
    assert before == {"data": {"users_by_pk": None, "users_aggregate": {"aggregate": {"count": 0}}}}

    sign_in(discovery, spa, user["email"], user["password"], audience=GRAPHQL_API)
    first = graphql(server, ROW, {"id": user["user_id"]})["data"]
    row = first["users_by_pk"]
    assert row["userId"] == user["user_id"] and row["userName"] is None, first
    assert row["lastSeen"], "lastSeen takes its default, now"
    assert first["users_aggregate"] == {"aggregate": {"count": 1}}

    # Mark the row, then sign in again: the Action's on_conflict (constraint users_pkey, update_columns userName)
    # must update this same row rather than insert a second one or fail on the primary key.
    marked = graphql(server, 'mutation($id: String!) { update_users_by_pk(pk_columns: {userId: $id}, _set: {userName: "stale"}) { userName } }',
                     {"id": user["user_id"]})
    assert marked == {"data": {"update_users_by_pk": {"userName": "stale"}}}
    sign_in(discovery, spa, user["email"], user["password"], audience=GRAPHQL_API)
    second = graphql(server, ROW, {"id": user["user_id"]})["data"]
    assert second["users_by_pk"] == {"userId": user["user_id"], "userName": None, "lastSeen": row["lastSeen"]}
    assert second["users_aggregate"] == {"aggregate": {"count": 1}}


def bearer(server, query, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.post(server.url("v1/graphql"), json={"query": query}, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_access_token_reads_only_its_own_row(server, discovery, spa, user, admin):  # noqa: F811
    # Seed 004's last steps: the user role reads its own row with the Bearer token, and nothing without it.
    other = admin.post(server.url("api/v2/users"), json={"connection": "Username-Password-Authentication",
                                                         "email": f"other-{uuid.uuid4().hex[:8]}@example.com",
                                                         "password": "Passw0rd-Ok"}, timeout=TIMEOUT).json()
    sign_in(discovery, spa, other["email"], "Passw0rd-Ok", audience=GRAPHQL_API)
    result = sign_in(discovery, spa, user["email"], user["password"], audience=GRAPHQL_API)
    token = result.token["access_token"]
    rows = bearer(server, "{ users { userId } }", token)
    assert rows == {"data": {"users": [{"userId": user["user_id"]}]}}, rows
    assert graphql(server, "{ users_aggregate { aggregate { count } } }")["data"]["users_aggregate"]["aggregate"]["count"] >= 2
    assert bearer(server, "{ users { userId } }", None) == {"errors": [{
        "message": "Missing 'Authorization' or 'Cookie' header in JWT authentication mode",
        "extensions": {"path": "$", "code": "invalid-headers"}}]}
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert bearer(server, "{ users { userId } }", forged)["errors"][0]["extensions"]["code"] == "invalid-jwt"


def test_the_engine_refuses_a_wrong_admin_secret(server):
    answer = graphql(server, "{ users { userId } }", secret="not-the-secret")
    assert answer == {"errors": [{"message": "invalid x-hasura-admin-secret/x-hasura-access-key",
                                  "extensions": {"path": "$", "code": "access-denied"}}]}
