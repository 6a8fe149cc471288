"""Outbound SMS through an HTTP SMS gateway.

    POST {SIAGA112_SMS_GATEWAY_URL}
    Authorization: Bearer {SIAGA112_SMS_GATEWAY_TOKEN}
    {"to": "+628…", "text": "…", "reference": "siaga112-outbox-42"}

2xx is sent (`{"message_id": …}` is kept when given). The reference is the same on every retry
of one message, so a gateway that deduplicates by it delivers a message once even when our
first attempt timed out after it was accepted. 4xx other than 408/429 is a permanent failure;
5xx, 408, 429, timeouts and refused connections are retried with backoff by the outbox.
"""
from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class SendResult:
    ok: bool
    retry: bool = False
    provider_id: str | None = None
    error: str | None = None


def classify_response(response: httpx.Response, id_of) -> SendResult:
    if response.is_success:
        try:
            provider_id = id_of(response.json())
        except (ValueError, KeyError, IndexError, TypeError):
            provider_id = None
        return SendResult(ok=True, provider_id=provider_id)
    retry = response.status_code >= 500 or response.status_code in (408, 429)
    return SendResult(ok=False, retry=retry, error=f"HTTP {response.status_code}")


def send_request(client: httpx.Client, url: str, *, headers: dict, json: dict, id_of) -> SendResult:
    try:
        response = client.post(url, headers=headers, json=json)
    except httpx.TimeoutException:
        return SendResult(ok=False, retry=True, error="timeout")
    except httpx.TransportError as exc:
        return SendResult(ok=False, retry=True, error=type(exc).__name__)
    return classify_response(response, id_of)


class SmsGateway:
    channel = "sms"

    def __init__(self, url: str, token: str | None, *, timeout: float = 10.0):
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(timeout=timeout)

    def send(self, *, to: str, text: str, reference: str, **_: object) -> SendResult:
        return send_request(self.client, self.url, headers=self.headers,
                            json={"to": to, "text": text, "reference": reference},
                            id_of=lambda body: body.get("message_id"))

    def close(self) -> None:
        self.client.close()
