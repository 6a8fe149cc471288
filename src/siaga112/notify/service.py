"""Telling reporters how their ticket is going, by SMS or WhatsApp, through an outbox.

Two steps, both safe to run in every process at once:
- `plan` reads the event log after its cursor (a row locked while it works), works out the stage
  each followed ticket has reached, and inserts one outbox row per subscription and stage (a
  unique key makes a second insert a no-op). Only the stage reached is sent, not every step in
  between, so a burst of changes makes one message.
- `send_due` claims due rows one at a time with a conditional UPDATE that sets a lease, sends
  outside any transaction, and records the result. A failure is retried with exponential
  backoff; a process that dies mid-send leaves the row to be re-claimed when its lease ends.
  A message marked sent is never sent again, across restarts.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from prometheus_client import Counter
from sqlalchemy import Connection, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from siaga112.config import Settings
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.events import SEQUENCER_LOCK, sequence_and_wake
from siaga112.interop.sms import SendResult, SmsGateway
from siaga112.interop.whatsapp import WhatsAppCloud
from siaga112.models import (
    citizen_reports,
    event_log,
    incidents,
    notification_cursor,
    notification_optouts,
    notification_outbox,
    notification_subscriptions,
)
from siaga112.notify.templates import render_sms, whatsapp_parameters
from siaga112.public.progress import incident_progress, report_progress

log = structlog.get_logger(__name__)
NOTIFICATIONS = Counter("siaga112_notifications_total", "Reporter notifications by result",
                        ["channel", "result"])
INCIDENT_EVENTS = {"incident.created", "incident.status_changed", "assignment.created",
                   "assignment.acknowledged", "assignment.dispatched", "assignment.updated"}
REPORT_EVENTS = {"report.created", "report.closed"}
# A 112 call, SMS or WhatsApp that became an incident: its number hears back the same way.
CALLER_CHANNEL = {"call": "sms", "sms": "sms", "whatsapp": "whatsapp"}
LEASE = timedelta(seconds=60)
MAX_BACKOFF_SECONDS = 900
_INSERT_IGNORE: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class Adapter(Protocol):
    channel: str

    def send(self, *, to: str, text: str, reference: str, parameters: list[str]) -> SendResult: ...


def build_adapters(settings: Settings) -> dict[str, Adapter]:
    adapters: dict[str, Adapter] = {}
    if settings.sms_gateway_url:
        adapters["sms"] = SmsGateway(settings.sms_gateway_url, settings.sms_gateway_token)
    if settings.whatsapp_phone_number_id and settings.whatsapp_access_token:
        adapters["whatsapp"] = WhatsAppCloud(settings.whatsapp_api_url, settings.whatsapp_phone_number_id,
                                             settings.whatsapp_access_token, settings.whatsapp_template)
    return adapters


def public_links_unset(settings: Settings) -> bool:
    """Texts go out but SIAGA112_PUBLIC_BASE_URL was never set: every message links citizens to
    the server's own loopback address, which no phone can open."""
    texts_on = settings.notify_callers and bool(build_adapters(settings))
    return texts_on and "public_base_url" not in settings.model_fields_set


def channel_configured(settings: Settings, channel: str) -> bool:
    if channel == "sms":
        return bool(settings.sms_gateway_url)
    return bool(settings.whatsapp_phone_number_id and settings.whatsapp_access_token)


def is_opted_out(conn: Connection, phone: str) -> bool:
    return conn.execute(select(notification_optouts.c.phone)
                        .where(notification_optouts.c.phone == phone)).first() is not None


def subscribe(conn: Connection, *, ticket: str, phone: str, channel: str, report_id: str | None = None,
              incident_id: str | None = None) -> None:
    """Follow a ticket; a number that opted out is not subscribed."""
    if is_opted_out(conn, phone):
        return
    stmt = _INSERT_IGNORE[conn.dialect.name](notification_subscriptions).values(
        ticket=ticket, phone=phone, channel=channel, report_id=report_id, incident_id=incident_id,
        created_at=utcnow()).on_conflict_do_nothing()
    conn.execute(stmt)


def _cancel_pending(conn: Connection, where: Any) -> None:
    conn.execute(update(notification_outbox).where(
        notification_outbox.c.status == "pending",
        notification_outbox.c.subscription_id.in_(select(notification_subscriptions.c.id).where(where)))
        .values(status="cancelled", last_error="opted out"))


