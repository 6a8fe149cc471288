"""Helpers and fixtures for the citizens tests (imported by each test module; a conftest.py here
would shadow the top-level one that other test folders import from): secrets, a fake SMS gateway /
WhatsApp Cloud API on loopback that records requests and fails them on demand, signed webhooks."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from siaga112.config import Settings
from siaga112.interop.signing import signed_headers

SECRETS = {"sms": "sms-secret-1", "whatsapp": "wa-secret-1", "telephony": "tel-secret-1",
           "aml": "aml-secret-1"}
WA_APP_SECRET = "meta-app-secret"


class PartnerServer:
    """A real HTTP server: records every request; `fail(n, status)` fails the next n, `drop(n)`
    accepts the next n and closes without answering (a lost response). Delivered SMS are
    counted by reference, as a gateway that deduplicates would."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.delivered: dict[str, dict] = {}
        self._plan: list[object] = []
        self.cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with outer.cond:
                    action = outer._plan.pop(0) if outer._plan else 200
                    outer.requests.append({"path": self.path, "headers": dict(self.headers), "json": body,
                                           "answer": action})
                    if action in (200, "drop"):
                        ref = body.get("reference") or body.get("biz_opaque_callback_data")
                        outer.delivered.setdefault(ref, body)
                    outer.cond.notify_all()
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                reply = {"message_id": f"gw-{len(outer.requests)}",
                         "messages": [{"id": f"wamid.{len(outer.requests)}"}]} if action == 200 else {"error": "x"}
                data = json.dumps(reply).encode()
                self.send_response(action)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # shutdown() waits for the serving loop to look up, every poll_interval (0.5 s by default).
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def fail(self, n: int, status: int = 500) -> None:
        with self.cond:
            self._plan.extend([status] * n)

    def drop(self, n: int = 1) -> None:
        with self.cond:
            self._plan.extend(["drop"] * n)

    def wait_for(self, predicate, timeout: float = 10.0) -> list[dict]:
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self.requests), timeout), self.requests
            return list(self.requests)

    def sms_texts(self) -> list[str]:
        return [r["json"]["text"] for r in self.requests if r["path"] == "/sms"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def sms(text: str, phone: str = "081255550001", message_id: str | None = None) -> dict:
    import uuid

    return {"from": phone, "text": text, "message_id": message_id or uuid.uuid4().hex}


# Fixtures: `settings` overrides the top-level one for the modules that import it.
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
