"""A schemathesis check for Tessera's contract run (interop/test_contract.py): no response may carry a secret the
caller did not send. TESSERA_FUZZ_SECRETS lists them, one per line (the demo user's password, the bootstrap client's
secret, the master key, and for the Management API run the workspace admin token)."""

import os

import schemathesis

SECRETS = [line for line in os.environ.get("TESSERA_FUZZ_SECRETS", "").splitlines() if len(line) >= 8]


@schemathesis.check
def no_secret_in_response(ctx, response, case):
    text = response.text or ""
    for secret in SECRETS:
        if secret in text:
            raise AssertionError(f"the response holds a {len(secret)}-character secret starting {secret[:3]!r}")
    return None
