"""Citizen reports: SMS, WhatsApp and the web form make reports that wait in the call-taker's
queue until verified into an incident (or linked to one) or closed with an outcome."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from siaga112.alerts import service as alert_service
from siaga112.audit import service as audit
from siaga112.auth.permissions import require_staff
from siaga112.auth.principal import Principal
from siaga112.blocks.service import active_block, consider_number
from siaga112.calls.schemas import CallCreate
from siaga112.calls.service import record_call
from siaga112.context import Context
from siaga112.db import load_row, utcnow
from siaga112.errors import Conflict, InvalidField
from siaga112.events.payloads import ReportClosed, ReportCreated, ReportUpdated, ReportVerified
from siaga112.inbound.report_events import report_event
from siaga112.inbound.schemas import InboundResult, ReportClose, ReportRead, ReportVerify
from siaga112.incidents.intake import create_incident, new_ticket
from siaga112.incidents.reads import load_visible
from siaga112.incidents.schemas import CallerIn, IncidentCreate, LocationIn
from siaga112.interop.aml import is_aml_sms, parse_sms
from siaga112.models import citizen_reports, inbound_messages, incidents, notification_subscriptions
from siaga112.notify import service as notify
from siaga112.phone import normalise_phone
from siaga112.public.schemas import WebReportIn
from siaga112.telephony.aml import record_aml

OPT_OUT_WORDS = {"STOP", "BERHENTI", "UNREG", "STOP KABAR"}
# A short reply that begins with one of these stops the texts too: people answer the footer
# ("Balas BERHENTI untuk berhenti menerima kabar") with its own words. Long messages that
# happen to begin so stay reports.
OPT_OUT_FIRST_WORDS = {"STOP", "BERHENTI", "UNREG"}
OPT_OUT_MAX_WORDS = 4
OPT_IN_WORDS = {"MULAI", "START"}
ALERT_OPT_IN_WORD = "DAFTAR"


def _keyword(body: str) -> str:
    """`berhenti.`, `Berhenti!`, ` STOP  kabar ` → the keyword as listed (people reply loosely)."""
    return " ".join(re.sub(r"[^\w\s]", " ", body).upper().split())


def _asks_to_stop(keyword: str) -> bool:
    words = keyword.split()
    return keyword in OPT_OUT_WORDS or (
        bool(words) and words[0] in OPT_OUT_FIRST_WORDS and len(words) <= OPT_OUT_MAX_WORDS)


def unique_ticket(conn: Connection) -> str:
    """A fresh ticket, unused by incidents and reports alike."""
    while True:
        ticket = new_ticket()
        taken = conn.execute(select(incidents.c.id).where(incidents.c.ticket == ticket)).first() or \
            conn.execute(select(citizen_reports.c.id).where(citizen_reports.c.ticket == ticket)).first()
        if not taken:
            return ticket


def create_report(ctx: Context, conn: Connection, *, channel: str, phone: str | None, text: str,
                  name: str | None = None, lat: float | None = None, lon: float | None = None,
                  accuracy_m: float | None = None, address: str | None = None,
                  location_source: str | None = None, notify_channel: str | None = None,
                  received_at: datetime | None = None) -> Any:
    now = utcnow()
    report_id = str(uuid.uuid4())
    ticket = unique_ticket(conn)
    conn.execute(insert(citizen_reports).values(
        id=report_id, ticket=ticket, channel=channel, status="waiting", reporter_phone=phone,
        reporter_name=name, text=text, lat=lat, lon=lon, accuracy_m=accuracy_m, address=address,
        location_source=location_source if lat is not None else None,
        blocked=active_block(conn, phone, now=now) is not None, received_at=received_at or now,
        updated_at=now))
    if phone and notify_channel in ("sms", "whatsapp"):
        notify.subscribe(conn, ticket=ticket, phone=phone, channel=notify_channel, report_id=report_id)
    report_event(ctx, conn, ReportCreated, report_id)
    return conn.execute(select(citizen_reports).where(citizen_reports.c.id == report_id)).one()


def _waiting_report_of(ctx: Context, conn: Connection, phone: str, channel: str, now: datetime) -> Any:
    """The number's report still waiting from a moment ago: further messages add to it."""
    if ctx.settings.report_merge_minutes <= 0:
        return None
    since = now - timedelta(minutes=ctx.settings.report_merge_minutes)
    return conn.execute(select(citizen_reports).where(
        citizen_reports.c.reporter_phone == phone, citizen_reports.c.channel == channel,
        citizen_reports.c.status == "waiting", citizen_reports.c.received_at >= since)
        .order_by(citizen_reports.c.received_at.desc()).limit(1)).first()


