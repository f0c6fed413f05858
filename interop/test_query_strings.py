"""Every route family decodes a query string one way, the way Python `requests` (and browsers, authlib, curl
--data-urlencode) sends it: `+` is a space, `%20` is a space, `%2B` is a literal plus, a repeated name keeps its
first value where one value is read, and a query string over 32 KiB is answered 414 (URI Too Long) in the family's
own error shape: never a 500 or a dropped connection.

Families: /authorize (the hosted pages: HTML), the Management API (Auth0's JSON errors), Tinybird's /v0 (its
`{"error": …}`) and the embeddable chart pages (HTML that shows in the frame). Each test sends some queries through
`requests`' own encoding and some spelled out by hand, so both halves of the contract are pinned."""

import datetime
import json
import re
import subprocess
import uuid
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import jwt
import pytest
import requests

from conftest import TIMEOUT, _binary, create_spa_client, fetch_token, free_port, pkce_pair, remember_secret
from test_management import assert_auth0_error
from test_signin import login_form, parse_page

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE_ID = "1f484a32-6966-4f63-9312-aadad64d3e12"  # the demo workspace of examples/tessera.yaml
CHART_ID = "78f0fec8-4a5e-4072-a4f7-b3e37e123839"  # seed 002's chart id (examples/tessera.yaml, charts-flask)
ADMIN_TOKEN = "interop-query-admin-token-0123456789abcdef"
remember_secret(ADMIN_TOKEN)
QUERY_LIMIT = 32 * 1024  # RequestParameters.maximumQueryLength
OVERSIZE = "x" * (40 * 1024)  # over the limit, well under the HTTP decoder's 80 KiB request-head limit
TOO_LONG = f"The query string is longer than {QUERY_LIMIT} bytes"
START = "2026-10-15 00:00:00"  # a DateTime pipe parameter: it has a space
# Two orders whose products differ only by '+' against ' ': which city comes back shows how `product` was decoded.
EXTRA_ROWS = [
    {"timestamp": "2026-11-21 12:00:00", "order_id": "q-plus", "city": "Plusville", "product": "a+b pen", "units": 1,
     "amount": 1.5},
    {"timestamp": "2026-11-21 12:00:00", "order_id": "q-space", "city": "Spaceville", "product": "a b pen", "units": 1,
     "amount": 2.5},
]


# ---------------------------------------------------------------- helpers


def get(url, **kwargs):
    """A GET that does not follow redirects; a dropped connection fails the test (requests raises)."""
    return requests.get(url, allow_redirects=False, timeout=TIMEOUT, **kwargs)


def assert_healthy(server):
    assert get(server.url("healthz")).status_code == 200


