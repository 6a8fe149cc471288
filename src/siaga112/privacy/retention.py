"""Retention: callers' personal data of long-finished incidents is removed, statistics stay.

UU PDP 27/2022 wants personal data kept no longer than its purpose needs. Once an incident is
closed or cancelled and older than the retention period, nobody needs to call the reporter back;
reports need only the type, the times, the agencies and the wilayah.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, Numeric, and_, cast, func, or_, select, update

from siaga112.audit import service as audit
from siaga112.db import utcnow
from siaga112.models import calls, incidents, timeline_entries

REDACTED = "(dianonimkan)"
# Positions are kept to about a kilometre: enough for maps of where things happen, not enough
# to find the reporter's house.
POSITION_DECIMALS = 2
# Timeline entries whose text the system wrote (type, agencies, unit call signs); every other
# entry may carry free text typed by staff (notes, reasons), which may name people.
SYSTEM_TEXT_KINDS = ("created", "routed", "acknowledged", "dispatched", "caller_linked", "escalated")


@dataclass(frozen=True)
class RetentionResult:
    incidents: int
    calls: int
    notes: int
    dry_run: bool


def apply_retention(conn: Connection, *, days: int, dry_run: bool = False,
                    actor: str = "retention") -> RetentionResult:
    """Anonymise closed/cancelled incidents finished more than `days` ago, their calls and notes,
    and calls older than that which never became an incident (pranks, silent calls)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    cutoff = utcnow() - timedelta(days=days)
    due = and_(incidents.c.status.in_(("closed", "cancelled")), incidents.c.closed_at < cutoff,
               incidents.c.anonymised_at.is_(None))
    due_ids = select(incidents.c.id).where(due)
    has_caller_data = or_(calls.c.caller_phone.is_not(None), calls.c.caller_name.is_not(None),
                          calls.c.note.is_not(None))
    due_calls = and_(has_caller_data, or_(calls.c.incident_id.in_(due_ids),
                                          and_(calls.c.incident_id.is_(None),
                                               calls.c.received_at < cutoff)))
    due_notes = and_(timeline_entries.c.incident_id.in_(due_ids),
                     timeline_entries.c.kind.not_in(SYSTEM_TEXT_KINDS),
                     timeline_entries.c.text.is_not(None), timeline_entries.c.text != REDACTED)
    n_incidents = conn.execute(select(func.count()).select_from(incidents).where(due)).scalar_one()
    n_calls = conn.execute(select(func.count()).select_from(calls).where(due_calls)).scalar_one()
    n_notes = conn.execute(select(func.count()).select_from(timeline_entries)
                           .where(due_notes)).scalar_one()
    if not dry_run:
        # Calls and notes first: they find their incidents by "not yet anonymised".
        conn.execute(update(calls).where(due_calls)
                     .values(caller_phone=None, caller_name=None, note=None))
        conn.execute(update(timeline_entries).where(due_notes).values(text=REDACTED))
        conn.execute(update(incidents).where(due).values(
            caller_phone=None, caller_name=None, address=None, description=REDACTED,
            lat=func.round(cast(incidents.c.lat, Numeric), POSITION_DECIMALS),
            lon=func.round(cast(incidents.c.lon, Numeric), POSITION_DECIMALS),
            geo_cell=None, anonymised_at=utcnow()))
    audit.record(conn, None, "retention.dry_run" if dry_run else "retention.applied", "retention",
                 None, actor=actor, detail={"days": days, "incidents": n_incidents,
                                            "calls": n_calls, "notes": n_notes})
    return RetentionResult(n_incidents, n_calls, n_notes, dry_run)
