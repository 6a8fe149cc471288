"""One signature check for every inbound webhook (SMS, WhatsApp, telephony, AML).

Header format (scheme v1), sent with every webhook request:

    X-Siaga-Timestamp: 1767225600                      (Unix seconds, UTC)
    X-Siaga-Nonce:     4f1c0e0a9b6d4e4c9a8f2d7b1c3e5a60   (8-128 chars of [A-Za-z0-9_-])
    X-Siaga-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<nonce>." + raw body)>

The secret is the integration's own (`SIAGA112_WEBHOOK_SECRETS='{"sms": "…"}'`; several
space-separated secrets are all accepted while one is being rotated). A request is refused when
the signature does not match, the timestamp is more than the window away from our clock, or the
nonce was already used by that integration within the window (the nonce table). WhatsApp's own
`X-Hub-Signature-256` (HMAC of the body with the app secret) is also accepted on the WhatsApp
webhook; its nonce is the body's hash and its timestamp the newest one in the payload.

A refused request writes nothing and is logged with the integration and the reason only.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

import structlog
from prometheus_client import Counter
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from siaga112.config import Settings
from siaga112.db import utcnow
from siaga112.errors import DomainError
from siaga112.models import webhook_nonces

log = structlog.get_logger(__name__)

HEADER_TIMESTAMP = "X-Siaga-Timestamp"
HEADER_NONCE = "X-Siaga-Nonce"
HEADER_SIGNATURE = "X-Siaga-Signature"
META_SIGNATURE = "X-Hub-Signature-256"
_NONCE = re.compile(r"^[A-Za-z0-9_-]{8,128}$")

WEBHOOKS_REJECTED = Counter("siaga112_webhooks_rejected_total", "Inbound webhooks refused",
                            ["integration", "reason"])


class WebhookRejected(DomainError):
    """401 with one generic message: a caller probing the check learns nothing from it."""

    status_code = 401

    def __init__(self, integration: str, reason: str):
        super().__init__("webhook signature rejected")
        self.integration = integration
        self.reason = reason
        WEBHOOKS_REJECTED.labels(integration, reason).inc()
        log.warning("webhook_rejected", integration=integration, reason=reason)


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{nonce}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None,
                   nonce: str | None = None) -> dict[str, str]:
    """The headers a partner (or our own Asterisk bridge) sends with `body`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    return {HEADER_TIMESTAMP: ts, HEADER_NONCE: nonce, HEADER_SIGNATURE: signature(secret, ts, nonce, body)}


def _secrets(settings: Settings, integration: str) -> list[str]:
    return (settings.webhook_secrets.get(integration) or "").split()


def check_signature(settings: Settings, integration: str, headers: Mapping[str, str], body: bytes,
                    *, now: float | None = None) -> str:
    """Verify the v1 signature and the time window; returns the nonce to claim. No database."""
    keys = _secrets(settings, integration)
    if not keys:
        raise WebhookRejected(integration, "no_secret_configured")
    ts, nonce, sig = (headers.get(HEADER_TIMESTAMP), headers.get(HEADER_NONCE),
                      headers.get(HEADER_SIGNATURE))
    if not ts or not nonce or not sig:
        raise WebhookRejected(integration, "missing_headers")
    if not ts.isascii() or not ts.isdigit() or not _NONCE.match(nonce):
        raise WebhookRejected(integration, "malformed_headers")
    if not any(hmac.compare_digest(signature(k, ts, nonce, body), sig) for k in keys):
        raise WebhookRejected(integration, "bad_signature")
    now = time.time() if now is None else now
    if abs(now - int(ts)) > settings.webhook_window_seconds:
        raise WebhookRejected(integration, "stale_timestamp")
    return nonce


def check_meta_signature(settings: Settings, headers: Mapping[str, str], body: bytes) -> None:
    """WhatsApp Cloud API's own signature over the raw body: checked before the body is parsed,
    so a stranger's payload is never read (a malformed one was a 500)."""
    secret = settings.whatsapp_app_secret
    if not secret:
        raise WebhookRejected("whatsapp", "no_secret_configured")
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers.get(META_SIGNATURE, "")):
        raise WebhookRejected("whatsapp", "bad_signature")


def check_meta_freshness(settings: Settings, body: bytes, payload_times: list[int], *,
                         now: float | None = None) -> str:
    """The signed payload's own timestamps must be recent (Meta sends no timestamp header);
    the body hash serves as the nonce."""
    now = time.time() if now is None else now
    if not payload_times or now - max(payload_times) > settings.webhook_window_seconds:
        raise WebhookRejected("whatsapp", "stale_timestamp")
    return "meta-" + hashlib.sha256(body).hexdigest()[:64]


def claim_nonce(conn: Connection, integration: str, nonce: str) -> None:
    """Record the nonce in the caller's transaction; a second use is a replay.

    In the same transaction as what the webhook writes: if that fails, the nonce is not spent
    and the partner's retry is accepted.
    """
    seen = conn.execute(select(webhook_nonces.c.nonce).where(
        webhook_nonces.c.integration == integration, webhook_nonces.c.nonce == nonce)).first()
    if seen is not None:
        raise WebhookRejected(integration, "replayed_nonce")
    try:
        conn.execute(insert(webhook_nonces).values(integration=integration, nonce=nonce,
                                                   seen_at=utcnow()))
    except IntegrityError:  # a concurrent request with the same nonce won; we roll back
        raise WebhookRejected(integration, "replayed_nonce") from None


def purge_nonces(conn: Connection, settings: Settings, *, now: datetime | None = None) -> int:
    """Nonces older than twice the window can go: their timestamps are refused anyway."""
    cutoff = (now or utcnow()) - timedelta(seconds=2 * settings.webhook_window_seconds)
    return conn.execute(delete(webhook_nonces).where(webhook_nonces.c.seen_at < cutoff)).rowcount
