"""The web console (/console/) in a real browser (Debian's chromium + chromium-driver, selenium), on the example tenant
as `make run` applies it: the demo person (demo@example.com, role tessera:admin) signs in through Tessera's own
hosted login and walks every section, changing things the way an administrator would, while the test checks each
page for accessibility (axe-core), first paint, keyboard reach, escaping, secrets shown once, CSRF and framing.

The tests of this module run in order and share one signed-in browser (`walk`); each builds on what the ones before
it made. Screenshots go to interop/artifacts/console-*.png, first paints to interop/artifacts/console-first-paint.json.
"""
import csv
import io
import json
import os
import re
import time
import uuid
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest
import requests

from conftest import (DEMO_DIRECTORY_ENV, DEMO_HASURA_SECRET, STRONG_PASSWORD, TIMEOUT, chromium, create_password_user,
                      example_tenant, remember_secret, serve_module)
from console_support import axe_violations, first_paint_ms, tab_reachable
from test_signin import login_form, submit_credentials

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WAIT = 20
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "Demo-Passw0rd-console!"
ADMIN_TOKEN = "interop-console-admin-token-0123456789abcdef"
WORKSPACE_ID = "1f484a32-6966-4f63-9312-aadad64d3e12"
HOSTILE_APP = "<script>window.__pwned=1</script>App"
HOSTILE_HTML = "<img src=x onerror=window.__pwned=1>"
ACTION_NAME = "Console Hello"
ACTION_LOG = "console-test hello"
CLAIM = "https://console.test/hello"
SECTIONS = {  # nav link text -> path
    "Home": "/console/", "Applications": "/console/applications", "APIs": "/console/apis", "Roles": "/console/roles",
    "Users": "/console/users", "Signing keys": "/console/keys", "Actions": "/console/actions",
    "Analytics": "/console/analytics", "GraphQL": "/console/graphql", "Directory": "/console/directory",
}
remember_secret(DEMO_PASSWORD, ADMIN_TOKEN)


@pytest.fixture(scope="module")
def server():
    """`tessera serve --apply examples/tessera.yaml` (the example tenant, as `make run` applies it) on a port of its own."""
    # No CodeMirror here, whatever the machine has: the walk types into the plain text areas (the fallback);
    # test_console_editor.py covers the editors with CodeMirror.
    env = dict(os.environ, **DEMO_DIRECTORY_ENV, TINYBIRD_ADMIN_TOKEN=ADMIN_TOKEN, TESSERA_DEMO_PASSWORD=DEMO_PASSWORD,
               HASURA_GRAPHQL_ADMIN_SECRET=DEMO_HASURA_SECRET, TESSERA_CODEMIRROR_DIR="/nonexistent")
    yield from serve_module("--apply", example_tenant, env=lambda base: dict(env, TESSERA_URL=base.rstrip("/")))


