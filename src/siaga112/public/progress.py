"""How far a ticket has come: the stage an incident or citizen report has reached, as the
reporter is told it on the ticket page and in messages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from siaga112.models import agencies, assignments, handovers

STAGES = ("received", "verified", "forwarded", "acknowledged", "en_route", "on_scene", "closed")
STAGE_LABELS = {
    "received": "Laporan diterima",
    "verified": "Diverifikasi petugas 112",
    "forwarded": "Diteruskan ke instansi",
    "acknowledged": "Diterima instansi",
    "en_route": "Unit dalam perjalanan",
    "on_scene": "Unit tiba di lokasi",
    "closed": "Selesai",
}
STATUS_LABELS = {
    **STAGE_LABELS,
    "cancelled": "Dibatalkan",
    "transferred": "Dialihkan ke layanan lain",
}
# Why a report was closed without an incident, as the reporter reads it.
CLOSED_REPORT_LABELS = {
    "information": "Ditutup: informasi telah diberikan",
    "duplicate": "Digabung dengan laporan lain",
    "out_of_area": "Dialihkan ke layanan lain",
    "prank": "Ditutup",
    "silent": "Ditutup",
    "misdial": "Ditutup",
}

@dataclass(frozen=True)
class Progress:
    """The stage an incident has reached, for the page and for the notifications."""

    status: str          # one of STAGES, or cancelled / transferred
    reached: dict[str, datetime]
    agency_name: str | None
    updated_at: datetime


def incident_progress(conn: Connection, incident: Any) -> Progress:
    rows = conn.execute(select(assignments.c.agency_code, assignments.c.role, assignments.c.status,
                               assignments.c.created_at, assignments.c.acknowledged_at,
                               assignments.c.dispatched_at, assignments.c.on_scene_at)
                        .where(assignments.c.incident_id == incident.id)
                        .order_by(assignments.c.id)).all()
    working = [a for a in rows if a.status not in ("declined", "cancelled")] or rows
    reached: dict[str, datetime] = {"received": incident.created_at, "verified": incident.created_at}

    def first(values: list[datetime | None]) -> datetime | None:
        present = [v for v in values if v is not None]
        return min(present) if present else None

    for stage, values in (("forwarded", [a.created_at for a in working]),
                          ("acknowledged", [a.acknowledged_at for a in working]),
                          ("en_route", [a.dispatched_at for a in working]),
                          ("on_scene", [a.on_scene_at for a in working])):
        at = first(values)
        if at is not None:
            reached[stage] = at
    if incident.status == "on_scene" and "on_scene" not in reached:
        reached["on_scene"] = incident.updated_at
    status = max(reached, key=STAGES.index)
    if incident.status in ("resolved", "closed"):
        reached["closed"] = incident.closed_at or incident.updated_at
        status = "closed"
    elif incident.status == "cancelled":
        handed_over = conn.execute(select(handovers.c.id).where(
            handovers.c.incident_id == incident.id).limit(1)).first()
        status = "transferred" if handed_over else "cancelled"
    lead = next((a.agency_code for a in working if a.role == "lead"), None)
    agency_name = None
    if lead is not None:
        agency_name = conn.execute(select(agencies.c.name).where(agencies.c.code == lead)).scalar()
    return Progress(status, reached, agency_name, incident.updated_at)


def report_progress(report: Any) -> Progress:
    """A report not (or no longer) waiting to become an incident."""
    reached = {"received": report.received_at}
    if report.status == "closed":
        status = "transferred" if report.outcome == "out_of_area" else "closed"
        if status == "closed":
            reached["closed"] = report.closed_at or report.updated_at
        return Progress(status, reached, None, report.updated_at)
    return Progress("received", reached, None, report.updated_at)
