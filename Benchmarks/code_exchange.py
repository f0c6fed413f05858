"""Measures the authorization-code exchange at /oauth/token: makes N codes through the hosted login form
(PKCE, a real session each time), then exchanges them one after another and prints p50/p99 in ms."""
import base64, hashlib, json, re, secrets, statistics, sys, time
import requests

base, client_id, callback, email, password, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
codes = []
for _ in range(count):
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    browser = requests.Session()
    page = browser.get(f"{base}authorize", params={
        "response_type": "code", "client_id": client_id, "redirect_uri": callback, "scope": "openid profile email",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256", "prompt": "login"}, timeout=10)
    state = re.search(r'name="state" value="([^"]+)"', page.text).group(1)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    done = browser.post(f"{base}u/login", data={"state": state, "csrf": csrf, "email": email, "password": password},
                        allow_redirects=False, timeout=10)
    code = re.search(r"code=([^&]+)", done.headers["Location"]).group(1)
    codes.append((code, verifier))

exchange = requests.Session()
timings = []
for code, verifier in codes:
    started = time.perf_counter()
    response = exchange.post(f"{base}oauth/token", data={
        "grant_type": "authorization_code", "client_id": client_id, "code": code,
        "redirect_uri": callback, "code_verifier": verifier}, timeout=10)
    timings.append((time.perf_counter() - started) * 1000)
    assert response.status_code == 200 and "id_token" in response.json(), response.text
timings.sort()
p99 = timings[max(0, int(len(timings) * 0.99) - 1)]
print(json.dumps({"count": len(timings), "p50_ms": round(statistics.median(timings), 2), "p99_ms": round(p99, 2)}))