def _alert_area_asked(ctx: Context, body: str) -> str | None:
    """"DAFTAR SEPAKU": the number asks for the public alerts of a kecamatan or desa. A DAFTAR
    naming no place we know stays a message for a call-taker to read."""
    word, _, rest = body.partition(" ")
    if word.upper() != ALERT_OPT_IN_WORD or not rest.strip():
        return None
    return alert_service.place_named(ctx, rest.strip())


def receive_message(ctx: Context, conn: Connection, *, channel: str, raw_phone: str, text: str | None,
                    external_id: str, name: str | None = None, lat: float | None = None,
                    lon: float | None = None, address: str | None = None,
                    received_at: datetime | None = None) -> InboundResult:
    """One inbound SMS or WhatsApp message: a report, more of a waiting one, AML, or opt-out."""
    seen = conn.execute(select(inbound_messages).where(
        inbound_messages.c.channel == channel, inbound_messages.c.external_id == external_id)).first()
    if seen is not None:  # the gateway retried a message we already have
        ticket = None
        if seen.report_id:
            ticket = conn.execute(select(citizen_reports.c.ticket)
                                  .where(citizen_reports.c.id == seen.report_id)).scalar()
        return InboundResult(kind=seen.kind, report_id=seen.report_id, ticket=ticket, duplicate=True)
    try:
        phone = normalise_phone(raw_phone)
    except ValueError as exc:
        raise InvalidField("from", str(exc)) from None
    now = utcnow()
    body = (text or "").strip()
    result: InboundResult
    if channel == "sms" and is_aml_sms(body):
        fix = parse_sms(body, phone=phone)
        record_aml(ctx, conn, fix, phone=phone)
        result = InboundResult(kind="aml", aml_valid=fix.valid)
    elif (area := _alert_area_asked(ctx, body)) is not None:
        alert_service.subscribe(ctx, conn, phone=phone, channel=channel, area_code=area)
        result = InboundResult(kind="alert_opt_in")
    elif _asks_to_stop(_keyword(body)):
        notify.opt_out(conn, phone, via=channel)
        alert_service.unsubscribe(conn, phone=phone)  # its public alerts too, and retention sees it
        result = InboundResult(kind="opt_out")
    elif _keyword(body) in OPT_IN_WORDS:
        notify.opt_in(conn, phone)
        result = InboundResult(kind="opt_in")
    else:
        waiting = _waiting_report_of(ctx, conn, phone, channel, now)
        if waiting is not None:
            values: dict[str, Any] = {"updated_at": now}
            if body:
                values["text"] = f"{waiting.text}\n{body}"
            if lat is not None and waiting.lat is None:
                values.update(lat=lat, lon=lon, location_source=channel)
            if address and not waiting.address:
                values["address"] = address
            conn.execute(update(citizen_reports).where(citizen_reports.c.id == waiting.id).values(**values))
            report_event(ctx, conn, ReportUpdated, waiting.id)
            report = waiting
        else:
            report = create_report(ctx, conn, channel=channel, phone=phone,
                                   text=body or "(lokasi dikirim tanpa pesan)", name=name, lat=lat,
                                   lon=lon, address=address, location_source=channel,
                                   notify_channel=channel, received_at=received_at)
        result = InboundResult(kind="report", report_id=report.id, ticket=report.ticket)
    conn.execute(insert(inbound_messages).values(channel=channel, external_id=external_id,
                                                 kind=result.kind, report_id=result.report_id,
                                                 received_at=now))
    return result


def submit_web_report(ctx: Context, data: WebReportIn, *, conn: Connection) -> Any:
    """The public web form; the browser's position comes with it when the reporter allowed it."""
    return create_report(ctx, conn, channel="web", phone=data.phone, text=data.description,
                         name=data.name, lat=data.lat, lon=data.lon, accuracy_m=data.accuracy_m,
                         address=data.address, location_source="browser",
                         notify_channel=data.notify if data.phone else None)


def _read(row: Any) -> ReportRead:
    return ReportRead.model_validate(row, from_attributes=True)


def list_reports(ctx: Context, who: Principal, *, conn: Connection, status: str | None = "waiting",
                 limit: int = 100, shows_reporter: bool = True) -> list[ReportRead]:
    """The queue: oldest waiting first (they have waited longest).

    Each reporter the answer shows is an audited view (needs a write transaction); a screen that
    shows no number or name (the call-taker's waiting list) passes `shows_reporter=False`.
    """
    require_staff(who, "read citizen reports")
    query = select(citizen_reports)
    if status:
        query = query.where(citizen_reports.c.status.in_(status.split(",")))
    order = citizen_reports.c.received_at.asc() if status == "waiting" else citizen_reports.c.received_at.desc()
    found = [_read(r) for r in conn.execute(query.order_by(order).limit(limit))]
    if shows_reporter:
        for report in found:
            _audit_view(ctx, conn, who, report)
    return found


