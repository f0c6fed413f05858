"""The seeds' Tinybird path end to end in a real browser (Debian's chromium + chromium-driver, selenium): Tessera
runs with the demo tenant exactly as `make run` applies it; a new person signs up on the hosted page, signs in
through /demo/, and sees their ID token, seed 001's fetch and seed 002's iframe. The chart's bars, read from the
SVG inside the frame, must match GET /v0/pipes/sales_by_city.json. Bad tokens show their message in the frame."""
import datetime
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
import requests

from conftest import (DEMO_DIRECTORY_ENV, DEMO_HASURA_SECRET, STRONG_PASSWORD, TIMEOUT, _tail, example_tenant, new_email, remember_secret,
                      start_tessera, stop_tessera)
from test_browser import ARTIFACTS, WAIT, browser  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "interop-demo-admin-token-0123456789abcdefgh"
remember_secret(ADMIN_TOKEN)
WORKSPACE_ID = "1f484a32-6966-4f63-9312-aadad64d3e12"
CHART_ID = "78f0fec8-4a5e-4072-a4f7-b3e37e123839"


class LateApp:
    """A WSGI app that answers 503 until seed 002's Flask app is mounted in it: the Flask site's port is bound (and
    so known to the demo's frame-ancestors) before the test that loads the seed's app runs."""

    def __init__(self):
        self.app = None

    def __call__(self, environ, start_response):
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"seed 002's app is not mounted yet"]
        return self.app(environ, start_response)


@dataclass
class FlaskSite:
    port: int
    late: LateApp


@pytest.fixture(scope="module")
def flask_site():
    """Where seed 002's Flask app is served in these tests (its pages may frame the charts): bound at once to a
    free port, so no other process can take the port between the demo's configuration and the test."""
    from werkzeug.serving import make_server

    late = LateApp()
    httpd = make_server("127.0.0.1", 0, late)
    thread = threading.Thread(target=httpd.serve_forever, name="seed-002-flask", daemon=True)
    thread.start()
    try:
        yield FlaskSite(httpd.server_address[1], late)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def flask_port(flask_site):
    return flask_site.port


@pytest.fixture(scope="module")
def demo(flask_port):
    """`tessera serve --apply examples/tessera.yaml`, as `make run` does, on a loopback port of its own."""
    def env(base):
        return dict(os.environ, **DEMO_DIRECTORY_ENV, TESSERA_URL=base.rstrip("/"), TINYBIRD_ADMIN_TOKEN=ADMIN_TOKEN,
                    HASURA_GRAPHQL_ADMIN_SECRET=DEMO_HASURA_SECRET,
                    TESSERA_DEMO_PASSWORD="Demo-Passw0rd-interop!",
                    TESSERA_FRAME_ANCESTORS=f"http://localhost:{flask_port} http://127.0.0.1:{flask_port}")

    running = start_tessera("--apply", example_tenant, env=env, prefix="tessera-demo-", timeout=90)
    try:
        # The tenant file is applied before the server listens: the demo is ready.
        config = requests.get(running.base + "demo/config.json", timeout=TIMEOUT)
        assert config.status_code == 200, f"the demo did not start: {config.status_code} {config.text}\n{_tail(running.stderr_path)}"
        yield running.base
    finally:
        stop_tessera(running)


