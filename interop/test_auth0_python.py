"""Auth0's own Python SDK (`auth0-python`, its Management API client, unmodified) against Tessera's Management API:
the query strings it builds (`q` with spaces and quotes, `include_totals`, paging) reach the one decoder every route
shares. The SDK only speaks https to `https://{domain}/api/v2`; a transport that sends its requests over plain http to
the loopback server stands in for TLS."""

import httpx
import pytest
from auth0.management import ManagementClient

from conftest import admin_token, fetch_token  # noqa: F401  (fixture)


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