def sent_query(response) -> str:
    """The query string exactly as it went on the wire."""
    return urlsplit(response.request.url).query


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def workspace(server):
    """The demo workspace (sample sales, sales_by_city) with seed 002's chart, applied with the CLI, plus two
    orders whose products are 'a+b pen' and 'a b pen'."""
    tenant = Path(server.data_dir).parent / "query-workspace.yaml"
    tenant.write_text(f"""workspaces:
  - name: demo
    id: "{WORKSPACE_ID}"
    admin_token: "{ADMIN_TOKEN}"
    datafiles: {ROOT / 'examples' / 'analytics'}
    charts:
      - id: "{CHART_ID}"
        pipe: sales_by_city
        type: bar
        title: Revenue by city
        index: city
        categories: [revenue]
        height: 200
""")
    applied = subprocess.run([_binary(), "apply", str(tenant), "--data-dir", server.data_dir, "--issuer", server.issuer],
                             capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert applied.returncode == 0, applied.stderr
    assert f"saved chart demo/sales_by_city/{CHART_ID}" in applied.stdout, applied.stdout
    appended = requests.post(server.url("v0/events"), params={"name": "sales", "wait": "true"},
                             data="\n".join(json.dumps(row) for row in EXTRA_ROWS), headers=bearer(ADMIN_TOKEN),
                             timeout=TIMEOUT)
    assert appended.status_code == 200, appended.text
    assert appended.json() == {"successful_rows": 2, "quarantined_rows": 0}
    return WORKSPACE_ID


def pipe_token():
    """A workspace JWT (as seed 000/002 mint them) that reads sales_by_city."""
    return jwt.encode({"workspace_id": WORKSPACE_ID, "name": "query-strings",
                       "exp": datetime.datetime.now(tz=datetime.timezone.utc) + datetime.timedelta(hours=1),
                       "scopes": [{"type": "PIPES:READ", "resource": "sales_by_city"}]}, ADMIN_TOKEN, algorithm="HS256")


def expected_revenue(start=None, product=None):
    """{city: revenue} of sales_by_city for a start_date and a product, from the sample data and EXTRA_ROWS."""
    rows = [json.loads(line) for line in
            (ROOT / "examples/analytics/datasources/fixtures/sales.ndjson").read_text().splitlines()] + EXTRA_ROWS
    totals = {}
    for row in rows:
        if (start is None or row["timestamp"] >= start) and (product is None or row["product"] == product):
            totals[row["city"]] = totals.get(row["city"], 0) + row["amount"]
    return totals


def revenue(response):
    assert response.status_code == 200, f"{response.status_code}: {response.text[:300]}"
    return {row["city"]: row["revenue"] for row in response.json()["data"]}


# ---------------------------------------------------------------- /authorize: the hosted pages


def test_authorize_decodes_queries_one_way(server, admin):
    callback = f"http://127.0.0.1:{free_port()}/callback"  # never fetched: the tests read the Location header
    client = create_spa_client(server, admin, callback)
    _, challenge = pkce_pair()
    required = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": callback,
                "scope": "openid email", "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256"}

    def by_hand(*raw):
        """/authorize with the required parameters, then `raw` (name=value pieces spelled exactly as given)."""
        return server.url("authorize") + "?" + urlencode(required, quote_via=quote) + "".join("&" + r for r in raw)

    def returned_state(response):
        """prompt=none without a session sends the browser back with login_required and the state, decoded."""
        assert response.status_code == 302, f"{response.status_code}: {response.text[:300]}"
        location = response.headers["Location"]
        assert location.split("?", 1)[0] == callback, location
        query = parse_qs(urlsplit(location).query)
        assert query["error"] == ["login_required"], location
        return query["state"]

    # requests sends a space as '+' and a plus as '%2B'.
    sent = get(server.url("authorize"), params={**required, "prompt": "none", "state": "a b+c"})
    assert "state=a+b%2Bc" in sent_query(sent), sent.request.url
    assert returned_state(sent) == ["a b+c"]
    assert returned_state(get(by_hand("prompt=none", "state=a+b%2Bc"))) == ["a b+c"]
    assert returned_state(get(by_hand("prompt=none", "state=a%20b%2Bc"))) == ["a b+c"]
    assert returned_state(get(by_hand("prompt=none", "state=first", "state=second"))) == ["first"], "the first wins"

    # login_hint reaches the login page's email field, decoded the same way.
    def hinted_email(url):
        page = requests.Session().get(url, timeout=TIMEOUT)  # follows the 302 to /u/login?state=TX
        assert urlsplit(page.url).path == "/u/login", page.url
        return login_form(page)["inputs"]["email"]

    sent = requests.Request("GET", server.url("authorize"), params={**required, "login_hint": "ada+tag@example.com"})
    prepared = sent.prepare()
    assert "login_hint=ada%2Btag%40example.com" in urlsplit(prepared.url).query, prepared.url
    assert hinted_email(prepared.url) == "ada+tag@example.com"
    assert hinted_email(by_hand("login_hint=ada%2Btag@example.com")) == "ada+tag@example.com"
    assert hinted_email(by_hand("login_hint=Ada+Lovelace")) == "Ada Lovelace"
    assert hinted_email(by_hand("login_hint=Ada%20Lovelace")) == "Ada Lovelace"
    assert hinted_email(by_hand("login_hint=first%40example.com", "login_hint=second%40example.com")) \
        == "first@example.com"

    # Over 32 KiB: the hosted error page, 414, and no redirect (the request was never read, so nothing is trusted).
    response = get(by_hand(f"state={OVERSIZE}"))
    assert response.status_code == 414, f"{response.status_code}: {response.text[:300]}"
    assert response.headers["Content-Type"].startswith("text/html"), response.headers
    assert "Location" not in response.headers
    page = parse_page(response.text)
    assert not page.forms
    assert "<h1>Invalid request</h1>" in response.text
    assert TOO_LONG in "".join(page.text)
    assert_healthy(server)


