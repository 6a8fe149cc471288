"""What a reporter may know about their ticket: the stage reached and the public notes, nothing else.

A ticket is an incident's, or a citizen report's (SMS, WhatsApp, web form) before and after a
call-taker verifies it into an incident; a verified report follows its incident. The stages are
received → verified → forwarded to the agency → acknowledged → unit on the way → on scene →
closed. No caller, address, description or internal note ever leaves this module.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, select

from siaga112.context import Context
from siaga112.models import citizen_reports, incident_types, incidents, timeline_entries
from siaga112.notify.service import opt_out_ticket
from siaga112.public.progress import (
    CLOSED_REPORT_LABELS,
    STAGE_LABELS,
    STAGES,
    STATUS_LABELS,
    incident_progress,
    report_progress,
)
from siaga112.public.schemas import PublicNote, PublicStage, PublicTicket

_TICKET = re.compile(r"^[2-9A-HJKMNP-Z]{4}-?[2-9A-HJKMNP-Z]{4}$")


def normalise_ticket(raw: str) -> str | None:
    """`k7mq3xd9`, `K7MQ 3XD9` → `K7MQ-3XD9`; None when it cannot be a ticket."""
    text = re.sub(r"[\s.]", "", raw or "").upper()
    if not _TICKET.match(text):
        return None
    text = text.replace("-", "")
    return f"{text[:4]}-{text[4:]}"


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


def _discreet_ticket(conn: Connection, ticket: str, incident: Any, report: Any | None) -> PublicTicket:
    """A sensitive type's ticket (domestic violence, crime): only received or done. Whoever
    reads the page may be the person the call was about; the kind of case, the agency, the notes
    and the steps in between would tell them what the caller said and who is coming."""
    progress = incident_progress(conn, incident)
    received = incident.created_at if report is None else min(report.received_at, incident.created_at)
    done = progress.status in ("closed", "cancelled", "transferred")
    done_at = (incident.closed_at or incident.updated_at) if done else None
    stages = [PublicStage(code="received", label=STAGE_LABELS["received"], reached=True, at=received),
              PublicStage(code="closed", label=STAGE_LABELS["closed"], reached=done, at=done_at)]
    status = "closed" if done else "received"
    return PublicTicket(ticket=ticket, status=status, status_label=STAGE_LABELS[status],
                        updated_at=done_at or received, public_notes=[], stages=stages)


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
    if incident is not None and ctx.sop.is_sensitive(incident.type_code):
        return _discreet_ticket(conn, ticket, incident, report)
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
