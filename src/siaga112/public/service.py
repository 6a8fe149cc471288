"""What a reporter may know about their ticket: the stage reached and the public notes, nothing else.

A ticket is an incident's, or a citizen report's (SMS, WhatsApp, web form) before and after a
call-taker verifies it into an incident; a verified report follows its incident. The stages are
received → verified → forwarded to the agency → acknowledged → unit on the way → on scene →
closed. No caller, address, description or internal note ever leaves this module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from siaga112.context import Context
from siaga112.models import (agencies, assignments, citizen_reports, handovers, incident_types, incidents,
                             timeline_entries)
from siaga112.notify.service import opt_out_ticket
from siaga112.public.schemas import PublicNote, PublicStage, PublicTicket

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
_TICKET = re.compile(r"^[2-9A-HJKMNP-Z]{4}-?[2-9A-HJKMNP-Z]{4}$")


def normalise_ticket(raw: str) -> str | None:
    """`k7mq3xd9`, `K7MQ 3XD9` → `K7MQ-3XD9`; None when it cannot be a ticket."""
    text = re.sub(r"[\s.]", "", raw or "").upper()
    if not _TICKET.match(text):
        return None
    text = text.replace("-", "")
    return f"{text[:4]}-{text[4:]}"


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


def _public_notes(conn: Connection, incident_id: str) -> list[PublicNote]:
    rows = conn.execute(select(timeline_entries.c.at, timeline_entries.c.text)
                        .where(timeline_entries.c.incident_id == incident_id,
                               timeline_entries.c.kind == "note", timeline_entries.c.public)
                        .order_by(timeline_entries.c.id)).all()
    return [PublicNote(at=r.at, text=r.text or "") for r in rows]


def opt_out(ctx: Context, raw_ticket: str, *, conn: Connection) -> tuple[PublicTicket | None, int]:
    """Stop the messages about a ticket: its public view and the subscriptions stopped, or
    (None, 0) when there is no such ticket."""
    found = public_ticket(ctx, raw_ticket, conn=conn)
    if found is None:
        return None, 0
    return found, opt_out_ticket(conn, found.ticket)


def find_ticket(conn: Connection, ticket: str) -> tuple[Any | None, Any | None]:
    """(incident row, report row) for a ticket; the incident is the report's once verified."""
    incident = conn.execute(select(incidents).where(incidents.c.ticket == ticket)).first()
    if incident is not None:
        return incident, None
    report = conn.execute(select(citizen_reports).where(citizen_reports.c.ticket == ticket)).first()
    if report is None:
        return None, None
    if report.incident_id:
        incident = conn.execute(select(incidents).where(incidents.c.id == report.incident_id)).first()
    return incident, report


def public_ticket(ctx: Context, raw_ticket: str, *, conn: Connection) -> PublicTicket | None:
    """The public view of a ticket, or None when there is no such ticket."""
    ticket = normalise_ticket(raw_ticket)
    if ticket is None:
        return None
    incident, report = find_ticket(conn, ticket)
    if incident is None and report is None:
        return None
    type_label = None
    notes: list[PublicNote] = []
    if incident is not None:
        progress = incident_progress(conn, incident)
        if report is not None:
            progress.reached["received"] = min(report.received_at, progress.reached["received"])
        type_label = conn.execute(select(incident_types.c.name_id)
                                  .where(incident_types.c.code == incident.type_code)).scalar()
        notes = _public_notes(conn, incident.id)
        updated = max(progress.updated_at, report.updated_at) if report is not None else progress.updated_at
    else:
        progress = report_progress(report)
        updated = progress.updated_at
    label = STATUS_LABELS[progress.status]
    if report is not None and incident is None and report.status == "closed":
        label = CLOSED_REPORT_LABELS.get(report.outcome or "", label)
    stages = []
    for stage in STAGES:
        stage_label = STAGE_LABELS[stage]
        if stage == "forwarded" and progress.agency_name:
            stage_label = f"Diteruskan ke {progress.agency_name}"
        stages.append(PublicStage(code=stage, label=stage_label, reached=stage in progress.reached,
                                  at=progress.reached.get(stage)))
    return PublicTicket(ticket=ticket, status=progress.status, status_label=label, updated_at=updated,
                        public_notes=notes, stages=stages, type_label=type_label,
                        agency=progress.agency_name)
