"""Creates and tracks seed 004's `users` table with ROWS rows through Tessera's own admin API (run_sql, pg_track_table),
and checks that the benchmarked query answers the row."""
import json
import sys
import urllib.request

BASE, SECRET, ROWS = sys.argv[1], sys.argv[2], int(sys.argv[3])


def post(path, body):
    request = urllib.request.Request(BASE + path, data=json.dumps(body).encode(),
                                     headers={"x-hasura-admin-secret": SECRET, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


values = ", ".join(f"('user-{i}', 'User {i}')" for i in range(ROWS))
post("v2/query", {"type": "run_sql", "args": {"sql": f"""
    CREATE TABLE "users" ("userId" text PRIMARY KEY, "userName" text, "lastSeen" timestamp DEFAULT CURRENT_TIMESTAMP);
    INSERT INTO "users" ("userId", "userName") VALUES {values};"""}})
post("v1/metadata", {"type": "pg_track_table", "args": {"table": "users"}})
answer = post("v1/graphql", {"query": "query User($id: String!) { users_by_pk(userId: $id) { userId userName lastSeen } }",
                             "variables": {"id": "user-5000"}})
assert answer["data"]["users_by_pk"]["userName"] == "User 5000", answer