def opt_out(conn: Connection, phone: str, *, via: str) -> None:
    """The number wants no more messages (replied BERHENTI/STOP)."""
    stmt = _INSERT_IGNORE[conn.dialect.name](notification_optouts).values(
        phone=phone, at=utcnow(), via=via).on_conflict_do_nothing()
    conn.execute(stmt)
    conn.execute(update(notification_subscriptions).where(
        notification_subscriptions.c.phone == phone, notification_subscriptions.c.opted_out_at.is_(None))
        .values(opted_out_at=utcnow()))
    _cancel_pending(conn, notification_subscriptions.c.phone == phone)


def opt_in(conn: Connection, phone: str) -> None:
    """MULAI/START: messages for tickets followed from now on (old ones stay quiet)."""
    conn.execute(notification_optouts.delete().where(notification_optouts.c.phone == phone))


def opt_out_ticket(conn: Connection, ticket: str) -> int:
    """Stop messages about one ticket (the link on the ticket page)."""
    result = conn.execute(update(notification_subscriptions).where(
        notification_subscriptions.c.ticket == ticket, notification_subscriptions.c.opted_out_at.is_(None))
        .values(opted_out_at=utcnow()))
    _cancel_pending(conn, notification_subscriptions.c.ticket == ticket)
    return result.rowcount


def enqueue_broadcast(ctx: Context, conn: Connection, *, key: str, phone: str, channel: str, stage: str,
                      text: str, parameters: list[str], url: str, now: datetime) -> int:
    """One message outside any ticket's progress (a public alert) through the same outbox, with
    the same opt-outs, retries and once-only sending; `key` names what it is about."""
    if not channel_configured(ctx.settings, channel) or is_opted_out(conn, phone):
        return 0
    subscribe(conn, ticket=key, phone=phone, channel=channel)
    sub_id = conn.execute(select(notification_subscriptions.c.id).where(
        notification_subscriptions.c.ticket == key, notification_subscriptions.c.phone == phone,
        notification_subscriptions.c.channel == channel)).scalar_one()
    stmt = _INSERT_IGNORE[conn.dialect.name](notification_outbox).values(
        subscription_id=sub_id, dedupe_key=f"{sub_id}:{stage}", channel=channel, recipient=phone,
        stage=stage, params={"ticket": key, "url": url, "agency": None, "parameters": parameters},
        text=text, status="pending", attempts=0, due_at=now, created_at=now).on_conflict_do_nothing()
    return len(conn.execute(stmt.returning(notification_outbox.c.id)).all())


def tracking_url(settings: Settings, ticket: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/lacak/{ticket}"


def _enqueue(ctx: Context, conn: Connection, sub: Any, stage: str, agency: str | None,
             now: datetime) -> int:
    if not channel_configured(ctx.settings, sub.channel) or is_opted_out(conn, sub.phone):
        return 0
    url = tracking_url(ctx.settings, sub.ticket)
    stmt = _INSERT_IGNORE[conn.dialect.name](notification_outbox).values(
        subscription_id=sub.id, dedupe_key=f"{sub.id}:{stage}", channel=sub.channel,
        recipient=sub.phone, stage=stage,
        params={"ticket": sub.ticket, "url": url, "agency": agency,
                "parameters": whatsapp_parameters(stage, ticket=sub.ticket, url=url, agency=agency)},
        text=render_sms(stage, ticket=sub.ticket, url=url, agency=agency), status="pending",
        attempts=0, due_at=now, created_at=now).on_conflict_do_nothing()
    # RETURNING, not rowcount: psycopg reports -1 for INSERT .. ON CONFLICT through SQLAlchemy.
    return len(conn.execute(stmt.returning(notification_outbox.c.id)).all())


def _subscriptions(conn: Connection, where: Any) -> list[Any]:
    return list(conn.execute(select(notification_subscriptions).where(
        where, notification_subscriptions.c.opted_out_at.is_(None))).all())


def silenced(ctx: Context, incident: Any) -> bool:
    """Nothing about this incident may reach a reporter's phone: a sensitive type (the phone may
    be in the hands of the person the call was about) unless the call-taker chose to send."""
    return ctx.sop.is_sensitive(incident.type_code) and incident.notify_caller is not True


def _incident_plan(ctx: Context, conn: Connection, incident_id: str, *, just_created: bool) -> Any:
    """What an incident's reporters should now be told (read only): (row, progress, follow_caller),
    or None when nothing may be sent."""
    row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).first()
    # The type is read as it stands now: a re-route to a sensitive type silences it from then on.
    if row is None or silenced(ctx, row):
        return None
    follow_caller = (just_created and ctx.settings.notify_callers and row.caller_phone
                     and row.channel in CALLER_CHANNEL and row.notify_caller is not False)
    return row, incident_progress(conn, row), follow_caller


