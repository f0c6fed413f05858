"""Auth0's own Python SDK (`auth0-python`, its Management API client, unmodified) against Tessera's Management API:
the query strings it builds (`q` with spaces and quotes, `include_totals`, paging) reach the one decoder every route
shares. The SDK only speaks https to `https://{domain}/api/v2`; a transport that sends its requests over plain http to
the loopback server stands in for TLS."""

import uuid

import httpx
import pytest
from auth0.management import ManagementClient

from conftest import admin_token, fetch_token  # noqa: F401  (fixture)
from test_actions import Flow
from test_marketplace_actions import ACTIONS, Attempt, MFAPage
from test_signin import discovery, spa  # noqa: F401  (fixtures)


class PlainHTTP(httpx.HTTPTransport):
    """Sends the SDK's https requests to the loopback server over http, unchanged otherwise."""

    def handle_request(self, request):
        request.url = request.url.copy_with(scheme="http")
        return super().handle_request(request)


@pytest.fixture
def management(server):
    token = fetch_token(server, server.client_id, server.client_secret)
    domain = server.base_url.split("://", 1)[1].rstrip("/")
    return ManagementClient(domain=domain, token=token, httpx_client=httpx.Client(transport=PlainHTTP(), timeout=10))


def test_users_created_searched_and_read_with_the_sdk(management):
    created = management.users.create(connection="Username-Password-Authentication", email="ada+sdk@example.com",
                                      password="Correct-Horse-9", name="Ada Lovelace SDK", app_metadata={"plan": "sdk pro"})
    assert created.user_id.startswith("auth0|")
    found = list(management.users.list(q='name:"Ada Lovelace SDK" AND app_metadata.plan:"sdk pro"'))
    assert [user.user_id for user in found] == [created.user_id]
    assert list(management.users.list(q='email:"ada+sdk@example.com"'))[0].email == "ada+sdk@example.com"
    assert management.users.get(created.user_id).name == "Ada Lovelace SDK"
    assert list(management.users.list(q='name:"Nobody At All"')) == []


def test_authentication_methods_listed_read_and_reset_with_the_sdk(server, admin, management, discovery, spa):  # noqa: F811
    """A user enrolls an authenticator app through the hosted page (an Action asks for MFA); the SDK's
    users.authentication_methods then lists (paged, with totals, as it asks), reads and deletes the factors."""
    user = management.users.create(connection="Username-Password-Authentication", email=f"mfa-{uuid.uuid4().hex[:8]}@example.com",
                                   password="Correct-Horse-9")
    flow = Flow(server, admin)
    try:
        flow.bind({"name": "MFA", "code": (ACTIONS / "mfa-once-per-session.js").read_text()})
        attempt = Attempt(discovery, spa)
        _, _, done = MFAPage(server, attempt.browser, attempt.login(user.email, "Correct-Horse-9")).enrol()
        assert attempt.tokens(done)[0]["amr"] == ["mfa"]
    finally:
        flow.close()

    methods = list(management.users.authentication_methods.list(user.user_id))
    assert sorted(method.type for method in methods) == ["recovery-code", "totp"]
    assert all(method.confirmed for method in methods)
    totp = next(method for method in methods if method.type == "totp")
    assert management.users.authentication_methods.get(user.user_id, totp.id).type == "totp"
    management.users.authentication_methods.delete(user.user_id, totp.id)
    assert [method.type for method in management.users.authentication_methods.list(user.user_id)] == ["recovery-code"]
    management.users.authentication_methods.delete_all(user.user_id)
    assert list(management.users.authentication_methods.list(user.user_id)) == []
