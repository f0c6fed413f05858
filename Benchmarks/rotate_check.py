"""Rotates a client's secret on one instance and times how long another instance sharing the store keeps accepting
the old one. Usage: rotate_check.py FIRST_BASE SECOND_BASE ADMIN_CLIENT_JSON CLIENT_ID OLD_SECRET AUDIENCE.
Prints one line for BENCHMARKS.md; exits 1 if the second instance still takes the old secret after 30 s (the bound)."""
import json
import sys
import time

import requests

first, second, admin_file, client_id, old_secret, audience = sys.argv[1:7]


def token(base, secret, audience):
    return requests.post(base + "oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "audience": audience,
    }, timeout=10)


admin = json.load(open(admin_file))
management = requests.post(first + "oauth/token", data={
    "grant_type": "client_credentials", "client_id": admin["client_id"], "client_secret": admin["client_secret"],
    "audience": first + "api/v2/",
}, timeout=10).json()["access_token"]
assert token(second, old_secret, audience).status_code == 200, "the second instance should take the old secret first"

rotated = requests.post(f"{first}api/v2/clients/{client_id}/rotate-secret",
                        headers={"Authorization": f"Bearer {management}"}, timeout=10)
rotated.raise_for_status()
started = time.monotonic()
attempts = 0
while True:
    attempts += 1
    status = token(second, old_secret, audience).status_code
    if status == 401:
        break
    if time.monotonic() - started > 30:
        print(f"the second instance still took the old secret 30 s after the rotation (status {status})")
        sys.exit(1)
elapsed_ms = (time.monotonic() - started) * 1000
new_status = token(second, rotated.json()["client_secret"], audience).status_code
print(f"the second instance refused the old secret {elapsed_ms:.1f} ms after the rotation answered "
      f"(request {attempts}), and gave a token for the new one ({new_status})")
sys.exit(0 if new_status == 200 else 1)
