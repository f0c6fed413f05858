"""Fixtures for the Tessera interop suite.

Each test module gets its own Tessera server with a fresh data folder (the `server` fixture is module-scoped), so no
module sees another's trigger bindings, rotated signing keys, applications or APIs.
The binary is /work/main/.build/debug/tessera unless TESSERA_BIN says otherwise.

Every server runs at `--log-level trace` (TESSERA_INTEROP_LOG_LEVEL may say otherwise), and when it stops, its log is
searched for every secret the suite has handed it so far (`remember_secret`): client secrets, passwords, workspace
admin tokens, Action secrets, refresh tokens, access tokens. One found fails the test that owned the server.

Ports: `tessera serve --port 0` binds a free port and logs it ("Tessera is listening", with "url"), but the issuer
(tokens' `iss`, the discovery document's endpoints, admin-client.json's audience and token_url) is fixed from
--port before the bind, so with port 0 it would read http://127.0.0.1:0/. The fixtures therefore still pick a port,
then wait for the server's own "Tessera is listening" line naming that URL (so a process that took the port in
between can never answer for it), and start again on a new port, with a new data folder, if the bind fails.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

TIMEOUT = 10
STARTUP_TIMEOUT = 60
START_ATTEMPTS = 3
LISTENING = "Tessera is listening"
DEFAULT_BIN = Path(__file__).resolve().parent.parent / ".build" / "debug" / "tessera"
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
# The GraphQL admin secret of the example tenant (`make run` exports it; seed 004's sync Action carries it).
DEMO_HASURA_SECRET = "demo-hasura-admin-secret-change-me"
# The example tenant's directory secrets (`make run` exports the same names): the Directory sync application's
# client secret, the directory's admin key and its Auth0-scoped key (the UserHub Action's API_KEY).
DEMO_DIRECTORY_ENV = {
    "DIRECTORY_SYNC_CLIENT_SECRET": "interop-directory-sync-secret-0123456789abcdef",
    "USERHUB_ADMIN_KEY": "userhub_admin_interop-admin-0123456789abcdef",
    "USERHUB_API_KEY": "userhub_admin_interop-auth0-action-0123456789abcdef",
}
LOG_LEVEL = os.environ.get("TESSERA_INTEROP_LOG_LEVEL", "trace")

# Values that must never appear in a server's log, whatever its level.
SECRETS: set = set()


def remember_secret(*values) -> None:
    """Adds values to those no server log may contain (short or empty ones would match by chance, and are skipped)."""
    for value in values:
        if isinstance(value, str) and len(value) >= 8:
            SECRETS.add(value)


def leaked_secrets(log_path: str) -> list:
    """The remembered secrets found in a log, each with the first line that holds it (the secret itself masked)."""
    try:
        with open(log_path, "r", errors="replace") as handle:
            lines = handle.readlines()
    except OSError:
        return []
    found = []
    for secret in sorted(SECRETS):
        line = next((line for line in lines if secret in line), None)
        if line is not None:
            found.append(f"a {len(secret)}-character secret starting {secret[:4]!r} in: "
                         + line.replace(secret, "<SECRET>")[:400])
    return found


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


def _listening_url(stderr_path: str):
    """The "url" of the server's "Tessera is listening" log line (JSON lines on stderr), once it is there."""
    try:
        with open(stderr_path, "r", errors="replace") as handle:
            for line in handle:
                if LISTENING not in line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line still being written
                if entry.get("msg") == LISTENING:
                    return entry.get("url")
    except OSError:
        pass
    return None


@dataclass
class RunningTessera:
    process: subprocess.Popen
    base: str  # http://127.0.0.1:PORT/, the URL the server said it listens on
    tmp: str  # holds data/, stdout.log and stderr.log
    data_dir: str
    stderr_path: str
    stdout_path: str


