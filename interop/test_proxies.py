"""Behind a reverse proxy (here: this test, on loopback, adding X-Forwarded-For as nginx does): with
`--trusted-proxies 127.0.0.1`, ten failed sign-ins from one forwarded client address throttle that address and not the
proxy's other clients, and `last_ip` is the client's. Without it, the header is ignored: a client cannot pick the
address its failures count against."""

import json
import os
import uuid

import requests

from conftest import STRONG_PASSWORD, TIMEOUT, fetch_token, remember_secret, start_tessera, stop_tessera


class Server:
    def __init__(self, running):
        self.base = running.base
        with open(os.path.join(running.data_dir, "admin-client.json")) as handle:
            self.credentials = json.load(handle)
        remember_secret(self.credentials["client_secret"])
        self.audience = self.credentials.get("audience", self.base + "api/v2/")

    def url(self, path):
        return self.base + path


def password_client_and_user(server):
    admin = {"Authorization": "Bearer " + fetch_token(server, server.credentials["client_id"], server.credentials["client_secret"])}
    client = requests.post(server.url("api/v2/clients"), headers=admin, timeout=TIMEOUT, json={
        "name": "proxy-" + uuid.uuid4().hex[:6], "app_type": "regular_web", "grant_types": ["password"]}).json()
    remember_secret(client["client_secret"])
    email = f"proxy-{uuid.uuid4().hex[:8]}@example.com"
    user = requests.post(server.url("api/v2/users"), headers=admin, timeout=TIMEOUT, json={
        "connection": "Username-Password-Authentication", "email": email, "password": STRONG_PASSWORD})
    assert user.status_code == 201, user.text
    return admin, client, email, user.json()["user_id"]


def sign_in(server, client, email, password, forwarded_for):
    return requests.post(server.url("oauth/token"), headers={"X-Forwarded-For": forwarded_for}, timeout=TIMEOUT, data={
        "grant_type": "password", "client_id": client["client_id"], "client_secret": client["client_secret"],
        "username": email, "password": password})


def fail_ten_times(server, client, email, forwarded_for):
    for _ in range(10):
        failed = sign_in(server, client, email, "Wrong-Passw0rd", forwarded_for)
        assert failed.status_code in (400, 403) and failed.json()["error"] == "invalid_grant", failed.text


def test_trusted_proxy_throttles_the_forwarded_client_only():
    running = start_tessera("--trusted-proxies", "127.0.0.1, ::1")
    try:
        server = Server(running)
        admin, client, email, user_id = password_client_and_user(server)
        # The proxy appends the peer it saw; a client's own X-Forwarded-For entry on the left does not count.
        attacker = "spoofed-by-client, 203.0.113.7"
        fail_ten_times(server, client, email, attacker)
        blocked = sign_in(server, client, email, STRONG_PASSWORD, "203.0.113.7")
        assert blocked.status_code != 200 and "blocked" in blocked.json()["error_description"], blocked.text
        other = sign_in(server, client, email, STRONG_PASSWORD, "198.51.100.9")
        assert other.status_code == 200, other.text
        user = requests.get(server.url(f"api/v2/users/{user_id}"), headers=admin, timeout=TIMEOUT).json()
        assert user["last_ip"] == "198.51.100.9", user
    finally:
        stop_tessera(running)


def test_untrusted_peer_cannot_choose_its_address():
    running = start_tessera()
    try:
        server = Server(running)
        _, client, email, _ = password_client_and_user(server)
        fail_ten_times(server, client, email, "203.0.113.7")
        # The header was ignored: the failures counted against the peer (127.0.0.1), whatever it claims next.
        again = sign_in(server, client, email, STRONG_PASSWORD, "198.51.100.9")
        assert again.status_code != 200 and "blocked" in again.json()["error_description"], again.text
    finally:
        stop_tessera(running)
