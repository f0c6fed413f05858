"""A person in Chromium meets a redirect Action and the second factor: headless Chromium driven by Selenium, codes
computed with pyotp from the key the enrolment page shows, as an authenticator app would.

The flow holds two of the Marketplace-style Actions (interop/marketplace_actions/): the consent redirect, then MFA
once per session. The first sign-in goes to the consent page (a loopback site), back through /continue, then to the
enrolment page, the recovery code and the application; the second, in a fresh browser profile, meets the challenge,
a wrong code first. Screenshots of each page go to interop/artifacts/."""
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from html import escape
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import jwt
import pyotp
import pytest
import requests

from conftest import STRONG_PASSWORD, TIMEOUT, BackgroundHTTPServer, chromium, create_password_user, create_spa_client, pkce_pair
from test_actions import Flow
from test_browser import ARTIFACTS, CallbackServer

WAIT = 20
ACTIONS = Path(__file__).resolve().parent / "marketplace_actions"


class ConsentSite(BackgroundHTTPServer):
    """The application's terms page: a link back to Tessera's /continue with the state it was given."""

    def __init__(self, tessera_base: str):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                query = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
                back = tessera_base + "continue?" + urlencode({"state": query.get("state", ""), "accepted": "yes"})
                page = (f"<!doctype html><html lang=en><title>Terms of service</title><h1>Terms, version "
                        f"{escape(query.get('version', '?'))}</h1><p>Hello {escape(query.get('email', ''))}.</p>"
                        f'<a id="accept" href="{escape(back)}">I accept</a>').encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/terms"
        self.serve_in_background("consent-site")


@pytest.fixture
def browser():
    yield from chromium(WAIT)


@pytest.fixture
def second_browser():
    yield from chromium(WAIT)


def test_consent_redirect_then_mfa_enrolment_then_a_challenge(server, admin, browser, second_browser):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    person = create_password_user(server, admin)
    flow = Flow(server, admin)
    with CallbackServer() as callback, ConsentSite(server.base_url) as site:
        client = create_spa_client(server, admin, callback.url)
        flow.bind({"name": "Consent", "code": (ACTIONS / "consent-redirect.js").read_text(),
                   "configuration": {"CONSENT_URL": site.url, "TERMS_VERSION": "2024-06"}},
                  {"name": "MFA", "code": (ACTIONS / "mfa-once-per-session.js").read_text()})

        def sign_in(driver, screenshot):
            """Opens /authorize, signs in with the password; returns the PKCE verifier."""
            verifier, challenge = pkce_pair()
            driver.get(server.url("authorize") + "?" + urlencode({
                "response_type": "code", "client_id": client["client_id"], "redirect_uri": callback.url,
                "scope": "openid profile email", "state": uuid.uuid4().hex, "nonce": uuid.uuid4().hex,
                "code_challenge": challenge, "code_challenge_method": "S256"}, quote_via=quote))
            WebDriverWait(driver, WAIT).until(EC.visibility_of_element_located((By.ID, "email"))).send_keys(person["email"])
            driver.find_element(By.ID, "password").send_keys(STRONG_PASSWORD)
            driver.save_screenshot(str(ARTIFACTS / screenshot))
            driver.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
            return verifier

        def arrive(driver, condition, what):
            try:
                WebDriverWait(driver, WAIT).until(condition)
            except TimeoutException:
                pytest.fail(f"never reached {what}; the browser is at {driver.current_url}:\n{driver.page_source[:1500]}")

        def id_token_claims(driver, verifier):
            landed = {key: values[0] for key, values in parse_qs(urlsplit(driver.current_url).query).items()}
            assert "error" not in landed and landed.get("code"), landed
            response = requests.post(server.url("oauth/token"), data={
                "grant_type": "authorization_code", "client_id": client["client_id"], "code": landed["code"],
                "redirect_uri": callback.url, "code_verifier": verifier}, timeout=TIMEOUT)
            assert response.status_code == 200, response.text
            return jwt.decode(response.json()["id_token"], options={"verify_signature": False})

        try:
            # 1. The password, then the consent page the redirect Action sends the browser to.
            verifier = sign_in(browser, "mfa-1-login.png")
            arrive(browser, lambda d: d.current_url.startswith(site.url), "the consent page")
            assert browser.find_element(By.TAG_NAME, "h1").text == "Terms, version 2024-06"
            browser.save_screenshot(str(ARTIFACTS / "mfa-2-consent.png"))
            browser.find_element(By.ID, "accept").click()

            # 2. Back through /continue; the flow goes on to MFA: enrolment with the key an authenticator app would take.
            arrive(browser, EC.visibility_of_element_located((By.ID, "totp-secret")), "the enrolment page")
            assert urlsplit(browser.current_url).path == "/u/mfa"
            key = browser.find_element(By.ID, "totp-secret").text.replace(" ", "")
            uri = browser.find_element(By.ID, "otpauth-uri").get_attribute("href")
            assert uri.startswith("otpauth://totp/") and f"secret={key}" in uri
            assert browser.find_element(By.CSS_SELECTOR, 'label[for="code"]').is_displayed()
            browser.save_screenshot(str(ARTIFACTS / "mfa-3-enrol.png"))
            browser.find_element(By.ID, "code").send_keys(pyotp.TOTP(key).now())
            browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()

            # 3. The recovery code, shown once; then the application, with a token saying a second factor was given.
            arrive(browser, EC.visibility_of_element_located((By.ID, "recovery-code")), "the recovery code")
            assert len(browser.find_element(By.ID, "recovery-code").text.strip()) == 24
            browser.save_screenshot(str(ARTIFACTS / "mfa-4-recovery-code.png"))
            browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
            arrive(browser, lambda d: d.current_url.startswith(callback.url), "the application")
            assert id_token_claims(browser, verifier)["amr"] == ["mfa"]
            profile = admin.get(server.url(f"api/v2/users/{person['user_id']}"), timeout=TIMEOUT).json()
            assert profile["app_metadata"]["terms_accepted_version"] == "2024-06"

            # 4. Another browser: no consent page now, the challenge instead; a wrong code first, then the right one.
            verifier = sign_in(second_browser, "mfa-5-login-again.png")
            arrive(second_browser, EC.visibility_of_element_located((By.ID, "code")), "the challenge")
            assert urlsplit(second_browser.current_url).path == "/u/mfa"
            assert not second_browser.find_elements(By.ID, "totp-secret"), "the key is shown again"
            assert second_browser.find_element(By.ID, "recovery_code")
            second_browser.save_screenshot(str(ARTIFACTS / "mfa-6-challenge.png"))
            second_browser.find_element(By.ID, "code").send_keys("000000")
            second_browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
            arrive(second_browser, EC.visibility_of_element_located((By.ID, "form-error")), "the wrong-code message")
            assert "Wrong code" in second_browser.find_element(By.ID, "form-error").text
            second_browser.save_screenshot(str(ARTIFACTS / "mfa-7-wrong-code.png"))
            # The enrolment used this step's code; the next step's is within the window.
            second_browser.find_element(By.ID, "code").send_keys(pyotp.TOTP(key).at(time.time() + 30))
            second_browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
            arrive(second_browser, lambda d: d.current_url.startswith(callback.url), "the application")
            assert id_token_claims(second_browser, verifier)["amr"] == ["mfa"]
        finally:
            flow.close()
