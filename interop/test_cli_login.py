"""`tessera login` against a running Tessera: the command listens on a loopback port, prints the authorize URL,
and a person (here: requests) signs in; the command then prints the tokens and their decoded claims."""
import os
import re
import select
import socket
import subprocess
import time
import uuid

import requests

from conftest import STRONG_PASSWORD, TIMEOUT, _binary, create_password_user, new_email


def read_until(stream, pattern, timeout=30):
    """Reads the raw pipe (not Python's buffered reader, which select cannot see into) until `pattern` appears."""
    deadline, seen = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.5)
        if ready:
            chunk = os.read(stream.fileno(), 65536).decode()
            if not chunk:
                break
            seen += chunk
            match = re.search(pattern, seen)
            if match:
                return match
    raise AssertionError(f"no {pattern!r} in: {seen}")


def test_tessera_login_prints_verified_tokens(server, admin):
    native = admin.post(server.url("api/v2/clients"), json={
        "name": f"CLI {uuid.uuid4()}", "app_type": "native", "callbacks": ["http://127.0.0.1/callback"],
    }, timeout=TIMEOUT)
    assert native.status_code == 201, native.text
    email = new_email()
    create_password_user(server, admin, email=email)

    command = subprocess.Popen(
        [_binary(), "login", "--issuer", server.issuer, "--client-id", native.json()["client_id"], "--no-open",
         "--scope", "openid profile email", "--timeout", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=0)
    try:
        url = read_until(command.stderr, r"(http://127\.0\.0\.1:\d+/authorize\?\S+)").group(1)
        # The redirect URI is a loopback address on the port the command picked: allowed for native apps.
        assert re.search(r"redirect_uri=http(%3A%2F%2F|://)127\.0\.0\.1(%3A|:)\d+(%2F|/)callback", url), url
        browser = requests.Session()
        page = browser.get(url, timeout=TIMEOUT)
        assert page.status_code == 200, page.text
        state = re.search(r'name="state" value="([^"]+)"', page.text).group(1)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        done = browser.post(server.url("u/login"), data={
            "state": state, "csrf": csrf, "email": email, "password": STRONG_PASSWORD}, timeout=TIMEOUT)
        assert done.status_code == 200 and "Return to your terminal" in done.text
        output, errors = command.communicate(timeout=30)
    finally:
        if command.poll() is None:
            command.kill()
    assert command.returncode == 0, errors
    assert "id_token claims:" in output and "access_token header:" in output
    assert '"email" : "%s"' % email in output
    assert "nonce: matches" in output


# How the command ends when it cannot sign in: a ValidationError (its own message) is ArgumentParser's exit status 64
# (EX_USAGE); any other error (Foundation's, for a connection that fails) is 1.
VALIDATION_FAILURE = 64
FAILURE = 1


def login(issuer, client_id="no-such-client", timeout=3):
    return subprocess.run(
        [_binary(), "login", "--issuer", issuer, "--client-id", client_id, "--no-open", "--timeout", str(timeout)],
        capture_output=True, text=True, timeout=60, input="")


def test_tessera_login_reports_issuer_errors(server):
    command = login(server.issuer)
    # An unknown client cannot be redirected to; the command never gets a callback and says so.
    assert command.returncode == VALIDATION_FAILURE, command.stderr
    assert "Open this URL" in command.stderr
    assert "Error: no redirect arrived within 3 s\n" in command.stderr, command.stderr
    assert command.stdout == "", "no tokens are printed"


def test_tessera_login_reports_an_issuer_without_a_discovery_document(server):
    issuer = server.url("no-issuer-here/")
    assert requests.get(issuer + ".well-known/openid-configuration", timeout=TIMEOUT).status_code == 404
    command = login(issuer)
    assert command.returncode == VALIDATION_FAILURE, command.stderr
    assert command.stderr.startswith(
        f"Error: {issuer}.well-known/openid-configuration did not answer a JSON object\n"), command.stderr
    assert "Open this URL" not in command.stderr
    assert command.stdout == ""


def test_tessera_login_reports_an_unreachable_issuer():
    # A port bound but not listening: connections to it are refused, and nothing else can take it meanwhile.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))
        issuer = f"http://127.0.0.1:{closed.getsockname()[1]}/"
        command = login(issuer)
    # The command has no message of its own here: it prints Foundation's error for the discovery request
    # (NSURLErrorCannotConnectToHost is -1004).
    assert command.returncode == FAILURE, command.stderr
    assert command.stderr.startswith("Error: Error Domain=NSURLErrorDomain Code=-1004 "), command.stderr
    assert f"{issuer}.well-known/openid-configuration" in command.stderr
    assert "Couldn't connect to server" in command.stderr
    assert "Open this URL" not in command.stderr
    assert command.stdout == ""