def pipe_json(base, token, **params):
    response = requests.get(base + "v0/pipes/sales_by_city.json", params=params,
                            headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def bars_in_frame(browser):
    """The bars of the chart inside the iframe, as {label: value}, read from the SVG."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT).until(EC.frame_to_be_available_and_switch_to_it((By.ID, "chart")))
    WebDriverWait(browser, WAIT).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "svg rect.bar"))
    # The page carries a layout per frame shape; the visible one is what a person sees.
    visible = [bar for bar in browser.find_elements(By.CSS_SELECTOR, "svg rect.bar") if bar.is_displayed()]
    bars = {bar.get_attribute("data-label"): float(bar.get_attribute("data-value")) for bar in visible}
    assert len(bars) == len(visible), "one bar per label in the visible chart"
    titles = [bar.find_element(By.TAG_NAME, "title").get_attribute("textContent") for bar in visible]
    browser.switch_to.default_content()
    return bars, titles


def test_sign_up_sign_in_and_see_your_own_chart(demo, browser):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT)
    # Another person's row is already in seed 004's users table: the page must not show it.
    seeded = requests.post(demo + "v1/graphql", headers={"x-hasura-admin-secret": DEMO_HASURA_SECRET}, timeout=TIMEOUT,
                           json={"query": 'mutation { insert_users_one(object: {userId: "auth0|someone-else", userName: "Else"}, '
                                          'on_conflict: {constraint: users_pkey, update_columns: []}) { userId } }'})
    assert seeded.status_code == 200 and "errors" not in seeded.json(), seeded.text
    browser.get(demo + "demo/")
    wait.until(EC.element_to_be_clickable((By.ID, "sign-up"))).click()
    wait.until(EC.visibility_of_element_located((By.ID, "email"))).send_keys(new_email())
    browser.find_element(By.ID, "password").send_keys(STRONG_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()

    # Sign-up ends with a code at /demo/; the page exchanges it (PKCE) and shows the three steps.
    try:
        wait.until(EC.visibility_of_element_located((By.ID, "signed-in")))
        wait.until(lambda driver: driver.find_element(By.ID, "chart").get_attribute("src"))
    except TimeoutException:
        pytest.fail(f"the demo did not finish at {browser.current_url}:\n{browser.find_element(By.TAG_NAME, 'body').text}")
    claims = json.loads(browser.find_element(By.ID, "claims").text)
    tinybird = claims["https://app.tinybird.co"]
    decoded = jwt.decode(tinybird, ADMIN_TOKEN, algorithms=["HS256"])
    assert decoded["workspace_id"] == WORKSPACE_ID and decoded["name"] == f"tinybird_jwt_{claims['sub']}"
    assert decoded["scopes"] == [{"type": "PIPES:READ", "resource": "sales_by_city"}]

    expected = pipe_json(demo, tinybird)
    assert json.loads(browser.find_element(By.ID, "data").text) == expected["data"], "seed 001's fetch showed the endpoint's rows"

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    bars, titles = bars_in_frame(browser)
    revenue = {row["city"]: row["revenue"] for row in expected["data"]}
    assert set(bars) == set(revenue) and len(bars) == 8, "one bar per city in the sample data"
    assert bars == pytest.approx(revenue, abs=0.01)
    assert any(title.startswith("Madrid · revenue: ") for title in titles), titles

    # Seed 004: the page read the person's own row from /v1/graphql with their access token, and only that row.
    wait.until(lambda driver: driver.find_element(By.ID, "graphql-data").text.strip())
    rows = json.loads(browser.find_element(By.ID, "graphql-data").text)
    assert [row["userId"] for row in rows["data"]["users"]] == [claims["sub"]], rows
    denied = json.loads(browser.find_element(By.ID, "graphql-denied").text)
    assert denied == {"errors": [{"message": "Missing 'Authorization' or 'Cookie' header in JWT authentication mode",
                                  "extensions": {"path": "$", "code": "invalid-headers"}}]}
    everyone = requests.post(demo + "v1/graphql", headers={"x-hasura-admin-secret": DEMO_HASURA_SECRET}, timeout=TIMEOUT,
                             json={"query": "{ users_aggregate { aggregate { count } } }"}).json()
    assert everyone["data"]["users_aggregate"]["aggregate"]["count"] >= 2, "both people are in the table"

    browser.set_window_size(1280, 1700)
    time.sleep(0.5)
    assert browser.save_screenshot(str(ARTIFACTS / "demo-page.png"))
    assert browser.find_element(By.ID, "chart").screenshot(str(ARTIFACTS / "chart.png"))


@pytest.mark.parametrize("kind", ["expired", "other-pipe", "tampered"])
def test_bad_tokens_show_their_message_in_the_frame(demo, browser, kind):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    now = datetime.datetime.now(tz=datetime.timezone.utc)
    payload = {"workspace_id": WORKSPACE_ID, "name": "frame-test", "exp": now + datetime.timedelta(hours=1),
               "scopes": [{"type": "PIPES:READ", "resource": "sales_by_city"}]}
    if kind == "expired":
        payload["exp"] = now - datetime.timedelta(minutes=1)
    if kind == "other-pipe":
        payload["scopes"] = [{"type": "PIPES:READ", "resource": "top_products"}]
    token = jwt.encode(payload, ADMIN_TOKEN if kind != "tampered" else "not-the-admin-token-0123456789abcdef", algorithm="HS256")
    url = f"{demo}endpoints/sales_by_city/charts/{CHART_ID}?token={token}"
    direct = requests.get(url, timeout=TIMEOUT)
    assert direct.status_code == 403 and direct.headers["Content-Type"].startswith("text/html")

    # Inside the demo page's frame, as an embedding page would show it.
    browser.get(demo + "demo/")
    WebDriverWait(browser, WAIT).until(EC.element_to_be_clickable((By.ID, "sign-up")))
    browser.execute_script("document.getElementById('signed-in').hidden = false;"
                           "document.getElementById('chart').src = arguments[0];", url)
    WebDriverWait(browser, WAIT).until(EC.frame_to_be_available_and_switch_to_it((By.ID, "chart")))
    alert = WebDriverWait(browser, WAIT).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
    text = alert.text
    browser.switch_to.default_content()
    assert "This chart cannot be shown" in text
    assert {"expired": "expired", "other-pipe": "no PIPES:READ scope for the pipe sales_by_city",
            "tampered": "signature"}[kind] in text
    if kind == "expired":
        assert browser.find_element(By.ID, "chart").screenshot(str(ARTIFACTS / "chart-expired.png"))


def test_chart_page_headers_and_seed_002_url_shape(demo, flask_port):
    token = jwt.encode({"workspace_id": WORKSPACE_ID, "name": "headers", "exp": int(time.time()) + 60,
                        "scopes": [{"type": "PIPES:READ", "resource": "sales_by_city"}]}, ADMIN_TOKEN, algorithm="HS256")
    # Seed 002's iframe URL with only the host swapped (the /gcp/europe-west3 prefix stays).
    seed_html = (ROOT / "examples/charts-flask/static/index.html").read_text()
    assert f"/gcp/europe-west3/endpoints/sales_by_city/charts/{CHART_ID}?token=" in seed_html
    page = requests.get(f"{demo}gcp/europe-west3/endpoints/sales_by_city/charts/{CHART_ID}?token={token}&refresh=30",
                        timeout=TIMEOUT)
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' http://localhost:{flask_port} http://127.0.0.1:{flask_port}" in policy
    assert "script-src" not in policy
    assert "X-Frame-Options" not in page.headers
    assert '<meta http-equiv="refresh" content="30">' in page.text
    assert "query;dur=" in page.headers["Server-Timing"]
    assert "frame-ancestors 'none'" in requests.get(demo + "demo/", timeout=TIMEOUT).headers["Content-Security-Policy"]


def test_seed_002_flask_page_embeds_the_chart(demo, flask_site, browser, tmp_path, monkeypatch):
    """Seed 002's backend for real: its Flask app mints the JWT, its index.html frames the chart. The test swaps
    only what the seed says to swap: the URLs (Tessera's and the Flask app's ports here) and the key."""
    import importlib.util

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    flask_port = flask_site.port
    # The app reads its key from the environment when imported; monkeypatch restores the environment afterwards.
    monkeypatch.setenv("TINYBIRD_ADMIN_TOKEN", ADMIN_TOKEN)
    spec = importlib.util.spec_from_file_location("charts_flask_app_browser", ROOT / "examples/charts-flask/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = (ROOT / "examples/charts-flask/static/index.html").read_text()
    page = page.replace("http://127.0.0.1:8080/", demo).replace("http://localhost:5151", f"http://localhost:{flask_port}")
    (tmp_path / "index.html").write_text(page)
    module.app.static_folder = str(tmp_path)
    flask_site.late.app = module.app
    try:
        browser.get(f"http://localhost:{flask_port}/static/index.html")
        WebDriverWait(browser, WAIT).until(lambda driver: driver.find_element(By.ID, "tinybird-chart").get_attribute("src"))
        WebDriverWait(browser, WAIT).until(EC.frame_to_be_available_and_switch_to_it((By.ID, "tinybird-chart")))
        WebDriverWait(browser, WAIT).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "svg rect.bar"))
        visible = [bar for bar in browser.find_elements(By.CSS_SELECTOR, "svg rect.bar") if bar.is_displayed()]
        layout = {bar.find_element(By.XPATH, "ancestor::*[local-name()='svg']").get_attribute("data-layout") for bar in visible}
        labels = {bar.get_attribute("data-label") for bar in visible}
        assert layout == {"wide"}, "a 100% × 200px frame gets the wide layout"
        browser.switch_to.default_content()
        assert len(labels) == 8 and "Madrid" in labels
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(ARTIFACTS / "seed-002-flask-page.png"))
    finally:
        flask_site.late.app = None