class Walk:
    """The shared browser and what the walk has found so far."""

    def __init__(self, driver, base):
        self.driver = driver
        self.base = base  # ends with "/"
        self.axe = {}  # page name -> (url, violations)
        self.duplicate_ids = {}  # page name -> (url, ids used more than once)
        self.paints = {}  # section path -> ms
        self.pages = set()  # console paths opened with GET, for the header checks
        self.shown = []  # (secret, page name that showed it once)
        self.leaks = []  # (secret's page, later page that showed it again)
        self.state = {}

    # -- navigation

    def url(self, path):
        return self.base + path.lstrip("/")

    def path(self):
        return urlsplit(self.driver.current_url).path

    def open(self, path, name=None, paint=False):
        """GET a console page (signed in), then check it as `name`."""
        self.driver.get(self.url(path))
        assert self.path() == urlsplit(self.url(path)).path, f"{path} ended at {self.driver.current_url}"
        if paint:
            value = first_paint_ms(self.driver)
            self.paints[urlsplit(self.url(path)).path] = value
        self.pages.add(path)
        self.scan()
        if name:
            self.check(name)

    def find(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def button(self, text, within=None):
        from selenium.webdriver.common.by import By
        return (within or self.driver).find_element(By.XPATH, f".//button[normalize-space()={json.dumps(text)}]")

    def link(self, text):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.XPATH, f"//a[normalize-space()={json.dumps(text)}]")

    def submit(self, element):
        """Clicks a submit button (or link) and waits for the next page."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
        from selenium.common.exceptions import WebDriverException
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

        def gone(_):
            try:
                old.is_enabled()
                return False
            except WebDriverException:  # stale, or (during the swap) "does not belong to the document"
                return True
        WebDriverWait(self.driver, WAIT).until(gone)
        WebDriverWait(self.driver, WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")
        self.scan()

    def fill(self, css, text):
        field = self.find(css)
        field.clear()
        if "\n" in text or len(text) > 200:
            # Typing long text key by key is slow; set it as a paste would, then type one key so input events fire.
            self.driver.execute_script("arguments[0].value = arguments[1];", field, text[:-1])
            field.send_keys(text[-1])
        else:
            field.send_keys(text)
        return field

    def select(self, css, value):
        from selenium.webdriver.support.ui import Select
        Select(self.find(css)).select_by_value(value)

    def h1(self):
        return self.find("main h1").text

    def notice(self):
        notices = self.finds("p.notice[role=status]")
        return notices[0].text if notices else None

    def expect(self, notice, path=None):
        """The page a change led to shows `notice` (and is `path`), or the assertion says what it shows instead."""
        seen = (self.path(), self.notice())
        wanted = (path or self.path(), notice)
        assert seen == wanted, f"expected {wanted}, got {seen} at {self.driver.current_url}: {self.h1()!r} {self.errors()}"

    def errors(self):
        return [error.text for error in self.finds("p.error")]

    def source(self):
        return self.driver.page_source

    def pwned(self):
        return self.driver.execute_script("return typeof window.__pwned") != "undefined"

    def secret_once(self, name):
        """The value of the page's one div.secret, remembered as a secret no later page (or log) may show."""
        boxes = self.finds("div.secret[role=alert] code.copy")
        assert len(boxes) == 1, f"{name}: expected one secret shown once, found {len(boxes)}"
        value = boxes[0].text.strip()
        assert len(value) >= 16, value
        remember_secret(value)
        self.shown.append((value, name))
        return value

    def check(self, name, screenshot=True):
        """Screenshot, axe, and no secret shown earlier on this page."""
        if screenshot:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            assert self.driver.save_screenshot(str(ARTIFACTS / f"console-{name}.png"))
        if name not in self.axe:
            self.axe[name] = (self.driver.current_url.replace(self.base, "/"), axe_violations(self.driver))
            duplicates = self.driver.execute_script(
                "const seen = {}; for (const e of document.querySelectorAll('[id]')) seen[e.id] = (seen[e.id] || 0) + 1;"
                "return Object.keys(seen).filter(id => seen[id] > 1);")
            if duplicates:
                self.duplicate_ids[name] = (self.driver.current_url.replace(self.base, "/"), duplicates)
        self.scan(name)

    def scan(self, name=None):
        """No secret shown once before (nor the session's token) is on this page, except on the page that showed it."""
        source = self.source()
        for secret, where in self.shown:
            if secret in source and where != name:
                self.leaks.append((where, name))
                raise AssertionError(f"a secret shown once on {where} is on a later page: {self.driver.current_url}")

    def csrf(self):
        return self.find("input[name=csrf]").get_attribute("value")

    def cookie(self):
        cookie = self.driver.get_cookie("tessera_console")
        assert cookie, "no tessera_console cookie"
        return cookie["value"]

    def sign_in(self, path, email=DEMO_EMAIL, password=DEMO_PASSWORD):
        """Opens a console page; signs in on the hosted login page if it asks (an SSO session may skip it); ends back
        at `path`. Returns whether the login form was shown."""
        from selenium.webdriver.support.ui import WebDriverWait
        self.driver.get(self.url(path))
        target = urlsplit(self.url(path)).path
        WebDriverWait(self.driver, WAIT).until(lambda d: self.path() in (target, "/u/login"))
        asked = self.path() == "/u/login"
        if asked:
            self.find("#email").send_keys(email)
            self.find("#password").send_keys(password)
            self.submit(self.find('form button[type="submit"]'))
            WebDriverWait(self.driver, WAIT).until(lambda d: self.path() == target)
        assert self.path() == target, self.driver.current_url
        return asked


@pytest.fixture(scope="module")
def walk(server):
    for driver in chromium(WAIT):
        yield Walk(driver, server.base_url)


