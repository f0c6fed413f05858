"""A real browser signs up through Tessera's hosted page: headless Chromium driven by Selenium, the way a person
using a single-page application would. Needs Debian's `chromium` and `chromium-driver` packages.

The SPA's callback is a tiny HTTP server on loopback that records the query it is called with; the test then
exchanges the code at /oauth/token with the PKCE verifier, as the SPA's JavaScript would."""

import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import jwt
import pytest
import requests

from conftest import STRONG_PASSWORD, TIMEOUT, BackgroundHTTPServer, chromium, create_spa_client, new_email, pkce_pair

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SCREENSHOT = ARTIFACTS / "login-page.png"
WAIT = 20


# ---------------------------------------------------------------- the SPA's callback


class CallbackServer(BackgroundHTTPServer):
    """Serves GET /callback on 127.0.0.1 (a free port) and records every query string it receives."""

    def __init__(self):
        self.queries = []
        received = self.queries

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                if parts.path != "/callback":
                    self.send_error(404)
                    return
                received.append(parts.query)
                body = b"<!doctype html><title>Signed in</title><p>Back in the application.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.url = self.origin + "/callback"
        self.serve_in_background("spa-callback")


@pytest.fixture
def callback_server():
    with CallbackServer() as callback:
        yield callback


# ---------------------------------------------------------------- the browser


@pytest.fixture
def browser():
    yield from chromium(WAIT)


# ---------------------------------------------------------------- the test


def test_signup_in_a_real_browser(server, admin, callback_server, browser):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    client = create_spa_client(server, admin, callback_server.url, logout_urls=[callback_server.origin + "/"])
    verifier, challenge = pkce_pair()
    state = uuid.uuid4().hex
    nonce = uuid.uuid4().hex
    # Encoded as auth0-spa-js does (encodeURIComponent: a space is %20).
    authorize = server.url("authorize") + "?" + urlencode({
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": callback_server.url,
        "scope": "openid profile email",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "screen_hint": "signup",
    }, quote_via=quote)

    browser.get(authorize)
    wait = WebDriverWait(browser, WAIT)
    try:
        email_input = wait.until(EC.visibility_of_element_located((By.ID, "email")))
    except TimeoutException:
        pytest.fail(f"no sign-up form at {browser.current_url}:\n{browser.page_source[:2000]}")
    assert urlsplit(browser.current_url).path == "/u/signup", browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == "Create your account"
    form = browser.find_element(By.TAG_NAME, "form")
    assert form.get_attribute("method").lower() == "post"
    assert urlsplit(form.get_attribute("action")).path == "/u/signup"
    # Every field has a visible label, and the page fits the window without horizontal scrolling.
    for field in ("email", "password"):
        label = browser.find_element(By.CSS_SELECTOR, f'label[for="{field}"]')
        assert label.is_displayed() and label.text.strip(), field
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

    email = new_email()
    email_input.send_keys(email)
    browser.find_element(By.ID, "password").send_keys(STRONG_PASSWORD)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT)), "could not save the screenshot"

    browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
    try:
        wait.until(lambda driver: driver.current_url.startswith(callback_server.url))
    except TimeoutException:
        pytest.fail(f"the browser did not come back to the callback; it is at {browser.current_url}:\n"
                    f"{browser.page_source[:2000]}")

    landed = {key: values[0] for key, values in parse_qs(urlsplit(browser.current_url).query).items()}
    assert "error" not in landed, landed
    assert landed.get("state") == state, landed
    assert landed.get("code"), landed
    assert callback_server.queries, "the callback server was never called"
    served = {key: values[0] for key, values in parse_qs(callback_server.queries[-1]).items()}
    assert served == landed, (served, landed)
    # Cookies are per host, not per port: the browser now holds Tessera's session cookie for 127.0.0.1.
    session_cookie = browser.get_cookie("tessera_session")
    assert session_cookie and session_cookie.get("httpOnly"), session_cookie

    response = requests.post(server.url("oauth/token"), data={
        "grant_type": "authorization_code",
        "client_id": client["client_id"],
        "code": landed["code"],
        "redirect_uri": callback_server.url,
        "code_verifier": verifier,
    }, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens.get("id_token"), tokens
    assert tokens.get("access_token"), tokens

    signing_key = jwt.PyJWKClient(server.url(".well-known/jwks.json"), cache_keys=False) \
        .get_signing_key_from_jwt(tokens["id_token"])
    claims = jwt.decode(tokens["id_token"], signing_key.key, algorithms=["RS256"], audience=client["client_id"],
                        issuer=server.issuer)
    assert claims["nonce"] == nonce
    assert claims["email"] == email