def _report_plan(conn: Connection, report_id: str) -> Any:
    row = conn.execute(select(citizen_reports).where(citizen_reports.c.id == report_id)).first()
    if row is None or row.status == "verified":
        return None  # a verified report's reporter follows the incident
    return row, report_progress(row)


def _any_channel(settings: Settings) -> bool:
    return any(channel_configured(settings, channel) for channel in ("sms", "whatsapp"))


def plan(ctx: Context, *, limit: int = 200) -> int:
    """Turn new events into outbox rows; returns how many messages were queued.

    Everything is read in a read-only transaction first; the write transaction only moves the
    cursor (conditionally, so two planners never both plan the same events) and inserts the
    few rows. On SQLite that keeps the single writer free for the intake: planning a second of
    traffic (500 events at 100 incidents/s) inside one write transaction held it for long enough
    to put a few hundred milliseconds on the intake's p99.
    """
    now = utcnow()
    if not ctx.db.is_sqlite:
        # Events are read by stream position, which PostgreSQL assigns after commit; number what
        # has committed rather than wait for a live hub to do it.
        with ctx.db.transaction() as conn:
            # Wait for a hub that is numbering right now (the lock is re-entrant for us below),
            # so what it numbers is committed before we read.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SEQUENCER_LOCK})")
            sequence_and_wake(conn)
    cursor = select(notification_cursor.c.position).where(notification_cursor.c.name == "notify")
    with ctx.db.transaction(write=False) as conn:
        position = conn.execute(cursor).scalar()
        if position is not None and not _any_channel(ctx.settings):
            # Nothing can be sent: keep up with the log without planning, so switching a channel
            # on later does not send a backlog of stale news.
            head = conn.execute(select(func.max(event_log.c.position))).scalar() or 0
            events: list[Any] = []
            incident_plans: list[Any] = []
            report_plans: list[Any] = []
        else:
            head = None
            events = list(conn.execute(
                select(event_log.c.position, event_log.c.name, event_log.c.incident_id, event_log.c.data)
                .where(event_log.c.position > (position or 0),
                       event_log.c.name.in_(INCIDENT_EVENTS | REPORT_EVENTS))
                .order_by(event_log.c.position).limit(limit)).all())
            created = {e.incident_id for e in events if e.name == "incident.created"}
            incident_ids = list(dict.fromkeys(e.incident_id for e in events
                                              if e.name in INCIDENT_EVENTS and e.incident_id))
            report_ids = list(dict.fromkeys(e.data["id"] for e in events if e.name in REPORT_EVENTS))
            incident_plans = [p for p in (_incident_plan(ctx, conn, i, just_created=i in created)
                                          for i in incident_ids) if p]
            report_plans = [p for p in (_report_plan(conn, r) for r in report_ids) if p]
    if position is None:
        with ctx.db.transaction() as conn:
            conn.execute(_INSERT_IGNORE[conn.dialect.name](notification_cursor)
                         .values(name="notify", position=0).on_conflict_do_nothing())
        return 0
    new_position = head if head is not None else (events[-1].position if events else position)
    if new_position <= position:
        return 0
    with ctx.db.transaction() as conn:
        moved = conn.execute(update(notification_cursor).where(
            notification_cursor.c.name == "notify", notification_cursor.c.position == position)
            .values(position=new_position))
        if moved.rowcount != 1:
            return 0  # another process planned these meanwhile
        queued = 0
        for row, progress, follow_caller in incident_plans:
            if follow_caller and conn.execute(select(notification_subscriptions.c.id).where(
                    notification_subscriptions.c.incident_id == row.id).limit(1)).first() is None:
                subscribe(conn, ticket=row.ticket, phone=row.caller_phone,
                          channel=CALLER_CHANNEL[row.channel], incident_id=row.id)
            queued += sum(_enqueue(ctx, conn, sub, progress.status, progress.agency_name, now)
                          for sub in _subscriptions(conn, notification_subscriptions.c.incident_id == row.id))
        for row, progress in report_plans:
            queued += sum(_enqueue(ctx, conn, sub, progress.status, None, now)
                          for sub in _subscriptions(conn, and_(
                              notification_subscriptions.c.report_id == row.id,
                              notification_subscriptions.c.incident_id.is_(None))))
    return queued


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Exponential, capped, with jitter so retries after a gateway outage do not arrive together."""
    seconds = min(settings.notify_backoff_seconds * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    return timedelta(seconds=seconds * random.uniform(1.0, 1.25))


def _claimable(now: datetime) -> Any:
    return or_(and_(notification_outbox.c.status == "pending", notification_outbox.c.due_at <= now),
               and_(notification_outbox.c.status == "sending", notification_outbox.c.claimed_until < now))


def send_due(ctx: Context, adapters: dict[str, Adapter], *, now: datetime | None = None,
             limit: int = 50) -> int:
    """Send what is due; returns how many were sent.

    One write transaction claims the batch and one records the results: a message per
    transaction (twice) cost the SQLite writer 200 transactions a second at 100 incidents/s.
    """
    now = now or utcnow()
    with ctx.db.transaction(write=False) as conn:
        candidates = conn.execute(select(notification_outbox.c.id).where(_claimable(now))
                                  .order_by(notification_outbox.c.due_at).limit(limit)).scalars().all()
    if not candidates:
        return 0
    to_send = []
    with ctx.db.transaction() as conn:
        # Conditional: a row another worker claimed meanwhile is no longer claimable.
        claimed = conn.execute(update(notification_outbox).where(
            notification_outbox.c.id.in_(candidates), _claimable(now)).values(
            status="sending", claimed_until=now + LEASE,
            attempts=notification_outbox.c.attempts + 1).returning(notification_outbox.c.id)).scalars().all()
        if claimed:
            rows = conn.execute(select(notification_outbox, notification_subscriptions.c.opted_out_at,
                                       incidents.c.type_code, incidents.c.notify_caller)
                                .join(notification_subscriptions,
                                      notification_subscriptions.c.id == notification_outbox.c.subscription_id)
                                .outerjoin(incidents,
                                           incidents.c.id == notification_subscriptions.c.incident_id)
                                .where(notification_outbox.c.id.in_(claimed))
                                .order_by(notification_outbox.c.due_at)).all()
            for row in rows:
                stop = row.opted_out_at is not None or is_opted_out(conn, row.recipient)
                # Queued before a re-route made the incident sensitive: it is not sent either.
                quiet = row.type_code is not None and silenced(ctx, row)
                if stop or quiet or adapters.get(row.channel) is None:
                    conn.execute(update(notification_outbox).where(notification_outbox.c.id == row.id).values(
                        status="cancelled", claimed_until=None,
                        last_error="opted out" if stop else "sensitive incident" if quiet
                        else "channel not configured"))
                else:
                    to_send.append(row)
    sent, results = 0, []
    for row in to_send:
        result = adapters[row.channel].send(to=row.recipient, text=row.text,
                                            reference=f"siaga112-outbox-{row.id}",
                                            parameters=row.params.get("parameters", []))
        values: dict[str, Any]
        if result.ok:
            values = {"status": "sent", "sent_at": utcnow(), "provider_id": result.provider_id,
                      "claimed_until": None, "last_error": None}
            sent += 1
        elif result.retry and row.attempts < ctx.settings.notify_max_attempts:
            values = {"status": "pending", "due_at": now + backoff(ctx.settings, row.attempts),
                      "claimed_until": None, "last_error": result.error}
        else:
            values = {"status": "failed", "claimed_until": None, "last_error": result.error}
        NOTIFICATIONS.labels(row.channel, values["status"]).inc()
        results.append((row, values))
        if not result.ok:
            log.info("notification_not_sent", outbox_id=row.id, channel=row.channel,
                     error=result.error, next=values["status"])
    if results:
        with ctx.db.transaction() as conn:
            for row, values in results:
                # Only the holder of this claim records it; a late worker whose lease ran out does not.
                conn.execute(update(notification_outbox).where(
                    notification_outbox.c.id == row.id, notification_outbox.c.status == "sending",
                    notification_outbox.c.attempts == row.attempts).values(**values))
    return sent