def wait_until(condition, timeout=WAIT, interval=0.25, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


def get_user(server, admin, user_id):
    response = admin.get(server.url(f"api/v2/users/{quote(user_id, safe='')}"), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- signing in


def test_sign_in_returns_to_the_page_it_left(walk):
    # No session: /console/users -> /console/login?return_to=/console/users -> /authorize -> /u/login -> back.
    response = requests.get(walk.url("console/users"), allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 303 and response.headers["Location"] == "/console/login?return_to=%2Fconsole%2Fusers"
    assert walk.sign_in("/console/users"), "a fresh browser must see the hosted login form"
    assert walk.h1() == "Users"
    cookie = walk.driver.get_cookie("tessera_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console", cookie
    remember_secret(cookie["value"])
    walk.shown.append((cookie["value"], "the session cookie"))
    nav = {a.text: urlsplit(a.get_attribute("href")).path for a in walk.finds("header nav a")}
    assert nav == SECTIONS, nav
    assert walk.find('header nav a[aria-current="page"]').text == "Users"
    assert walk.button("Sign out").find_element("xpath", "./ancestor::form").get_attribute("action").endswith("/console/logout")
    walk.pages.add("/console/users")
    walk.check("users-signed-in", screenshot=False)


# ---------------------------------------------------------------- applications, APIs, roles


def test_applications_escape_names_and_show_the_secret_once(walk, server, admin):
    walk.open("/console/applications", "applications-list")
    walk.fill("#f-name", HOSTILE_APP)
    walk.select("#f-app_type", "regular_web")
    walk.submit(walk.button("Create", walk.find("#f-name").find_element("xpath", "./ancestor::form")))
    client_id = walk.find("dl code").text
    path = f"/console/applications/{client_id}"
    assert walk.h1() == HOSTILE_APP, "the name is text, not markup"
    assert not walk.pwned()
    assert not walk.driver.execute_script("return [...document.scripts].some(s => s.textContent.includes('__pwned'))")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;App" in walk.source()
    secret = walk.secret_once("application-created")
    client = admin.get(server.url(f"api/v2/clients/{client_id}"), timeout=TIMEOUT).json()
    assert client["name"] == HOSTILE_APP and client["app_type"] == "regular_web"
    assert client.get("client_secret") in (None, secret), "the console showed the client's real secret"
    walk.check("application-created")

    # Shown once: not on the application's page when opened again, nor in the list.
    walk.open(path, "application")
    assert secret not in walk.source() and not walk.finds("div.secret")
    assert not walk.pwned()
    walk.open("/console/applications", "applications-list")
    assert HOSTILE_APP in [a.text for a in walk.finds("main table a")]
    assert not walk.pwned()

    # Rotating shows the new secret once.
    walk.open(path)
    walk.submit(walk.button("Rotate the client secret"))
    rotated = walk.secret_once("application-rotated")
    assert rotated != secret
    walk.check("application-rotated", screenshot=False)
    walk.open(path)
    assert rotated not in walk.source() and secret not in walk.source()
    walk.state["client_id"] = client_id

    # Keyboard: the nav links, the create form's controls and its button.
    walk.open("/console/applications")
    form = walk.find("#f-name").find_element("xpath", "./ancestor::form")
    targets = {f"nav {a.text}": a for a in walk.finds("header nav a")}
    targets.update({"#f-name": walk.find("#f-name"), "#f-app_type": walk.find("#f-app_type"),
                    "Create": walk.button("Create", form), "Sign out": walk.button("Sign out")})
    unreachable = [name for name, element in targets.items() if not tab_reachable(walk.driver, element)]
    assert not unreachable, f"not reachable with Tab on /console/applications: {unreachable}"


def test_application_settings_take_one_url_per_line(walk, server, admin):
    # A person types one URL per line; the browser submits a textarea's line breaks as CR LF (HTML's form encoding).
    client_id = walk.state["client_id"]
    path = f"/console/applications/{client_id}"
    walk.open(path)
    walk.fill("#f-callbacks", "https://app.console.test/callback\nhttps://app.console.test/other")
    walk.fill("#f-allowed_logout_urls", "https://app.console.test/\nhttps://app.console.test/bye")
    walk.submit(walk.button("Save"))
    walk.expect("Saved.", path)
    client = admin.get(server.url(f"api/v2/clients/{client_id}"), timeout=TIMEOUT).json()
    assert client["callbacks"] == ["https://app.console.test/callback", "https://app.console.test/other"], client["callbacks"]
    assert client["allowed_logout_urls"] == ["https://app.console.test/", "https://app.console.test/bye"], client["allowed_logout_urls"]
    assert walk.find("#f-callbacks").get_attribute("value") == "https://app.console.test/callback\nhttps://app.console.test/other"


def test_apis_and_roles(walk, server, admin):
    walk.open("/console/apis", "apis-list")
    identifier = f"https://console.test/api/{uuid.uuid4().hex[:8]}"
    walk.fill("#f-name", "Console Test API")
    walk.fill("#f-identifier", identifier)
    walk.fill("#f-scopes", "read:things Read the things\nwrite:things Write the things")
    walk.submit(walk.button("Create"))
    assert walk.path().startswith("/console/apis/") and walk.notice() == "Created."
    assert walk.h1() == "Console Test API"
    scopes = [row.text for row in walk.finds("main table tbody tr")]
    assert "read:things Read the things" in scopes and "write:things Write the things" in scopes, scopes
    walk.pages.add(walk.path())
    walk.check("api")
    servers = admin.get(server.url("api/v2/resource-servers"), timeout=TIMEOUT).json()
    created = next(s for s in servers if s["identifier"] == identifier)
    assert {s["value"] for s in created["scopes"]} == {"read:things", "write:things"}

    # The example tenant's `user` role: give it the new API's read scope.
    walk.open("/console/roles", "roles-list")
    walk.submit(walk.link("user"))
    assert walk.h1() == "Role user"
    role_path = walk.path()
    walk.fill("#f-api", identifier)
    walk.fill("#f-permission", "read:things")
    walk.submit(walk.button("Add"))
    walk.expect("Saved.", role_path)
    assert any("read:things" in row.text and identifier in row.text for row in walk.finds("main table tbody tr"))
    walk.pages.add(role_path)
    walk.check("role")


# ---------------------------------------------------------------- users


def test_users_search_and_metadata(walk, server, admin):
    from selenium.webdriver.common.by import By

    walk.open("/console/users")
    walk.fill("#f-q", "app_metadata.plan:pro")
    walk.submit(walk.button("Search"))
    assert walk.path() == "/console/users" and "q=app_metadata.plan%3Apro" in walk.driver.current_url
    emails = [a.text for a in walk.finds("main table tbody a")]
    assert emails == [DEMO_EMAIL], emails
    walk.check("users-search")
    walk.pages.add("/console/users?q=app_metadata.plan%3Apro")
    walk.submit(walk.link(DEMO_EMAIL))
    path = walk.path()
    user_id = unquote(path.rsplit("/", 1)[1])
    assert walk.h1() == DEMO_EMAIL and user_id.startswith("auth0|"), user_id
    walk.state["demo_user_id"] = user_id
    walk.pages.add(path)
    walk.check("user")

    # Keyboard: the metadata editors and their buttons, the role form, Block.
    targets = {"#f-app_metadata": walk.find("#f-app_metadata"), "Save app_metadata": walk.button("Save app_metadata"),
               "#f-user_metadata": walk.find("#f-user_metadata"), "Save user_metadata": walk.button("Save user_metadata"),
               "#f-role": walk.find("#f-role"), "Assign": walk.button("Assign"), "Block": walk.button("Block"),
               "nav Users": walk.driver.find_element(By.LINK_TEXT, "Users")}
    unreachable = [name for name, element in targets.items() if not tab_reachable(walk.driver, element)]
    assert not unreachable, f"not reachable with Tab on {path}: {unreachable}"

    # A good edit is saved (as a merge, as PATCH does: the sign-in Action's tinybirdJWT stays) and the API sees it.
    before = get_user(server, admin, user_id)["app_metadata"]
    walk.fill("#f-app_metadata", '{"plan": "pro", "console": true}')
    walk.submit(walk.button("Save app_metadata"))
    walk.expect("Saved.", path)
    saved = dict(before, plan="pro", console=True)
    assert get_user(server, admin, user_id)["app_metadata"] == saved
    assert json.loads(walk.find("#f-app_metadata").get_attribute("value")) == saved

    # Invalid JSON: a 422 page with the message and the text kept; nothing saved.
    broken = '{"plan": "free", "console": '
    walk.fill("#f-app_metadata", broken)
    walk.submit(walk.button("Save app_metadata"))
    errors = walk.errors()
    assert any(error.startswith("Not valid JSON") and "Nothing was saved" in error for error in errors), errors
    assert walk.find("#f-app_metadata").get_attribute("value") == broken
    walk.check("user-invalid-json")
    assert get_user(server, admin, user_id)["app_metadata"] == saved
    # The same through HTTP: the status is 422.
    answer = requests.post(walk.url(path + "/metadata"), timeout=TIMEOUT, allow_redirects=False,
                           headers={"Cookie": f"tessera_console={walk.cookie()}"},
                           data={"csrf": walk.csrf(), "back": path, "field": "app_metadata", "json": broken})
    assert answer.status_code == 422 and "Not valid JSON" in answer.text, (answer.status_code, answer.text[:300])
    assert get_user(server, admin, user_id)["app_metadata"] == saved


# ---------------------------------------------------------------- Actions


ACTION_CODE = """exports.onExecutePostLogin = async (event, api) => {
  console.log(`%s ${event.user.email}`);
  api.idToken.setCustomClaim('%s', 'world');
};
""" % (ACTION_LOG, CLAIM)


def test_action_write_test_deploy_bind_and_run_at_a_real_sign_in(walk):
    walk.open("/console/actions", "actions-list")
    walk.fill("#f-name", ACTION_NAME)
    walk.submit(walk.button("Create", walk.find("#f-name").find_element("xpath", "./ancestor::form")))
    assert walk.path().startswith("/console/actions/") and walk.notice() == "Created."
    editor = walk.path()
    assert walk.h1() == f"Action {ACTION_NAME}"
    assert walk.find("#f-code").tag_name == "textarea"

    walk.fill("#f-code", ACTION_CODE)
    walk.submit(walk.button("Save"))
    walk.expect("Saved.", editor)
    assert walk.find("#f-code").get_attribute("value").strip() == ACTION_CODE.strip()
    walk.pages.add(editor)
    walk.check("action-editor")

    # Keyboard on the editor.
    targets = {name: walk.find(name) for name in ("#f-code", "#f-new_secret_name", "#f-new_secret_value", "#f-configuration", "#f-event")}
    targets.update({"Save": walk.button("Save"), "Deploy": walk.button("Deploy"), "Run the test": walk.button("Run the test")})
    unreachable = [name for name, element in targets.items() if not tab_reachable(walk.driver, element)]
    assert not unreachable, f"not reachable with Tab on {editor}: {unreachable}"

    walk.submit(walk.button("Run the test"))
    section = walk.find('section[aria-labelledby="test-result"]')
    assert section.find_element("css selector", "h2").text == "Test result"
    commands = [row.text for row in section.find_elements("css selector", "table tbody tr")]
    assert any(row.startswith("idToken.setCustomClaim") and CLAIM in row and "world" in row for row in commands), commands
    output = section.find_element("css selector", "pre").text
    assert f"{ACTION_LOG} jane@example.com" in output, output
    walk.check("action-test-result")

    walk.submit(walk.button("Deploy"))
    walk.expect("Deployed.", editor)
    versions = [row.text for row in walk.finds("main table tbody tr")]
    assert any(row.startswith("v1") and "deployed" in row for row in versions), versions

    walk.state["action_editor"] = editor


def test_post_login_flow_takes_one_name_per_line(walk):
    # Into the post-login flow, last: one name per line in the text area.
    walk.open("/console/actions")
    order = walk.find("#f-order").get_attribute("value").strip()
    assert order.splitlines()[:1] == ["Tinybird JWT"], order
    walk.fill("#f-order", order + "\n" + ACTION_NAME)
    walk.submit(walk.button("Save the flow"))
    walk.expect("Saved.", "/console/actions")
    flow = [li.text for li in walk.finds("ol.flow li")]
    assert flow == order.splitlines() + [ACTION_NAME], flow



def test_a_real_sign_in_runs_the_action(walk):
    flow = [li.text for li in walk.finds("ol.flow li")] if walk.path() == "/console/actions" else []
    assert ACTION_NAME in flow, f"the Action is not in the post-login flow ({flow}): see the test before"
    # A real sign-in: sign out of the console (the SSO session ends too), then sign in again.
    before = walk.cookie()
    walk.submit(walk.button("Sign out"))
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(walk.driver, WAIT).until(lambda d: walk.path() == "/u/login")
    assert walk.driver.get_cookie("tessera_console") is None
    assert walk.sign_in("/console/actions"), "after signing out, the hosted login must ask again"
    after = walk.cookie()
    remember_secret(after)
    walk.shown.append((after, "the session cookie"))
    assert after != before

    # The new execution is listed with the Action's name and its log line.
    def executions():
        walk.driver.refresh()
        return [row.text for row in walk.finds("main table") [-1].find_elements("css selector", "tbody tr")]
    rows = wait_until(lambda: [row for row in executions() if ACTION_NAME in row and f"{ACTION_LOG} {DEMO_EMAIL}" in row],
                      timeout=10, interval=1, message="the sign-in's execution on /console/actions")
    assert rows
    walk.check("actions-executions")


# ---------------------------------------------------------------- analytics


def test_analytics_data_source_pipe_run_chart_tokens(walk, server, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    walk.open("/console/analytics", "analytics-list")
    walk.submit(walk.link("demo"))
    workspace = walk.path()
    assert workspace == f"/console/analytics/{WORKSPACE_ID}" and walk.h1() == "Workspace demo"
    names = [row.text.split()[0] for row in walk.finds("main table")[0].find_elements("css selector", "tbody tr")]
    assert "sales" in names, names
    walk.pages.add(workspace)
    walk.check("analytics-workspace")

    # A data source, then a small CSV appended to it.
    source = f"console_sales_{uuid.uuid4().hex[:6]}"
    walk.fill("#f-ds-name", source)
    walk.fill("#f-schema", "`city` String `json:$.city`, `amount` Float64 `json:$.amount`")
    walk.fill("#f-ds-description", "Appended from the console test")
    walk.submit(walk.button("Create the data source"))
    walk.expect("Created.", f"{workspace}/datasources/{source}")
    rows = [("Paris", 10.5), ("Lyon", 3.0), ("Paris", 4.5), ("Madrid", 7.25)]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    upload = tmp_path / "sales.csv"
    upload.write_text(text.getvalue())
    walk.find("#f-file").send_keys(str(upload))
    walk.submit(walk.button("Append"))
    walk.expect("Appended.", f"{workspace}/datasources/{source}")
    facts = dict(zip([dt.text for dt in walk.finds("main dl dt")], [dd.text for dd in walk.finds("main dl dd")]))
    assert facts.get("Rows") == "4", facts
    sample = walk.source()
    assert "Madrid" in sample and "7.25" in sample
    walk.pages.add(walk.path())
    walk.check("analytics-datasource")

    # A pipe with a template parameter and a hostile description, published and run with a parameter.
    pipe = f"console_city_totals_{uuid.uuid4().hex[:6]}"
    walk.open(workspace)
    walk.fill("#f-pipe-name", pipe)
    walk.fill("#f-pipe-description", HOSTILE_HTML)
    walk.fill("#f-sql", f"SELECT city, sum(amount) AS total FROM {source} WHERE city = {{{{String(city, 'Paris')}}}} GROUP BY city")
    walk.submit(walk.button("Create the pipe"))
    pipe_path = f"{workspace}/pipes/{pipe}"
    walk.expect("Created.", pipe_path)
    assert HOSTILE_HTML in walk.find("main").text and "&lt;img src=x" in walk.source()
    assert not walk.finds('img[src="x"]') and not walk.pwned()
    if walk.finds("main form button") and "Publish this node as the endpoint" in [b.text for b in walk.finds("main form button")]:
        walk.submit(walk.button("Publish this node as the endpoint"))
        walk.expect("Saved.", pipe_path)
    assert [tag.text for tag in walk.finds("main span.tag")] == ["endpoint"]

    walk.fill("#f-city", "Lyon")
    walk.submit(walk.button("Run"))
    assert "run=1" in walk.driver.current_url and "city=Lyon" in walk.driver.current_url
    result = walk.find('section[aria-labelledby="result"]')
    statistics = [dt.text for dt in result.find_elements("css selector", "dl.statistics dt")]
    assert {"elapsed", "rows_read"} <= set(statistics), statistics
    table = [[td.text for td in tr.find_elements("css selector", "td")] for tr in result.find_elements("css selector", "tbody tr")]
    assert table == [["Lyon", "3"]], table
    assert walk.find("#f-city").get_attribute("value") == "Lyon"
    walk.pages.add(f"{pipe_path}?run=1&city=Lyon")
    walk.check("analytics-pipe")

    # A chart with a hostile title: its preview is framed by the pipe's page.
    walk.fill("#f-new-title", HOSTILE_HTML)
    walk.select("#f-new-type", "bar")
    walk.fill("#f-new-index", "city")
    walk.fill("#f-new-categories", "total")
    walk.submit(walk.button("Create the chart"))
    walk.expect("Saved.", pipe_path)
    frames = walk.finds("article.chart iframe")
    assert len(frames) == 1
    preview = urlsplit(frames[0].get_attribute("src")).path
    match = re.fullmatch(rf"{re.escape(pipe_path)}/charts/([^/]+)/preview", preview)
    assert match, preview
    chart_id = match.group(1)
    assert walk.find("article.chart h3").text == HOSTILE_HTML
    assert not walk.finds('img[src="x"]') and not walk.pwned()
    walk.driver.switch_to.frame(frames[0])
    try:
        WebDriverWait(walk.driver, WAIT).until(lambda d: walk.finds("svg"))
        assert not walk.finds('img[src="x"]') and not walk.pwned()
    finally:
        walk.driver.switch_to.default_content()
    walk.open(pipe_path)
    walk.driver.execute_script("document.querySelector('article.chart').scrollIntoView()")
    WebDriverWait(walk.driver, WAIT).until(lambda d: d.execute_script(
        "const f = document.querySelector('article.chart iframe'); return !!(f.contentDocument && f.contentDocument.querySelector('svg'))"))
    walk.check("analytics-pipe-chart")
    walk.state.update(pipe=pipe, chart_id=chart_id, workspace=workspace, preview=preview, source=source)

    # A static token: shown once, never listed.
    walk.open(workspace)
    walk.fill("#f-token-name", "console-static")
    walk.fill("#f-scopes", f"PIPES:READ:{pipe}")
    walk.submit(walk.button("Create the token"))
    static = walk.secret_once("analytics-token")
    walk.check("analytics-token", screenshot=False)
    walk.open(workspace)
    assert static not in walk.source() and "console-static" in walk.find("main").text

    # A JWT for the pipe with the chart; the chart page renders with it.
    walk.select("#f-pipe", pipe)
    walk.fill("#f-minutes", "10")
    walk.submit(walk.button("Mint the JWT"))
    token = walk.secret_once("analytics-jwt")
    assert token.count(".") == 2
    assert urlsplit(walk.link("Open the pipe's charts with this JWT").get_attribute("href")).path == pipe_path
    walk.check("analytics-jwt")
    walk.open(workspace)
    assert token not in walk.source() and static not in walk.source()

    walk.driver.get(walk.url(f"endpoints/{pipe}/charts/{chart_id}?token={token}"))
    WebDriverWait(walk.driver, WAIT).until(lambda d: walk.finds("svg"))
    assert walk.finds("svg rect.bar") or walk.finds("svg rect"), walk.source()[:1000]
    assert not walk.finds('img[src="x"]') and not walk.pwned()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert walk.driver.save_screenshot(str(ARTIFACTS / "console-chart-embed.png"))


def test_a_pipe_of_several_lines(walk):
    # SQL as a person types it in the text area, over several lines (the browser sends CR LF), with Tinybird's `%`.
    workspace, source = walk.state["workspace"], walk.state["source"]
    pipe = f"console_multiline_{uuid.uuid4().hex[:6]}"
    walk.open(workspace)
    walk.fill("#f-pipe-name", pipe)
    walk.fill("#f-sql", f"%\nSELECT city, count() AS orders\nFROM {source}\nWHERE amount > {{{{Float64(min_amount, 4)}}}}\nGROUP BY city\nORDER BY city")
    walk.submit(walk.button("Create the pipe"))
    walk.expect("Created.", f"{workspace}/pipes/{pipe}")
    walk.fill("#f-min_amount", "5")
    walk.submit(walk.button("Run"))
    table = [[td.text for td in tr.find_elements("css selector", "td")]
             for tr in walk.find('section[aria-labelledby="result"]').find_elements("css selector", "tbody tr")]
    assert table == [["Madrid", "1"], ["Paris", "1"]], table


# ---------------------------------------------------------------- GraphQL


def test_graphql_explorer_as_the_user_role(walk):
    user_id = walk.state["demo_user_id"]
    walk.open("/console/graphql")
    tables = [row.text for row in walk.finds("main table tbody tr")]
    assert any(row.startswith("public.users") and "user select" in row for row in tables), tables
    walk.fill("#f-query", "query Mine {\n  users { userId userName }\n}")
    walk.fill("#f-variables", "{}")
    walk.select("#f-role", "user")
    walk.fill("#f-session", json.dumps({"x-hasura-user-id": user_id}))
    walk.submit(walk.button("Run"))
    answer = walk.find('section[aria-labelledby="answer"] pre').text
    assert json.loads(answer) == {"data": {"users": [{"userId": user_id, "userName": None}]}}, answer
    assert walk.find("#f-role").get_attribute("value") == "user"
    walk.driver.execute_script("document.querySelector('section[aria-labelledby=\"answer\"]').scrollIntoView()")
    walk.check("graphql-answer")
    walk.submit(walk.link("Browse the schema's documentation"))
    assert walk.path() == "/console/graphql/schema" and walk.find("#type-users")
    walk.pages.add("/console/graphql/schema")
    walk.check("graphql-schema")


# ---------------------------------------------------------------- directory


def test_directory_sync_now_shows_live_progress(walk):
    walk.open("/console/directory")
    spans = walk.finds("span[data-sync]")
    assert [span.get_attribute("data-sync") for span in spans] == ["conn_tessera"]
    assert DEMO_EMAIL in walk.find("main").text, "the directory imported the tenant's users"
    walk.submit(walk.button("Sync now"))
    walk.expect("Sync started.", "/console/directory")
    # The page's script polls /console/directory/progress: overwrite the cell and see the script write it again.
    walk.driver.execute_script("document.querySelector('span[data-sync]').textContent = 'waiting for the script';")
    text = wait_until(lambda: (lambda t: t if t != "waiting for the script" else None)(walk.find("span[data-sync]").text),
                      timeout=8, message="the sync progress to be updated by the page's script")
    assert re.fullmatch(r"running: \d+( of \d+)? users|idle; last pass \d+ users", text), text
    walk.check("directory-sync")


# ---------------------------------------------------------------- every section: first paint, screenshot, axe


def test_every_section_page(walk):
    for name, path in SECTIONS.items():
        section = "home" if path == "/console/" else path.rsplit("/", 1)[1]
        walk.open(path, paint=True)
        assert walk.h1() == name, (path, walk.h1())
        assert walk.find('header nav a[aria-current="page"]').text == name
        walk.check(section)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "console-first-paint.json").write_text(json.dumps(walk.paints, indent=2) + "\n")
    print("first paint (ms):", json.dumps(walk.paints))
    missing = [path for path, value in walk.paints.items() if value is None]
    assert not missing, f"no first paint reported for {missing}"

    # Keyboard on the users list: the search field and button, a user's link, the nav.
    walk.open("/console/users")
    targets = {"#f-q": walk.find("#f-q"), "Search": walk.button("Search"), "user link": walk.link(DEMO_EMAIL),
               "nav Home": walk.link("Home"), "nav Directory": walk.link("Directory")}
    unreachable = [name for name, element in targets.items() if not tab_reachable(walk.driver, element)]
    assert not unreachable, f"not reachable with Tab on /console/users: {unreachable}"


# ---------------------------------------------------------------- security


def test_changes_need_the_form_token_and_the_same_origin(walk, server, admin):
    walk.open("/console/applications")
    cookie = {"Cookie": f"tessera_console={walk.cookie()}"}
    csrf = walk.csrf()
    form = {"back": "/console/applications", "app_type": "spa"}

    def post(path, data, **headers):
        return requests.post(walk.url(path), data=data, headers={**cookie, **headers}, allow_redirects=False, timeout=TIMEOUT)

    refused = {
        "no csrf": post("console/applications", dict(form, name="csrf-missing")),
        "wrong csrf": post("console/applications", dict(form, name="csrf-wrong", csrf="x" * len(csrf))),
        "cross-site": post("console/applications", dict(form, name="csrf-cross-site", csrf=csrf), **{"Sec-Fetch-Site": "cross-site"}),
        "same-site": post("console/applications", dict(form, name="csrf-same-site", csrf=csrf), **{"Sec-Fetch-Site": "same-site"}),
    }
    for case, response in refused.items():
        assert response.status_code == 403, (case, response.status_code, response.text[:300])
        assert "<h1>Change refused</h1>" in response.text, (case, response.text[:300])
        assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", ""), case
    names = {client["name"] for client in admin.get(server.url("api/v2/clients"), timeout=TIMEOUT).json()}
    assert not {n for n in names if n.startswith("csrf-")}, names

    # Without the cookie: sent to sign in, back to the form's page.
    anonymous = requests.post(walk.url("console/applications"), data=dict(form, name="csrf-anonymous", csrf=csrf),
                              allow_redirects=False, timeout=TIMEOUT)
    assert anonymous.status_code == 303 and anonymous.headers["Location"] == "/console/login?return_to=%2Fconsole%2Fapplications"

    # The same request with the token, from the console's own origin, is taken.
    role = f"console-csrf-{uuid.uuid4().hex[:6]}"
    taken = post("console/roles", {"csrf": csrf, "back": "/console/roles", "name": role}, **{"Sec-Fetch-Site": "same-origin"})
    assert taken.status_code == 303 and taken.headers["Location"].startswith("/console/roles/"), (taken.status_code, taken.text[:300])


def test_console_pages_forbid_framing(walk):
    cookie = {"Cookie": f"tessera_console={walk.cookie()}"}
    problems = []
    for path in sorted(walk.pages):
        response = requests.get(walk.url(path), headers=cookie, allow_redirects=False, timeout=TIMEOUT)
        policy = response.headers.get("Content-Security-Policy", "")
        if response.status_code != 200 or "frame-ancestors 'none'" not in policy or response.headers.get("X-Frame-Options") != "DENY":
            problems.append(f"{path}: {response.status_code} CSP={policy!r} XFO={response.headers.get('X-Frame-Options')!r}")
        if "script-src 'self'" not in policy or "'unsafe-inline'" in policy:
            problems.append(f"{path}: script policy {policy!r}")
    assert len(walk.pages) >= 15, sorted(walk.pages)
    assert not problems, "\n".join(problems)
    # The chart preview is framed by the console only, and runs no script.
    preview = requests.get(walk.url(walk.state["preview"]), headers=cookie, timeout=TIMEOUT)
    assert preview.status_code == 200 and "<svg" in preview.text
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    assert "script-src" not in preview.headers["Content-Security-Policy"]
    assert requests.get(walk.url(walk.state["preview"]), timeout=TIMEOUT).status_code == 403, "no preview without a session"


def test_a_non_admin_is_refused(server, admin):
    person = create_password_user(server, admin)
    browser = requests.Session()
    page = browser.get(server.url("console/"), timeout=TIMEOUT)  # -> /console/login -> /authorize -> /u/login
    assert urlsplit(page.url).path == "/u/login", page.url
    answer = submit_credentials(browser, login_form(page), person["email"], STRONG_PASSWORD)
    assert answer.status_code in (302, 303), answer.status_code
    final = browser.get(urljoin(page.url, answer.headers["Location"]), timeout=TIMEOUT)
    assert urlsplit(final.url).path == "/console/callback", final.url
    assert final.status_code == 403, final.status_code
    assert "<h1>Not a console administrator</h1>" in final.text
    assert "frame-ancestors 'none'" in final.headers["Content-Security-Policy"] and final.headers["X-Frame-Options"] == "DENY"
    assert "tessera_console" not in browser.cookies.get_dict()
    # Still refused for any page afterwards.
    again = browser.get(server.url("console/users"), allow_redirects=False, timeout=TIMEOUT)
    assert again.status_code == 303 and again.headers["Location"].startswith("/console/login")


def test_an_expired_session_returns_to_the_page(walk):
    walk.open("/console/keys")
    walk.driver.delete_cookie("tessera_console")
    assert walk.driver.get_cookie("tessera_console") is None
    asked = walk.sign_in("/console/roles")  # the hosted login's own session may finish it without the form
    print("after the console cookie went, the hosted login", "asked again" if asked else "finished on its own session")
    assert walk.h1() == "Roles"
    remember_secret(walk.cookie())
    walk.shown.append((walk.cookie(), "the session cookie"))


# ---------------------------------------------------------------- accessibility, over every page above


def test_no_serious_accessibility_violations(walk):
    assert len(walk.axe) >= 20, sorted(walk.axe)
    found = []
    for name, (url, violations) in sorted(walk.axe.items()):
        for violation in violations:
            found.append(f"{name} ({url}): {violation['impact']} {violation['id']} x{violation['count']}: "
                         f"{violation['help']} {violation['targets']}")
    for name, (url, ids) in sorted(walk.duplicate_ids.items()):
        found.append(f"{name} ({url}): ids used more than once (a label's for= then names the first only): {ids}")
    assert not found, "axe-core found serious/critical violations:\n" + "\n".join(found)
