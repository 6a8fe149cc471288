"""A citizen report's events, and a phone's own position attached to its waiting report.

Below the report actions and the telephony side that receives AML, so neither imports the other.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from siaga112.context import Context
from siaga112.events import record_event
from siaga112.events.payloads import ReportChange, ReportUpdated
from siaga112.models import citizen_reports


def report_event(ctx: Context, conn: Connection, payload: type[ReportChange], report_id: str,
                 **extra: Any) -> None:
    """The report as it now stands; staff-wide, never the reporter's number."""
    row = conn.execute(select(citizen_reports).where(citizen_reports.c.id == report_id)).one()
    record_event(conn, ctx.db, payload(
        id=row.id, ticket=row.ticket, channel=row.channel, status=row.status,
        has_location=row.lat is not None, blocked=row.blocked, incident_id=row.incident_id,
        received_at=row.received_at, **extra))


def attach_location(ctx: Context, conn: Connection, phone: str, lat: float, lon: float,
                    radius_m: float | None, source: str, *, now: datetime) -> str | None:
    """A phone's own position (AML) for its waiting report that has none; the report id."""
    row = conn.execute(select(citizen_reports).where(
        citizen_reports.c.reporter_phone == phone, citizen_reports.c.status == "waiting",
        citizen_reports.c.received_at >= now - timedelta(hours=1))
        .order_by(citizen_reports.c.received_at.desc()).limit(1)).first()
    if row is None or row.lat is not None:
        return None
    conn.execute(update(citizen_reports).where(citizen_reports.c.id == row.id).values(
        lat=lat, lon=lon, accuracy_m=radius_m, location_source=source, updated_at=now))
    report_event(ctx, conn, ReportUpdated, row.id)
    return row.id
