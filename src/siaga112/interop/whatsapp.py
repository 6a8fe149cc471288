"""WhatsApp Business Cloud API: outbound template messages, and reading inbound webhooks.

Sending: `POST {api_url}/{phone_number_id}/messages` with the access token, a template message
in Bahasa Indonesia (see notify/templates.py) and `biz_opaque_callback_data` set to the outbox
reference, so delivery statuses can be matched to the message. The Cloud API has no idempotency
key: a request that timed out after Meta accepted it may be delivered twice when retried.

Inbound: the webhook payload (`entry[].changes[].value.messages[]`) carries text and location
messages; `statuses[]` carry delivery reports, which we only count.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from siaga112.interop.sms import SendResult, send_request


class WhatsAppCloud:
    channel = "whatsapp"

    def __init__(self, api_url: str, phone_number_id: str, token: str, template: str, *,
                 timeout: float = 10.0):
        self.url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.template = template
        self.client = httpx.Client(timeout=timeout)

    def send(self, *, to: str, reference: str, parameters: list[str], **_: object) -> SendResult:
        body = {
            "messaging_product": "whatsapp", "recipient_type": "individual",
            "to": to.lstrip("+"), "type": "template",
            "template": {"name": self.template, "language": {"code": "id"},
                         "components": [{"type": "body", "parameters": [
                             {"type": "text", "text": p} for p in parameters]}]},
            "biz_opaque_callback_data": reference,
        }
        return send_request(self.client, self.url, headers=self.headers, json=body,
                            id_of=lambda b: b["messages"][0]["id"])

    def close(self) -> None:
        self.client.close()


@dataclass(frozen=True)
class WhatsAppMessage:
    id: str
    phone: str
    name: str | None
    text: str | None
    lat: float | None
    lon: float | None
    address: str | None
    timestamp: int | None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_webhook(payload: Any) -> tuple[list[WhatsAppMessage], int, list[int]]:
    """(messages, number of delivery statuses, every timestamp in the payload)."""
    messages: list[WhatsAppMessage] = []
    statuses = 0
    times: list[int] = []
    if not isinstance(payload, dict):
        raise ValueError("payload must be an object")
    for entry in payload.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            names = {c.get("wa_id"): (c.get("profile") or {}).get("name")
                     for c in value.get("contacts") or [] if isinstance(c, dict)}
            for status in value.get("statuses") or []:
                statuses += 1
                if (t := _int((status or {}).get("timestamp"))) is not None:
                    times.append(t)
            for m in value.get("messages") or []:
                if not isinstance(m, dict) or not m.get("id") or not m.get("from"):
                    raise ValueError("message without id or from")
                ts = _int(m.get("timestamp"))
                if ts is not None:
                    times.append(ts)
                kind = m.get("type")
                text = lat = lon = address = None
                if kind == "text":
                    text = (m.get("text") or {}).get("body")
                elif kind == "location":
                    loc = m.get("location") or {}
                    try:
                        lat, lon = float(loc["latitude"]), float(loc["longitude"])
                    except (KeyError, TypeError, ValueError):
                        raise ValueError("location message without coordinates") from None
                    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                        raise ValueError("location out of range")
                    address = " ".join(x for x in (loc.get("name"), loc.get("address")) if x) or None
                elif kind in ("image", "audio", "video", "document", "sticker"):
                    text = f"({kind} dikirim lewat WhatsApp; lihat di aplikasi WhatsApp Business)"
                else:
                    text = None
                phone = str(m["from"])
                messages.append(WhatsAppMessage(
                    id=str(m["id"]), phone=phone if phone.startswith("+") else "+" + phone,
                    name=names.get(m["from"]), text=text, lat=lat, lon=lon, address=address,
                    timestamp=ts))
    return messages, statuses, times
