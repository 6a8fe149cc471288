"""Advanced Mobile Location received: kept (valid or not), and attached to the caller's live call
or, failing that, to their waiting citizen report."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, select, update

from siaga112.context import Context
from siaga112.db import inserted_id, utcnow
from siaga112.events import record_event
from siaga112.events.payloads import CallLocation
from siaga112.inbound.report_events import attach_location
from siaga112.interop.aml import AmlFix
from siaga112.models import aml_locations, call_sessions

# AML arrives within seconds of the call; a fix this long after the call ended is not for it.
AML_ATTACH_WINDOW = timedelta(minutes=10)


def record_aml(ctx: Context, conn: Connection, fix: AmlFix, *, phone: str | None) -> tuple[int, str | None]:
    """Keep an AML message (valid or not) and attach a valid fix to the number's live call."""
    now = utcnow()
    session = None
    if phone and fix.valid:
        session = conn.execute(select(call_sessions).where(
            call_sessions.c.caller_phone == phone, call_sessions.c.ringing_at >= now - timedelta(hours=2))
            .order_by(call_sessions.c.ringing_at.desc()).limit(1)).first()
        if session is not None and session.ended_at is not None and session.ended_at < now - AML_ATTACH_WINDOW:
            session = None
    aml_id = inserted_id(conn.execute(aml_locations.insert().values(
        form=fix.form, phone=phone, received_at=now, lat=fix.lat, lon=fix.lon, radius_m=fix.radius_m,
        positioned_at=fix.positioned_at, confidence=fix.confidence, method=fix.method,
        valid=fix.valid, problems=fix.problems, raw=fix.raw,
        call_session_id=session.id if session is not None else None)))
    if session is not None:
        conn.execute(update(call_sessions).where(call_sessions.c.id == session.id)
                     .values(aml_id=aml_id, updated_at=now))
        record_event(conn, ctx.db, CallLocation(
            session_id=session.id, aml_id=aml_id, lat=fix.lat, lon=fix.lon, radius_m=fix.radius_m,
            method=fix.method, positioned_at=fix.positioned_at))
    elif phone and fix.valid and fix.lat is not None and fix.lon is not None:
        report_id = attach_location(ctx, conn, phone, fix.lat, fix.lon, fix.radius_m, "aml", now=now)
        if report_id:
            conn.execute(update(aml_locations).where(aml_locations.c.id == aml_id).values(report_id=report_id))
    return int(aml_id), session.id if session is not None else None