def _audit_view(ctx: Context, conn: Connection, who: Principal, report: ReportRead) -> None:
    """A view of a reporter's number or name: named in the trail by the number's keyed digest."""
    if report.reporter_phone:
        audit.record(conn, who, "citizen_report.viewed", "caller",
                     audit.caller_ref(ctx.settings, report.reporter_phone),
                     detail={"report": report.id, "ticket": report.ticket})
    elif report.reporter_name:
        audit.record(conn, who, "citizen_report.viewed", "citizen_report", report.id,
                     detail={"ticket": report.ticket})


def _load(conn: Connection, report_id: str, *, lock: bool = False) -> Any:
    return load_row(conn, citizen_reports, report_id, missing="report not found", lock=lock)


def get_report(ctx: Context, who: Principal, report_id: str, *, conn: Connection) -> ReportRead:
    """One report with its reporter: an audited view (needs a write transaction)."""
    require_staff(who, "read citizen reports")
    report = _read(_load(conn, report_id))
    _audit_view(ctx, conn, who, report)
    return report


def _finish(conn: Connection, row: Any, values: dict[str, Any]) -> None:
    """Conditional update: two call-takers taking the same report cannot both win."""
    if row.status != "waiting":
        raise Conflict(f"report is already {row.status}")
    won = conn.execute(update(citizen_reports).where(citizen_reports.c.id == row.id,
                                                     citizen_reports.c.status == "waiting").values(**values))
    if won.rowcount != 1:
        raise Conflict("the report changed meanwhile; reload and try again")


def verify_report(ctx: Context, who: Principal, report_id: str, data: ReportVerify, *,
                  conn: Connection) -> ReportRead:
    """A genuine emergency: a new incident from the report, or a link to the open one it repeats."""
    require_staff(who, "verify citizen reports")
    row = _load(conn, report_id, lock=True)
    if row.status != "waiting":
        raise Conflict(f"report is already {row.status}")
    caller = CallerIn(phone=row.reporter_phone, name=row.reporter_name) if row.reporter_phone else None
    if data.incident_id:
        incident = load_visible(ctx, who, data.incident_id, conn=conn)
        record_call(ctx, who, CallCreate(channel=row.channel, caller=caller, outcome="duplicate",
                                         incident_id=incident.id, received_at=row.received_at), conn=conn)
        incident_id = incident.id
    else:
        location = data.location
        if location is None:
            if row.lat is None and not row.address:
                raise InvalidField("location", "the report has no location; give one")
            location = LocationIn(lat=row.lat, lon=row.lon, address=row.address)
        result = create_incident(ctx, who, IncidentCreate(
            channel=row.channel, caller=caller, description=data.description or row.text,
            type_code=data.type_code, priority=data.priority, location=location,
            received_at=row.received_at), conn=conn)
        incident_id = result.incident.id
    now = utcnow()
    _finish(conn, row, {"status": "verified", "incident_id": incident_id, "handled_by": who.user_id,
                        "updated_at": now})
    conn.execute(update(notification_subscriptions)
                 .where(notification_subscriptions.c.report_id == row.id)
                 .values(incident_id=incident_id))
    report_event(ctx, conn, ReportVerified, row.id)
    return _read(_load(conn, row.id))


def close_report(ctx: Context, who: Principal, report_id: str, data: ReportClose, *,
                 conn: Connection) -> ReportRead:
    """Not an emergency (or not ours): the outcome is recorded as a call, like a phone contact."""
    require_staff(who, "close citizen reports")
    if data.transferred_to and data.outcome != "out_of_area":
        raise InvalidField("transferred_to", "only an out_of_area report is transferred")
    row = _load(conn, report_id, lock=True)
    now = utcnow()
    _finish(conn, row, {"status": "closed", "outcome": data.outcome, "close_note": data.note,
                        "handled_by": who.user_id, "updated_at": now, "closed_at": now})
    caller = CallerIn(phone=row.reporter_phone, name=row.reporter_name) if row.reporter_phone else None
    record_call(ctx, who, CallCreate(channel=row.channel, caller=caller, outcome=data.outcome,
                                     transferred_to=data.transferred_to, note=data.note,
                                     received_at=row.received_at), conn=conn)
    if data.outcome in ("prank", "silent"):
        consider_number(ctx, conn, row.reporter_phone, now=now)
    report_event(ctx, conn, ReportClosed, row.id, outcome=data.outcome)
    return _read(_load(conn, row.id))
