"""The seeds' post-login Actions, byte for byte from examples/actions/, running in a real sign-in:
PyJWT verifies the Tinybird JWT that seed 000 puts in the ID token with the workspace admin token (HS256)."""
import time
from pathlib import Path

import jwt
import pytest

from conftest import TIMEOUT
from test_signin import discovery, sign_in, spa, user  # noqa: F401  (fixtures)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "actions"
ADMIN_TOKEN = "p.interop-admin-token-with-enough-entropy-0123456789"


@pytest.fixture
def tinybird_flow(server, admin):
    """Creates, deploys and binds the seed 000 action; unbinds it afterwards so other tests sign in plainly."""
    created = admin.post(server.url("api/v2/actions/actions"), json={
        "name": "Tinybird JWT (interop)",
        "supported_triggers": [{"id": "post-login", "version": "v3"}],
        "code": (EXAMPLES / "tinybird-jwt.js").read_text(),
        "dependencies": [{"name": "jsonwebtoken", "version": "9.0.2"}],
        "secrets": [{"name": "TINYBIRD_ADMIN_TOKEN", "value": ADMIN_TOKEN}],
        "configuration": {"TINYBIRD_WORKSPACE_ID": "ws-interop", "TINYBIRD_PIPE_NAMES": "sales_by_city,top_days"},
    }, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    assert ADMIN_TOKEN not in created.text
    action_id = created.json()["id"]
    assert admin.post(server.url(f"api/v2/actions/actions/{action_id}/deploy"), timeout=TIMEOUT).status_code == 201
    bound = admin.patch(server.url("api/v2/actions/triggers/post-login/bindings"), json={
        "bindings": [{"ref": {"type": "action_id", "value": action_id}, "display_name": "Tinybird JWT"}]}, timeout=TIMEOUT)
    assert bound.status_code == 200, bound.text
    yield action_id
    admin.patch(server.url("api/v2/actions/triggers/post-login/bindings"), json={"bindings": []}, timeout=TIMEOUT)
    admin.delete(server.url(f"api/v2/actions/actions/{action_id}"), timeout=TIMEOUT)


def test_seed_tinybird_action_in_a_real_sign_in(server, admin, discovery, spa, user, tinybird_flow):
    result = sign_in(discovery, spa, user["email"], user["password"])
    id_claims = jwt.decode(result.token["id_token"], options={"verify_signature": False})
    tinybird = id_claims["https://app.tinybird.co"]

    claims = jwt.decode(tinybird, ADMIN_TOKEN, algorithms=["HS256"])
    assert claims["workspace_id"] == "ws-interop"
    assert claims["name"] == f"tinybird_jwt_{user['user_id']}"
    assert claims["scopes"] == [{"type": "PIPES:READ", "resource": "sales_by_city"},
                                {"type": "PIPES:READ", "resource": "top_days"}]
    assert abs(claims["exp"] - (time.time() + 7 * 86400)) < 120
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tinybird, "not-the-admin-token-not-the-admin-token", algorithms=["HS256"])

    profile = admin.get(server.url(f"api/v2/users/{user['user_id']}"), timeout=TIMEOUT).json()
    assert profile["app_metadata"]["tinybirdJWT"] == tinybird

    listed = admin.get(server.url("api/v2/actions/actions"), timeout=TIMEOUT)
    assert ADMIN_TOKEN not in listed.text
