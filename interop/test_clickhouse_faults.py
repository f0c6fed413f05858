"""ClickHouse stopped mid-ingestion and started again: a ClickHouse-backed workspace fed by the Events API (requests,
as any HTTP client sends them) from several threads while the ClickHouse server is killed and restarted. Afterwards
every row Tessera acknowledged is in ClickHouse, and no row is there twice.

The test runs a ClickHouse of its own (scripts/clickhouse.sh, Debian's clickhouse-server), so it can kill it."""
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import remember_secret, start_tessera, stop_tessera

ROOT = Path(__file__).resolve().parent.parent
SERVER = "/usr/sbin/clickhouse-server"
ADMIN_TOKEN = "interop-faults-admin-token-0123456789abcdef"
remember_secret(ADMIN_TOKEN)


@pytest.fixture(scope="module")
def clickhouse():
    if not os.access(SERVER, os.X_OK):
        pytest.fail(f"{SERVER} is missing: run scripts/install-deps.sh test")
    root = tempfile.mkdtemp(prefix="tessera-ch-faults-")
    url = subprocess.run([str(ROOT / "scripts/clickhouse.sh"), "start", root], capture_output=True, text=True,
                         check=True, timeout=120).stdout.strip()
    try:
        yield url, Path(root) / "single"
    finally:
        subprocess.run([str(ROOT / "scripts/clickhouse.sh"), "stop", root], timeout=60)


def restart(node: Path, url: str):
    """Kills the server outright (no clean shutdown), then starts it again on the same config and data."""
    pid = int((node / "pid").read_text())
    os.kill(pid, signal.SIGKILL)
    while True:
        try:
            os.kill(pid, 0)
            time.sleep(0.05)
        except ProcessLookupError:
            break
    time.sleep(2)  # down for a while: requests in this window wait or fail
    with open(node / "log" / "stdout.log", "ab") as log:
        process = subprocess.Popen([SERVER, f"--config-file={node / 'config.xml'}"], stdout=log, stderr=log,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    (node / "pid").write_text(str(process.pid))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/ping", timeout=1).content.strip() == b"Ok.":
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    logs = "\n".join((node / "log" / name).read_text(errors="replace")[-2000:] for name in ("stdout.log", "error.log")
                      if (node / "log" / name).exists())
    raise AssertionError(f"clickhouse-server did not come back:\n{logs}")


@pytest.fixture(scope="module")
def tessera(clickhouse, tmp_path_factory):
    url, _ = clickhouse
    folder = tmp_path_factory.mktemp("faults")
    (folder / "datasources").mkdir()
    (folder / "datasources" / "events.datasource").write_text(
        "SCHEMA >\n    `id` String `json:$.id`,\n    `n` UInt32 `json:$.n`\n\nENGINE \"MergeTree\"\nENGINE_SORTING_KEY \"id\"\n")
    tenant = folder / "tessera.yaml"
    tenant.write_text(f"""workspaces:
  - name: faults
    admin_token: "{ADMIN_TOKEN}"
    datafiles: {folder}
    engine: clickhouse
    clickhouse:
      url: "{url}"
      database: faults
      timeout_seconds: 5
""")
    running = start_tessera("--apply", str(tenant), prefix="tessera-faults-")
    try:
        yield running.base
    finally:
        stop_tessera(running)


def test_every_acknowledged_row_survives_a_restart_and_none_is_twice(clickhouse, tessera):
    url, node = clickhouse
    acknowledged, refused, errors = set(), [], []
    lock = threading.Lock()
    stop = threading.Event()

    def feed(worker: int):
        session = requests.Session()
        batch = 0
        while not stop.is_set():
            ids = [f"w{worker}-b{batch}-{i}" for i in range(50)]
            body = "\n".join(f'{{"id":"{row}","n":{i}}}' for i, row in enumerate(ids))
            try:
                response = session.post(tessera + "v0/events", params={"name": "events", "wait": "true"}, data=body,
                                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)
            except requests.RequestException as error:  # the request's outcome is unknown: not acknowledged
                with lock:
                    errors.append(str(error))
            else:
                with lock:
                    if response.status_code == 200 and response.json().get("successful_rows") == 50:
                        acknowledged.update(ids)
                    else:
                        refused.append((response.status_code, response.text[:200]))
            batch += 1
            time.sleep(0.02)

    threads = [threading.Thread(target=feed, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        before = len(acknowledged)
        restart(node, url)
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert before > 0 and len(acknowledged) > before, "rows were acknowledged before and after the restart"
    assert all(status == 503 for status, _ in refused), refused[:5]

    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    counted = requests.get(tessera + "v0/sql", params={"q": "SELECT count() AS n, uniqExact(id) AS ids FROM events"},
                           headers=admin, timeout=30).json()["data"][0]
    assert counted["n"] == counted["ids"], f"a row is there twice: {counted}"
    stored = requests.get(tessera + "v0/sql", params={"q": "SELECT id FROM events FORMAT CSV"}, headers=admin, timeout=60)
    present = {line.strip('"') for line in stored.text.splitlines()}
    missing = acknowledged - present
    assert not missing, f"{len(missing)} acknowledged rows are missing, e.g. {sorted(missing)[:3]}"
    print(f"acknowledged {len(acknowledged)}, stored {counted['n']}, refused {len(refused)} requests with 503, "
          f"{len(errors)} without an answer")