# ---------------------------------------------------------------- the Management API


def test_management_api_decodes_queries_one_way(server, admin):
    tag = uuid.uuid4().hex[:10]
    email = f"ada+{tag}@query.example.com"
    name = f"Ada C++ Lovelace {tag}"  # spaces and pluses
    created = admin.post(server.url("api/v2/users"), json={
        "connection": "Username-Password-Authentication", "email": email, "password": "Passw0rd!x", "name": name,
    }, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    user_id = created.json()["user_id"]

    def ids(response):
        assert response.status_code == 200, f"{response.request.url}: {response.status_code} {response.text}"
        assert isinstance(response.json(), list), response.text
        return [user["user_id"] for user in response.json()]

    users = server.url("api/v2/users")
    # q=name:"Ada C++ Lovelace <tag>" as requests sends it: spaces as '+', each plus as '%2B'.
    sent = admin.get(users, params={"q": f'name:"{name}"'}, timeout=TIMEOUT)
    assert f"C%2B%2B+Lovelace+{tag}" in sent_query(sent), sent.request.url
    assert ids(sent) == [user_id]
    assert ids(admin.get(f'{users}?q=name:%22Ada%20C%2B%2B%20Lovelace%20{tag}%22', timeout=TIMEOUT)) == [user_id]
    assert ids(admin.get(f'{users}?q=name:"Ada+C%2B%2B+Lovelace+{tag}"', timeout=TIMEOUT)) == [user_id]
    # An unescaped '+' is a space: "C++" sent raw searches for "C  " and finds no one.
    assert ids(admin.get(f'{users}?q=name:"Ada+C+++Lovelace+{tag}"', timeout=TIMEOUT)) == []
    # q=email:"a+b@…" needs the '%2B'; a raw '+' looks up "a b@…".
    assert ids(admin.get(users, params={"q": f'email:"{email}"'}, timeout=TIMEOUT)) == [user_id]
    assert ids(admin.get(f'{users}?q=email:"ada%2B{tag}@query.example.com"', timeout=TIMEOUT)) == [user_id]
    assert ids(admin.get(f'{users}?q=email:"ada+{tag}@query.example.com"', timeout=TIMEOUT)) == []
    # Repeated q: the first is the search.
    assert ids(admin.get(f'{users}?q=email:"ada%2B{tag}@query.example.com"&q=email:"nobody@query.example.com"',
                         timeout=TIMEOUT)) == [user_id]
    assert ids(admin.get(f'{users}?q=email:"nobody@query.example.com"&q=email:"ada%2B{tag}@query.example.com"',
                         timeout=TIMEOUT)) == []

    by_email = server.url("api/v2/users-by-email")
    sent = admin.get(by_email, params={"email": email}, timeout=TIMEOUT)
    assert f"email=ada%2B{tag}%40query.example.com" in sent_query(sent), sent.request.url
    assert ids(sent) == [user_id]
    assert ids(admin.get(f"{by_email}?email=ada%2B{tag}@query.example.com", timeout=TIMEOUT)) == [user_id]
    # 'ada+tag@…' unescaped is "ada tag@…", as is '%20': no such user (and not the plus-addressed one).
    assert ids(admin.get(f"{by_email}?email=ada+{tag}@query.example.com", timeout=TIMEOUT)) == []
    assert ids(admin.get(f"{by_email}?email=ada%20{tag}@query.example.com", timeout=TIMEOUT)) == []
    assert ids(admin.get(f"{by_email}?email=ada%2B{tag}@query.example.com&email=nobody@query.example.com",
                         timeout=TIMEOUT)) == [user_id]
    assert ids(admin.get(f"{by_email}?email=nobody@query.example.com&email=ada%2B{tag}@query.example.com",
                         timeout=TIMEOUT)) == []
    # Repeated per_page: the first is the page size.
    assert len(ids(admin.get(f"{users}?per_page=1&per_page=50", timeout=TIMEOUT))) == 1

    # Over 32 KiB: Auth0's error shape with 414.
    for url in (f"{users}?q={OVERSIZE}", f"{by_email}?email={OVERSIZE}"):
        body = assert_auth0_error(admin.get(url, timeout=TIMEOUT), 414, "query_too_long")
        assert body["message"] == TOO_LONG, body
    assert_healthy(server)


# ---------------------------------------------------------------- Tinybird's /v0


def assert_pipe_parameters_decode(url, token, read, since):
    """The same pipe parameters on an endpoint or a chart page, read with `read` (revenue per city): a space as '+'
    (what requests sends, with ':' as %3A) or '%20'; '%2B' a plus, so the products 'a+b pen' and 'a b pen' are
    different orders."""
    sent = get(url, params={"token": token, "start_date": START})
    assert "start_date=2026-10-15+00%3A00%3A00" in sent_query(sent), sent.request.url
    assert read(sent) == pytest.approx(since, abs=0.01)
    for start in ("2026-10-15+00:00:00", "2026-10-15%2000:00:00"):
        assert read(get(f"{url}?token={token}&start_date={start}")) == pytest.approx(since, abs=0.01), start
    sent = get(url, params={"token": token, "product": "a+b pen"})
    assert "product=a%2Bb+pen" in sent_query(sent), sent.request.url
    assert read(sent) == {"Plusville": 1.5}
    assert read(get(f"{url}?token={token}&product=a%2Bb%20pen")) == {"Plusville": 1.5}
    for spaced in ("a+b+pen", "a%20b%20pen"):
        assert read(get(f"{url}?token={token}&product={spaced}")) == {"Spaceville": 2.5}, spaced


def test_tinybird_api_decodes_queries_one_way(server, workspace):
    pipe = server.url("v0/pipes/sales_by_city.json")
    token = pipe_token()
    everything = expected_revenue()
    since = expected_revenue(start=START)
    assert since != everything, "the start date must filter something"

    assert_pipe_parameters_decode(pipe, token, revenue, since)
    # Repeated names: the first value is the parameter (and the first token the credential).
    assert len(revenue(get(f"{pipe}?token={token}&limit=1&limit=5"))) == 1
    assert revenue(get(f"{pipe}?token={token}&start_date=2026-10-15+00:00:00&start_date=2000-01-01+00:00:00")) \
        == pytest.approx(since, abs=0.01)
    assert revenue(get(f"{pipe}?token={token}&token=p.not-a-token")) == pytest.approx(everything, abs=0.01)
    refused = get(f"{pipe}?token=p.not-a-token&token={token}")
    assert refused.status_code == 403 and "data" not in refused.json(), refused.text

    # /v0/sql?q=SELECT+1, as the Tinybird docs write it.
    sql = server.url("v0/sql")
    for query in ("q=SELECT+1", "q=SELECT%201"):
        response = get(f"{sql}?{query}", headers=bearer(ADMIN_TOKEN))
        assert response.status_code == 200, f"{query}: {response.text}"
        assert response.json()["data"] == [{"1": 1}], response.text
    sent = get(sql, params={"q": "SELECT 'a+b c' AS x"}, headers=bearer(ADMIN_TOKEN))
    assert "q=SELECT+%27a%2Bb+c%27+AS+x" in sent_query(sent), sent.request.url
    assert sent.status_code == 200 and sent.json()["data"] == [{"x": "a+b c"}], sent.text
    response = get(f"{sql}?q=SELECT+'a+b%2Bc'+AS+x&q=SELECT+2", headers=bearer(ADMIN_TOKEN))
    assert response.status_code == 200 and response.json()["data"] == [{"x": "a b+c"}], response.text

    # Over 32 KiB: Tinybird's shape, {"error": "…"}, with 414.
    for url, headers in ((f"{pipe}?token={token}&product={OVERSIZE}", {}),
                         (f"{sql}?q=SELECT+1&x={OVERSIZE}", bearer(ADMIN_TOKEN))):
        response = get(url, headers=headers)
        assert response.status_code == 414, f"{response.status_code}: {response.text[:300]}"
        assert response.headers["Content-Type"].startswith("application/json"), response.headers
        assert response.json() == {"error": TOO_LONG}
    assert_healthy(server)


# ---------------------------------------------------------------- chart pages


def bars(response):
    """{label: value} of the chart page's bars (the page draws one layout per frame shape; they must agree)."""
    assert response.status_code == 200, f"{response.status_code}: {response.text[-500:]}"
    assert response.headers["Content-Type"].startswith("text/html"), response.headers
    found = re.findall(r'<rect class="bar"[^>]*\bdata-label="([^"]*)"[^>]*\bdata-value="([^"]*)"', response.text)
    assert found, response.text[-500:]
    values = {}
    for label, value in found:
        assert values.setdefault(label, float(value)) == float(value), (label, value, values)
    return values


def test_chart_pages_decode_queries_one_way(server, workspace):
    page = server.url(f"endpoints/sales_by_city/charts/{CHART_ID}")
    token = pipe_token()
    everything = expected_revenue()
    since = expected_revenue(start=START)

    assert bars(get(page, params={"token": token})) == pytest.approx(everything, abs=0.01)
    assert_pipe_parameters_decode(page, token, bars, since)
    # Repeated names: the first token is the credential, the first value the parameter.
    assert bars(get(f"{page}?token={token}&token=p.not-a-token")) == pytest.approx(everything, abs=0.01)
    refused = get(f"{page}?token=p.not-a-token&token={token}")
    assert refused.status_code == 403, refused.status_code
    assert "This chart cannot be shown" in refused.text and '<rect class="bar"' not in refused.text
    assert bars(get(f"{page}?token={token}&product=a%2Bb+pen&product=a+b+pen")) == {"Plusville": 1.5}

    # Over 32 KiB: the chart page's own error page (which any page may frame), with 414.
    response = get(f"{page}?token={token}&product={OVERSIZE}")
    assert response.status_code == 414, f"{response.status_code}: {response.text[:300]}"
    assert response.headers["Content-Type"].startswith("text/html"), response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"], response.headers
    assert '<div class="error" role="alert"><h1>This chart cannot be drawn</h1>' in response.text, response.text[-500:]
    assert TOO_LONG in response.text
    assert '<rect class="bar"' not in response.text
    assert_healthy(server)


# ---------------------------------------------------------------- beyond the HTTP decoder's limit


def test_a_request_head_over_the_http_decoders_limit_is_refused_cleanly(server, workspace):
    """Past 80 KiB of request head, SwiftNIO's HTTP decoder refuses the request before any route runs: a bare
    400 with the connection closed, the same on every family, and the server keeps serving. Between 32 KiB and that
    limit each family answers 414 in its own shape (the tests above)."""
    huge = "x" * (100 * 1024)
    admin = bearer(fetch_token(server, server.client_id, server.client_secret))
    answers = {
        "management": get(server.url(f"api/v2/users?q={huge}"), headers=admin),
        "tinybird": get(server.url(f"v0/pipes/sales_by_city.json?token={pipe_token()}&product={huge}")),
        "chart page": get(server.url(f"endpoints/sales_by_city/charts/{CHART_ID}?token={pipe_token()}&x={huge}")),
        "authorize": get(server.url(f"authorize?state={huge}")),
    }
    assert {family: response.status_code for family, response in answers.items()} == dict.fromkeys(answers, 400)
    assert all(response.content == b"" for response in answers.values())
    assert_healthy(server)
