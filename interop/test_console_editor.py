"""The console's code editors with Debian's CodeMirror (libjs-codemirror, which `make test` installs): the server
serves it from /console/assets/, the Action editor becomes a CodeMirror editor under the console's own CSP, what is
typed there is what Save sends, and the page stays free of serious accessibility problems.
test_console.py walks the console with plain text areas (the fallback when the package is missing)."""
import os
import time
from pathlib import Path

import pytest
import requests

from conftest import (DEMO_DIRECTORY_ENV, DEMO_HASURA_SECRET, TIMEOUT, chromium, example_tenant, fetch_token,
                      remember_secret, serve_module)
from console_support import axe_violations

CODEMIRROR = os.environ.get("TESSERA_CODEMIRROR_DIR") or "/usr/share/javascript/codemirror"
DEMO_PASSWORD = "Demo-Passw0rd-editor!"
ADMIN_TOKEN = "interop-editor-admin-token-0123456789abcdef"
remember_secret(DEMO_PASSWORD, ADMIN_TOKEN)


@pytest.fixture(scope="module")
def server():
    if not Path(CODEMIRROR, "lib", "codemirror.js").exists():
        pytest.fail(f"CodeMirror is missing from {CODEMIRROR}: install Debian's libjs-codemirror (make test does)")
    env = dict(os.environ, **DEMO_DIRECTORY_ENV, TINYBIRD_ADMIN_TOKEN=ADMIN_TOKEN, TESSERA_DEMO_PASSWORD=DEMO_PASSWORD,
               HASURA_GRAPHQL_ADMIN_SECRET=DEMO_HASURA_SECRET, TESSERA_CODEMIRROR_DIR=CODEMIRROR)
    yield from serve_module("--apply", example_tenant, env=lambda base: dict(env, TESSERA_URL=base.rstrip("/")))


def wait_for(condition, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_the_action_editor_is_codemirror_and_saves_what_is_typed(server):
    from selenium.webdriver.common.by import By
    token = fetch_token(server, server.admin_client_id, server.admin_client_secret)
    management = {"Authorization": f"Bearer {token}"}
    actions = requests.get(server.url("api/v2/actions/actions"), headers=management, timeout=TIMEOUT).json()["actions"]
    action = next(a for a in actions if a["name"] == "Tinybird JWT")
    script = requests.get(server.url("console/assets/codemirror.js"), timeout=TIMEOUT)
    assert script.status_code == 200 and "CodeMirror" in script.text[:5000]

    for driver in chromium(20):
        driver.get(server.url(f"console/actions/{action['id']}"))
        wait_for(lambda: "/u/login" in driver.current_url)
        driver.find_element(By.ID, "email").send_keys("demo@example.com")
        driver.find_element(By.ID, "password").send_keys(DEMO_PASSWORD)
        driver.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
        wait_for(lambda: f"/console/actions/{action['id']}" in driver.current_url)
        editors = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".CodeMirror"))
        assert len(editors) == len(driver.find_elements(By.CSS_SELECTOR, "textarea[data-code]"))
        shown = driver.execute_script("return document.querySelector('#f-code + .CodeMirror').CodeMirror.getValue()")
        assert shown == action["code"].replace("\r\n", "\n")
        assert "cm-keyword" in driver.page_source or "cm-variable" in driver.page_source, "the JavaScript mode highlights"
        # The console's CSP allows CodeMirror: no refused script or style in the browser's log.
        refused = [entry for entry in driver.get_log("browser") if "Content Security Policy" in entry.get("message", "")]
        assert not refused, refused
        serious = axe_violations(driver)
        assert not serious, [(v["id"], v["targets"]) for v in serious]

        edited = action["code"] + "\n// edited in CodeMirror\n"
        driver.execute_script("document.querySelector('#f-code + .CodeMirror').CodeMirror.setValue(arguments[0])", edited)
        save = driver.find_element(By.XPATH, "//form[.//textarea[@id='f-code']]//button[normalize-space()='Save']")
        save.click()
        wait_for(lambda: "notice=saved" in driver.current_url)
    saved = requests.get(server.url(f"api/v2/actions/actions/{action['id']}"), headers=management, timeout=TIMEOUT).json()
    assert saved["code"] == edited


def test_a_chart_is_previewed_live_while_its_fields_are_typed(server):
    from selenium.webdriver.common.by import By
    workspace = "1f484a32-6966-4f63-9312-aadad64d3e12"  # examples/tessera.yaml's demo workspace
    charts = server.url("v0/pipes/sales_by_city/charts")
    before = requests.get(charts, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=TIMEOUT).json()["charts"]
    for driver in chromium(20):
        driver.get(server.url(f"console/analytics/{workspace}/pipes/sales_by_city"))
        if "/u/login" in driver.current_url:
            driver.find_element(By.ID, "email").send_keys("demo@example.com")
            driver.find_element(By.ID, "password").send_keys(DEMO_PASSWORD)
            driver.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
        wait_for(lambda: "/pipes/sales_by_city" in driver.current_url)
        frame = driver.find_element(By.ID, "preview-new")
        assert not frame.is_displayed(), "no preview before there is something to draw"
        driver.find_element(By.ID, "f-new-title").send_keys("Orders live")
        driver.find_element(By.ID, "f-new-index").send_keys("city")
        driver.find_element(By.ID, "f-new-categories").send_keys("orders")
        wait_for(lambda: frame.is_displayed() and "draft-chart" in (frame.get_attribute("src") or ""))
        assert "categories=orders" in frame.get_attribute("src")
        driver.switch_to.frame(frame)
        wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "svg"))
        assert "Orders live" in driver.page_source
        driver.switch_to.default_content()
        # A column the pipe does not have: the frame says so instead of drawing.
        driver.find_element(By.ID, "f-new-categories").send_keys("_missing")
        wait_for(lambda: "orders_missing" in (frame.get_attribute("src") or ""))
        driver.switch_to.frame(frame)
        wait_for(lambda: "orders_missing" in driver.page_source and not driver.find_elements(By.CSS_SELECTOR, "svg"))
        driver.switch_to.default_content()
    after = requests.get(charts, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=TIMEOUT).json()["charts"]
    assert len(after) == len(before), "a preview saves nothing"
