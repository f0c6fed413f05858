"""Seeds N users straight into a stopped Tessera's store (bcrypt would make the API path take hours): a SQLite file,
or a postgres:// URL (written with psql's COPY). Rows look like what POST /api/v2/users writes: lower-case emails,
names, metadata JSON, ISO timestamps."""
import csv, io, json, random, sqlite3, subprocess, sys
from datetime import datetime, timedelta, timezone

path, count = sys.argv[1], int(sys.argv[2])
random.seed(7)
start = datetime(2025, 1, 1, tzinfo=timezone.utc)
plans = ["free", "free", "free", "pro", "team"]
first = ["Ada", "Alan", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Edsger"]
last = ["Lovelace", "Turing", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie", "Allen", "Dijkstra"]
rows = []
for i in range(count):
    at = (start + timedelta(seconds=i * 37)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    name = f"{random.choice(first)} {random.choice(last)}"
    meta = {"plan": random.choice(plans), "org": f"org-{i % 500}"}
    rows.append((f"auth0|bench{i:08d}", "Username-Password-Authentication", f"user{i}@bench{i % 20}.test",
                 1, name, name.split()[0], name.split()[1], f"user{i}", at, at, i % 50, json.dumps(meta), "{}"))
columns = ("user_id, connection, email, email_verified, name, given_name, family_name, nickname, created_at, updated_at, "
           "logins_count, app_metadata, user_metadata")
if path.startswith("postgres://"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    subprocess.run(["psql", path, "-v", "ON_ERROR_STOP=1", "-q", "-c", f"COPY users ({columns}) FROM STDIN WITH (FORMAT csv)"],
                   input=buffer.getvalue(), text=True, check=True)
    # What autovacuum does within a minute of a bulk load (autovacuum_naptime): without statistics PostgreSQL plans
    # `email.domain:` as a full scan and sort (28 ms) instead of walking users_created_at (0.4 ms).
    subprocess.run(["psql", path, "-v", "ON_ERROR_STOP=1", "-q", "-c", "ANALYZE users"], check=True)
else:
    db = sqlite3.connect(path)
    db.executemany(f"INSERT INTO users ({columns}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
print(f"seeded {count} users into {path}")
