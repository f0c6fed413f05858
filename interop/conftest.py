"""Fixtures for the Tessera interop suite.

One Tessera server is started per test session, on a free port, with a fresh data folder.
The binary is /work/main/.build/debug/tessera unless TESSERA_BIN says otherwise.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

TIMEOUT = 10
STARTUP_TIMEOUT = 60
DEFAULT_BIN = Path(__file__).resolve().parent.parent / ".build" / "debug" / "tessera"


@dataclass
class TesseraServer:
    base_url: str  # ends with "/"
    issuer: str  # ends with "/"
    client_id: str
    client_secret: str
    data_dir: str
    audience: str  # the Management API audience: issuer + "api/v2/"
    stderr_path: str

    @property
    def admin_client_id(self) -> str:
        return self.client_id

    @property
    def admin_client_secret(self) -> str:
        return self.client_secret

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _binary() -> str:
    path = os.environ.get("TESSERA_BIN") or str(DEFAULT_BIN)
    # The binary may be briefly missing while another engineer rebuilds it.
    deadline = time.monotonic() + 30
    while not os.access(path, os.X_OK):
        if time.monotonic() > deadline:
            pytest.fail(f"Tessera binary not found or not executable: {path}")
        time.sleep(2)
    return path


def _tail(path: str, lines: int = 40) -> str:
    try:
        with open(path, "r", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError as error:
        return f"<cannot read {path}: {error}>"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def server():
    binary = _binary()
    tmp = tempfile.mkdtemp(prefix="tessera-interop-")
    data_dir = os.path.join(tmp, "data")
    os.makedirs(data_dir)
    stderr_path = os.path.join(tmp, "server.stderr.log")
    stdout_path = os.path.join(tmp, "server.stdout.log")

    process = None
    for attempt in range(3):
        port = _free_port()
        base = f"http://127.0.0.1:{port}/"
        with open(stderr_path, "ab") as err, open(stdout_path, "ab") as out:
            process = subprocess.Popen(
                [binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", data_dir],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        credentials_path = os.path.join(data_dir, "admin-client.json")
        deadline = time.monotonic() + STARTUP_TIMEOUT
        healthy = False
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if requests.get(base + "healthz", timeout=TIMEOUT).status_code == 200 and os.path.exists(
                    credentials_path
                ):
                    healthy = True
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        if healthy:
            break
        exited = process.poll()
        _stop(process)
        # Retry only if the port was taken between picking it and binding it.
        if exited is not None and attempt < 2 and "address already in use" in _tail(stderr_path).lower():
            continue
        pytest.fail(
            f"Tessera did not become healthy at {base} within {STARTUP_TIMEOUT}s "
            f"(exit code {exited}).\n--- stderr tail ({stderr_path}) ---\n{_tail(stderr_path)}"
        )

    with open(credentials_path) as handle:
        credentials = json.load(handle)
    issuer = base
    server = TesseraServer(
        base_url=base,
        issuer=issuer,
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        data_dir=data_dir,
        audience=credentials.get("audience", issuer + "api/v2/"),
        stderr_path=stderr_path,
    )
    try:
        yield server
    finally:
        _stop(process)
        if process.returncode not in (0, -signal.SIGTERM):
            print(f"Tessera exited with {process.returncode}.\n--- stderr tail ---\n{_tail(stderr_path)}")
        elif not os.environ.get("TESSERA_KEEP_DATA"):
            shutil.rmtree(tmp, ignore_errors=True)


def fetch_token(server: TesseraServer, client_id: str, client_secret: str, audience: str = None) -> str:
    response = requests.post(
        server.url("oauth/token"),
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "audience": audience or server.audience,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def admin_token(server):
    """A fresh admin token per test, so a key rotation in one test cannot affect another."""
    return fetch_token(server, server.client_id, server.client_secret)


@pytest.fixture
def admin(server, admin_token):
    """A requests session carrying the admin Management API token."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {admin_token}"
    yield session
    session.close()


# ---------------------------------------------------------------- sign-in helpers (test_signin, test_browser)

DATABASE_CONNECTION = "Username-Password-Authentication"
STRONG_PASSWORD = "Passw0rd-Ok"  # meets the policy: >= 8 characters with lower case, upper case and a digit


def free_port() -> int:
    """A loopback port that was free a moment ago (for callback URLs)."""
    return _free_port()


def new_email() -> str:
    return f"signin-{uuid.uuid4().hex[:12]}@interop.example.com"


def pkce_pair():
    """A fresh PKCE code_verifier and its S256 code_challenge (RFC 7636)."""
    from authlib.common.security import generate_token
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    verifier = generate_token(64)
    return verifier, create_s256_code_challenge(verifier)


def create_spa_client(server: TesseraServer, admin: requests.Session, callback: str, logout_urls=None) -> dict:
    """Registers a single-page application (a public client: no secret, PKCE required) with one callback."""
    parts = urlsplit(callback)
    origin = f"{parts.scheme}://{parts.netloc}"
    response = admin.post(
        server.url("api/v2/clients"),
        json={
            "name": f"SPA {uuid.uuid4()}",
            "app_type": "spa",
            "callbacks": [callback],
            "web_origins": [origin],
            "allowed_logout_urls": list(logout_urls or [origin + "/"]),
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    client = response.json()
    assert client["client_id"], client
    return client


def create_password_user(server: TesseraServer, admin: requests.Session, email: str = None,
                         password: str = STRONG_PASSWORD) -> dict:
    response = admin.post(
        server.url("api/v2/users"),
        json={"connection": DATABASE_CONNECTION, "email": email or new_email(), "password": password},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    return response.json()
