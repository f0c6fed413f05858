"""Issue 14's figure: users_by_pk as role `user` with an RS256 JWT (verified against a JWKS, permission filter
applied) against the same query as admin, in the same run, with wrk on loopback. Target: JWT verification and
permission filtering together cost less than 15 % of throughput. Starts its own JWKS server and Tessera (BIN, a
release build), both on loopback; every run is bounded (DURATION seconds). Prints a Markdown block."""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

BIN = sys.argv[1]
# The engine's database: the embedded SQLite file, or PostgreSQL when GRAPHQL_DATABASE_URL names one.
DATABASE_URL = os.environ.get("GRAPHQL_DATABASE_URL", "")
DATABASE = "PostgreSQL" if DATABASE_URL else "SQLite"
DURATION = os.environ.get("DURATION", "10")
ROUNDS = int(os.environ.get("ROUNDS", "2"))
SECRET = "bench-graphql-admin-secret-0123456789"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWK = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
JWK.update({"kid": "bench", "alg": "RS256", "use": "sig"})


class JWKS(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"keys": [JWK]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


jwks = HTTPServer(("127.0.0.1", 0), JWKS)
threading.Thread(target=jwks.serve_forever, daemon=True).start()
config = {"jwk_url": f"http://127.0.0.1:{jwks.server_address[1]}/jwks.json", "issuer": "https://bench.issuer/", "audience": "bench"}
port = jwks.server_address[1] + 1
while True:
    try:
        probe = HTTPServer(("127.0.0.1", port), JWKS)
        probe.server_close()
        break
    except OSError:
        port += 1
base = f"http://127.0.0.1:{port}/"
data = tempfile.mkdtemp(prefix="tessera-bench-jwt-")
server = subprocess.Popen([BIN, "serve", "--port", str(port), "--data-dir", data, "--log-level", "warning"],
                          env=dict(os.environ, HASURA_GRAPHQL_ADMIN_SECRET=SECRET, HASURA_GRAPHQL_JWT_SECRET=json.dumps(config),
                                   **({"HASURA_GRAPHQL_DATABASE_URL": DATABASE_URL} if DATABASE_URL else {})),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
try:
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "healthz", timeout=1)
            break
        except Exception:
            time.sleep(0.1)

    def post(path, body, headers):
        request = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **headers})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    admin = {"x-hasura-admin-secret": SECRET}
    values = ", ".join(f"('user-{i}', 'User {i}')" for i in range(10000))
    post("v2/query", {"type": "run_sql", "args": {"sql": f"""CREATE TABLE "users" ("userId" text PRIMARY KEY, "userName" text,
        "lastSeen" timestamp DEFAULT CURRENT_TIMESTAMP); INSERT INTO "users" ("userId", "userName") VALUES {values};"""}}, admin)
    post("v1/metadata", {"type": "replace_metadata", "args": {"version": 3, "sources": [{"name": "default", "kind": "postgres", "tables": [{
        "table": {"schema": "public", "name": "users"},
        "select_permissions": [{"role": "user", "permission": {"columns": "*", "filter": {"userId": {"_eq": "X-Hasura-User-Id"}}}}]}]}]}}, admin)
    token = jwt.encode({"sub": "user-5000", "iss": "https://bench.issuer/", "aud": "bench", "exp": int(time.time()) + 3600,
                        "https://hasura.io/jwt/claims": {"x-hasura-default-role": "user", "x-hasura-allowed-roles": ["user"],
                                                         "x-hasura-user-id": "user-5000"}}, KEY, algorithm="RS256", headers={"kid": "bench"})
    query = {"query": "query User($id: String!) { users_by_pk(userId: $id) { userId userName lastSeen } }", "variables": {"id": "user-5000"}}
    as_user = post("v1/graphql", query, {"Authorization": f"Bearer {token}"})
    assert as_user["data"]["users_by_pk"]["userName"] == "User 5000", as_user
    assert post("v1/graphql", {**query, "variables": {"id": "user-1"}}, {"Authorization": f"Bearer {token}"})["data"]["users_by_pk"] is None

    lua = os.path.join(data, "post.lua")
    with open(lua, "w") as handle:
        handle.write('wrk.method = "POST"\nwrk.body = os.getenv("QUERY_BODY")\nwrk.headers["Content-Type"] = "application/json"\n'
                     'wrk.headers[os.getenv("HEADER_NAME")] = os.getenv("HEADER_VALUE")\n')

    def run(header, value, connections):
        env = dict(os.environ, QUERY_BODY=json.dumps(query), HEADER_NAME=header, HEADER_VALUE=value)
        out = subprocess.run(["wrk", "-t2" if connections > 1 else "-t1", f"-c{connections}", f"-d{DURATION}s", "--latency", "-s", lua,
                              base + "v1/graphql"], env=env, capture_output=True, text=True, timeout=int(DURATION) + 60).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        value, unit = re.search(r"\s50%\s+([\d.]+)(us|ms|s)", out).groups()
        return rps, float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    run("x-hasura-admin-secret", SECRET, 1)  # warm-up
    rows = []
    for connections in (1, 16):
        admin_runs, user_runs = [], []
        for _ in range(ROUNDS):  # alternate, so drift on the shared machine hits both
            admin_runs.append(run("x-hasura-admin-secret", SECRET, connections))
            user_runs.append(run("Authorization", f"Bearer {token}", connections))
        admin_rps = sum(r for r, _ in admin_runs) / ROUNDS
        user_rps = sum(r for r, _ in user_runs) / ROUNDS
        admin_p50 = sorted(p for _, p in admin_runs)[ROUNDS // 2]
        user_p50 = sorted(p for _, p in user_runs)[ROUNDS // 2]
        rows.append((connections, admin_rps, user_rps, admin_p50, user_p50))
    print(f"Machine: {os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}; date: {time.strftime('%Y-%m-%d', time.gmtime())}")
    print(f"Command: `BIN=<release build> Benchmarks/graphql_jwt.sh` (DURATION={DURATION}, ROUNDS={ROUNDS}), {DATABASE}, 10,000 rows\n")
    print("| connections | admin req/s | role user + RS256 JWT req/s | cost of JWT + permission | admin p50 ms | user p50 ms |")
    print("|---|---|---|---|---|---|")
    for connections, admin_rps, user_rps, admin_p50, user_p50 in rows:
        print(f"| {connections} | {admin_rps:,.0f} | {user_rps:,.0f} | **{(1 - user_rps / admin_rps) * 100:.1f} %** | {admin_p50:.3f} | {user_p50:.3f} |")
finally:
    server.terminate()
    server.wait(timeout=30)
    jwks.shutdown()
    subprocess.run(["rm", "-rf", data])
