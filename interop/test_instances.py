"""Two Tessera instances on one PostgreSQL database, as behind a load balancer: what an administrator changes on one
with auth0-python (a rotated client secret, a deleted client grant, a re-bound post-login flow) is what the other
answers to authlib's clients from then on, within the 30 s bound each instance's in-memory copies promise (in practice
milliseconds: PostgreSQL's NOTIFY). Skipped when TESSERA_TEST_POSTGRES_URL is unset."""
import os
import secrets
import time
import uuid

import httpx
import jwt
import pytest
from auth0.management import ManagementClient
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from conftest import (STRONG_PASSWORD, TIMEOUT, fetch_token, postgres_database, remember_secret, serve_module,
                      start_tessera, stop_tessera)
from test_auth0_python import PlainHTTP

BOUND = 30  # seconds: StoreChanges.staleness
API = "https://instances.interop/"


@pytest.fixture(scope="module")
def instances():
    """(first, second): the first a `TesseraServer` with the bootstrap admin client, the second the base URL of
    another instance on the same database."""
    env = dict(os.environ, TESSERA_BCRYPT_COST="4", TESSERA_MASTER_KEY="instances-master-key-" + secrets.token_urlsafe(24))
    remember_secret(env["TESSERA_MASTER_KEY"])
    with postgres_database("instances_interop_") as database_url:
        for first in serve_module("--database", database_url, env=env):
            second = start_tessera("--database", database_url, env=env)
            try:
                yield first, second.base
            finally:
                stop_tessera(second)


@pytest.fixture(scope="module")
def sdk(instances):
    first, _ = instances
    domain = first.base_url.split("://", 1)[1].rstrip("/")
    token = fetch_token(first, first.client_id, first.client_secret)
    return ManagementClient(domain=domain, token=token, httpx_client=httpx.Client(transport=PlainHTTP(), timeout=TIMEOUT))


@pytest.fixture(scope="module")
def api(sdk):
    return sdk.resource_servers.create(name="Instances API", identifier=API, scopes=[{"value": "read:rows"}])


def machine_token(base: str, client_id: str, client_secret: str, **extra) -> dict:
    """A token from `base` with authlib's client-credentials flow (client_secret_post, as Auth0 clients send it)."""
    session = OAuth2Session(client_id, client_secret, token_endpoint_auth_method="client_secret_post")
    try:
        return session.fetch_token(base + "oauth/token", grant_type="client_credentials", audience=API, timeout=TIMEOUT,
                                   **extra)
    finally:
        session.close()


def refusal(base: str, client_id: str, client_secret: str):
    """The OAuth error a client-credentials request gets from `base`, or None when it gets a token."""
    try:
        machine_token(base, client_id, client_secret)
        return None
    except OAuthError as error:
        return error.error


def within_bound(condition) -> float:
    """Seconds until `condition()` holds, failing after the bound."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < BOUND, "the other instance still answered from its old copy after 30 s"
        time.sleep(0.02)
    return time.monotonic() - started


def test_a_secret_rotated_on_one_instance_is_refused_by_the_other(instances, sdk, api):
    first, second = instances
    client = sdk.clients.create(name="Rotated " + uuid.uuid4().hex[:6], app_type="non_interactive")
    remember_secret(client.client_secret)
    sdk.client_grants.create(client_id=client.client_id, audience=API, scope=["read:rows"])
    # The second instance has the client in memory.
    assert machine_token(second, client.client_id, client.client_secret)["access_token"]

    rotated = sdk.clients.rotate_secret(client.client_id)
    remember_secret(rotated.client_secret)
    assert refusal(first.base_url, client.client_id, client.client_secret) == "invalid_client"
    within_bound(lambda: refusal(second, client.client_id, client.client_secret) == "invalid_client")
    token = machine_token(second, client.client_id, rotated.client_secret)
    assert jwt.decode(token["access_token"], options={"verify_signature": False})["scope"] == "read:rows"


def test_a_grant_deleted_on_one_instance_is_refused_by_the_other(instances, sdk, api):
    _, second = instances
    client = sdk.clients.create(name="Granted " + uuid.uuid4().hex[:6], app_type="non_interactive")
    remember_secret(client.client_secret)
    grant = sdk.client_grants.create(client_id=client.client_id, audience=API, scope=["read:rows"])
    assert machine_token(second, client.client_id, client.client_secret)["access_token"]

    sdk.client_grants.delete(grant.id)
    within_bound(lambda: refusal(second, client.client_id, client.client_secret) == "access_denied")


def test_a_flow_rebound_on_one_instance_runs_on_the_other(instances, sdk, api):
    _, second = instances
    web = sdk.clients.create(name="Web " + uuid.uuid4().hex[:6], app_type="regular_web",
                             grant_types=["password"], callbacks=["http://127.0.0.1:9/callback"])
    remember_secret(web.client_secret)
    email = f"instances-{uuid.uuid4().hex[:6]}@example.com"
    sdk.users.create(connection="Username-Password-Authentication", email=email, password=STRONG_PASSWORD)
    ids = []
    for stamp in ("first", "second"):
        action = sdk.actions.create(
            name=f"Stamp {stamp} {uuid.uuid4().hex[:6]}", supported_triggers=[{"id": "post-login", "version": "v3"}],
            code="exports.onExecutePostLogin = async (event, api) => {"
                 f" api.accessToken.setCustomClaim('https://instances.interop/stamp', '{stamp}'); }};")
        sdk.actions.deploy(action.id)
        ids.append(action.id)

    def stamp() -> str:
        session = OAuth2Session(web.client_id, web.client_secret, token_endpoint_auth_method="client_secret_post")
        try:
            token = session.fetch_token(second + "oauth/token", grant_type="password", username=email,
                                        password=STRONG_PASSWORD, audience=API, scope="openid", timeout=TIMEOUT)
        finally:
            session.close()
        return jwt.decode(token["access_token"], options={"verify_signature": False}).get("https://instances.interop/stamp")

    try:
        sdk.actions.triggers.bindings.update_many("post-login", bindings=[{"ref": {"type": "action_id", "value": ids[0]}}])
        within_bound(lambda: stamp() == "first")
        sdk.actions.triggers.bindings.update_many("post-login", bindings=[{"ref": {"type": "action_id", "value": ids[1]}}])
        within_bound(lambda: stamp() == "second")
    finally:
        sdk.actions.triggers.bindings.update_many("post-login", bindings=[])
