"""The same row as the benchmarked users_by_pk, read by a bare prepared statement on the same database, one call at a
time, SAMPLES times: prints p50 and p99 in milliseconds. The argument is the SQLite file or a postgres:// URL."""
import os
import statistics
import sys
import time

TARGET = sys.argv[1]
SAMPLES = int(os.environ.get("SAMPLES", "5000"))
SQL = 'SELECT "userId", "userName", "lastSeen" FROM "users" WHERE "userId" = {}'

if TARGET.startswith("postgres"):
    import psycopg
    connection = psycopg.connect(TARGET, autocommit=True)
    cursor = connection.cursor()
    def read():
        cursor.execute(SQL.format("%s"), ("user-5000",), prepare=True)
        return cursor.fetchone()
else:
    import sqlite3
    connection = sqlite3.connect(TARGET)
    def read():
        return connection.execute(SQL.format("?"), ("user-5000",)).fetchone()

assert read()[1] == "User 5000"
times = []
for _ in range(SAMPLES):
    started = time.perf_counter()
    read()
    times.append((time.perf_counter() - started) * 1000)
times.sort()
print(f"{statistics.median(times):.4f} {times[int(len(times) * 0.99) - 1]:.4f}")
