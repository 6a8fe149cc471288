"""Citizens and partner systems: the fake partner server, signed webhooks, settings with secrets."""
from __future__ import annotations

import json

import pytest
from citizens_helpers import SECRETS, WA_APP_SECRET, PartnerServer

from siaga112.config import Settings
from siaga112.interop.signing import signed_headers


@pytest.fixture
def partner():
    server = PartnerServer()
    yield server
    server.close()


@pytest.fixture
def settings(database_url, tmp_path, partner) -> Settings:
    """The usual settings plus webhook secrets and the fake gateways; background work off."""
    return Settings(database_url=database_url, var_dir=tmp_path / "var", webhook_secrets=SECRETS,
                    whatsapp_app_secret=WA_APP_SECRET, whatsapp_verify_token="verify-me",
                    sms_gateway_url=f"{partner.url}/sms", sms_gateway_token="gw-token",
                    whatsapp_api_url=f"{partner.url}/wa", whatsapp_phone_number_id="1234",
                    whatsapp_access_token="wa-token", notify_interval_seconds=0,
                    escalation_interval_seconds=0, public_base_url="https://112.ppu.example")


@pytest.fixture
def webhook(client):
    """POST a signed webhook body: webhook("sms", {...}) ; override headers to test refusals."""
    def _post(integration: str, payload, *, secret: str | None = None, headers: dict | None = None,
              content_type: str = "application/json", **sign):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        signed = signed_headers(secret or SECRETS[integration], body, **sign)
        return client.post(f"/api/v1/webhooks/{integration}", content=body,
                           headers={"Content-Type": content_type, **signed, **(headers or {})})
    return _post
