"""Helpers for the console tests (a module, not conftest.py, so tests can import it by name)."""
from __future__ import annotations

WEBHOOK_SECRETS = {"telephony": "tel-test-secret", "aml": "aml-test-secret"}


def post_webhook(client, integration: str, payload: dict):
    """A partner's signed webhook (see interop/signing.py)."""
    import json

    from siaga112.interop.signing import signed_headers

    body = json.dumps(payload).encode()
    return client.post(f"/api/v1/webhooks/{integration}", content=body,
                       headers={"Content-Type": "application/json",
                                **signed_headers(WEBHOOK_SECRETS[integration], body)})