def example_tenant(base: str) -> str:
    """examples/tessera.yaml for a server at `base`: a copy of examples/ in which seed 004's sync Action calls that
    server's /v1/graphql instead of port 8080, the one swap the seed asks for. Pass it as an argument to
    `start_tessera`, which calls it with the server's URL."""
    target = Path(tempfile.mkdtemp(prefix="tessera-examples-")) / "examples"
    shutil.copytree(EXAMPLES_DIR, target, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    sync = target / "actions" / "hasura-sync-users.js"
    sync.write_text(sync.read_text().replace("http://127.0.0.1:8080/v1/graphql", base + "v1/graphql"))
    return str(target / "tessera.yaml")


def start_tessera(*extra_args, env=None, prefix: str = "tessera-interop-",
                  timeout: float = STARTUP_TIMEOUT) -> RunningTessera:
    """`tessera serve` on a loopback port with a fresh data folder, once it has logged that it listens there.

    `env` is the server's environment: a dict, or a function of the base URL that returns one (for variables that
    name the server's own URL); None inherits this process's environment. An argument may also be a function of the
    base URL (see `example_tenant`)."""
    binary = _binary()
    for attempt in range(START_ATTEMPTS):
        tmp = tempfile.mkdtemp(prefix=prefix)
        data_dir = os.path.join(tmp, "data")
        os.makedirs(data_dir)
        stderr_path = os.path.join(tmp, "stderr.log")
        stdout_path = os.path.join(tmp, "stdout.log")
        port = _free_port()
        base = f"http://127.0.0.1:{port}/"
        args = [arg(base) if callable(arg) else arg for arg in extra_args]
        with open(stderr_path, "wb") as err, open(stdout_path, "wb") as out:
            process = subprocess.Popen(
                [binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--issuer", base, "--data-dir", data_dir,
                 *([] if "--log-level" in args else ["--log-level", LOG_LEVEL]), *args],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env(base) if callable(env) else env,
            )
        deadline = time.monotonic() + timeout
        url = None
        while time.monotonic() < deadline:
            url = _listening_url(stderr_path)
            if url or process.poll() is not None:
                break
            time.sleep(0.1)
        if url:
            if url != base:
                _stop(process)
                pytest.fail(f"Tessera says it listens on {url}, not on {base}.\n{_tail(stderr_path)}")
            health = requests.get(base + "healthz", timeout=TIMEOUT)
            assert health.status_code == 200, f"{health.status_code}: {health.text}"
            return RunningTessera(process, base, tmp, data_dir, stderr_path, stdout_path)
        exited = process.poll()
        _stop(process)
        log = _tail(stderr_path)
        # Start again only if the port was taken between picking it and binding it.
        if exited is not None and "address already in use" in log.lower() and attempt < START_ATTEMPTS - 1:
            shutil.rmtree(tmp, ignore_errors=True)
            continue
        pytest.fail(f"Tessera did not log {LISTENING!r} at {base} within {timeout}s (exit code {exited}).\n"
                    f"--- stderr tail ({stderr_path}) ---\n{log}")
    raise AssertionError("unreachable")


def stop_tessera(running: RunningTessera) -> None:
    _stop(running.process)
    leaks = leaked_secrets(running.stderr_path)
    if leaks:
        print(f"Secrets in the log; its files are kept in {running.tmp}.")
        raise AssertionError("secrets found in the server log:\n" + "\n".join(leaks))
    if running.process.returncode not in (0, -signal.SIGTERM):
        print(f"Tessera exited with {running.process.returncode}; its files are kept in {running.tmp}.\n"
              f"--- stderr tail ---\n{_tail(running.stderr_path)}")
    elif not os.environ.get("TESSERA_KEEP_DATA"):
        shutil.rmtree(running.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    """A Tessera server of this test module's own: fresh data folder, bootstrap admin client, nothing else."""
    yield from serve_module()


def serve_module(*args, env=None):
    """`start_tessera(*args, env=env)` as a `TesseraServer`, stopped when the generator is closed (a fixture's body)."""
    running = start_tessera(*args, env=env)
    with open(os.path.join(running.data_dir, "admin-client.json")) as handle:
        credentials = json.load(handle)
    remember_secret(credentials["client_secret"])
    issuer = running.base
    server = TesseraServer(
        base_url=running.base,
        issuer=issuer,
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        data_dir=running.data_dir,
        audience=credentials.get("audience", issuer + "api/v2/"),
        stderr_path=running.stderr_path,
    )
    try:
        yield server
    finally:
        stop_tessera(running)


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
    remember_secret(client_secret, response.json()["access_token"])
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
remember_secret(STRONG_PASSWORD)


def free_port() -> int:
    """A loopback port that was free a moment ago, for callback URLs that nothing listens on (the tests read the
    redirect's Location header), so no race with a later bind."""
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


remember_secret(*DEMO_DIRECTORY_ENV.values())


class BackgroundHTTPServer:
    """A local HTTP server (127.0.0.1) served on a daemon thread for as long as a `with` block lasts. Subclasses make
    `self.httpd` and call `serve_in_background(name)`."""
    httpd = None
    thread = None

    def serve_in_background(self, name: str) -> None:
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=name, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


# ---------------------------------------------------------------- a real browser (test_browser, test_seed_003, test_browser_mfa)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def require_browser() -> None:
    """Debian's chromium and chromium-driver (`make test` installs them); missing, the test fails unless
    TESSERA_ALLOW_BROWSER_SKIP=1 asks to skip it."""
    if not os.path.exists(CHROMEDRIVER):
        message = (f"{CHROMEDRIVER} is missing: install Debian's packages with "
                   "`apt-get install -y chromium chromium-driver` (make test does).")
        if os.environ.get("TESSERA_ALLOW_BROWSER_SKIP") == "1":
            pytest.skip(message)
        pytest.fail(message + " Set TESSERA_ALLOW_BROWSER_SKIP=1 to skip the browser test instead.")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's package `chromium`.")


def chromium(page_load_timeout: float = 20):
    """Headless Chromium driven by Selenium, quit when the generator is closed (a fixture's body)."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--lang=en-US"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(page_load_timeout)
    try:
        yield driver
    finally:
        driver.quit()


# ---------------------------------------------------------------- PostgreSQL databases of a test's own

def psql(url: str, statement: str) -> None:
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement], check=True, timeout=60,
                   stdin=subprocess.DEVNULL, capture_output=True)


@contextlib.contextmanager
def postgres_database(prefix: str):
    """A new database on TESSERA_TEST_POSTGRES_URL's server, as a URL, dropped afterwards (a test without that
    server is skipped)."""
    server_url = os.environ.get("TESSERA_TEST_POSTGRES_URL")
    if not server_url:
        pytest.skip("TESSERA_TEST_POSTGRES_URL is not set")
    parts = urlsplit(server_url)
    remember_secret(parts.password)
    database = prefix + uuid.uuid4().hex[:12]
    psql(server_url, f'CREATE DATABASE "{database}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + database, "", ""))
    finally:
        try:
            psql(server_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        except subprocess.CalledProcessError:  # PostgreSQL before 13 has no FORCE; the server has stopped anyway
            psql(server_url, f'DROP DATABASE IF EXISTS "{database}"')
