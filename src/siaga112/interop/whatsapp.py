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

import httpx
from pydantic import BaseModel, ConfigDict, Field

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


# The notification's shape as Meta documents it; fields we do not read are ignored, and a part
# of the wrong type is a 422 naming where it is, never a crash.
class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Text(_Part):
    body: str | None = Field(default=None, max_length=4096)


class _Location(_Part):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: str | None = Field(default=None, max_length=500)
    address: str | None = Field(default=None, max_length=500)


class _Message(_Part):
    id: str = Field(min_length=1, max_length=256)
    from_: str = Field(alias="from", min_length=1, max_length=32)
    timestamp: int | None = None
    type: str | None = Field(default=None, max_length=32)
    text: _Text | None = None
    location: _Location | None = None


class _Status(_Part):
    timestamp: int | None = None


class _Profile(_Part):
    name: str | None = Field(default=None, max_length=200)


class _Contact(_Part):
    wa_id: str | None = Field(default=None, max_length=32)
    profile: _Profile | None = None


class _Value(_Part):
    messages: list[_Message] | None = None
    statuses: list[_Status] | None = None
    contacts: list[_Contact] | None = None


class _Change(_Part):
    value: _Value | None = None


class _Entry(_Part):
    changes: list[_Change] | None = None


class Notification(_Part):
    entry: list[_Entry] | None = None


def read_webhook(notification: Notification) -> tuple[list[WhatsAppMessage], int, list[int]]:
    """(messages, number of delivery statuses, every timestamp in the payload); ValueError for a
    location message without its coordinates."""
    messages: list[WhatsAppMessage] = []
    statuses = 0
    times: list[int] = []
    for entry in notification.entry or []:
        for change in entry.changes or []:
            value = change.value or _Value()
            names = {c.wa_id: c.profile.name if c.profile else None for c in value.contacts or []}
            for status in value.statuses or []:
                statuses += 1
                if status.timestamp is not None:
                    times.append(status.timestamp)
            for m in value.messages or []:
                if m.timestamp is not None:
                    times.append(m.timestamp)
                text = lat = lon = address = None
                if m.type == "text":
                    text = m.text.body if m.text else None
                elif m.type == "location":
                    if m.location is None:
                        raise ValueError("location message without coordinates")
                    lat, lon = m.location.latitude, m.location.longitude
                    address = " ".join(x for x in (m.location.name, m.location.address) if x) or None
                elif m.type in ("image", "audio", "video", "document", "sticker"):
                    text = f"({m.type} dikirim lewat WhatsApp; lihat di aplikasi WhatsApp Business)"
                messages.append(WhatsAppMessage(
                    id=m.id, phone=m.from_ if m.from_.startswith("+") else "+" + m.from_,
                    name=names.get(m.from_), text=text, lat=lat, lon=lon, address=address,
                    timestamp=m.timestamp))
    return messages, statuses, times
