"""What an incident's events say: the situation for the agencies concerned, never the caller."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from siaga112.auth.permissions import event_agencies
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.events import record_event
from siaga112.events.payloads import AssignmentBrief, IncidentSituation
from siaga112.incidents.reads import assignment_rows, to_read
from siaga112.incidents.schemas import IncidentRead
from siaga112.models import incidents


def audience(ctx: Context, agency_codes: Iterable[str]) -> set[str]:
    """Agencies that see a new incident's events: those it is routed to. The command centre sees
    every event by its role; the command agency's dispatchers see only what is assigned to them,
    as the API does."""
    return set(agency_codes)


def situation(incident: IncidentRead) -> dict[str, Any]:
    """What an event says about an incident: the situation, never the caller."""
    return {
        "id": incident.id, "ticket": incident.ticket, "status": incident.status,
        "type_code": incident.type_code, "priority": incident.priority,
        "kecamatan_code": incident.kecamatan_code, "desa_code": incident.desa_code,
        "lat": incident.location.lat, "lon": incident.location.lon,
        "attention": incident.attention,
        "assignments": [AssignmentBrief(agency_code=a.agency_code, role=a.role, status=a.status,
                                        ack_due_at=a.ack_due_at) for a in incident.assignments],
        "updated_at": incident.updated_at,
    }


def announce_incident(ctx: Context, conn: Connection, who: Principal, incident_id: str,
                      payload: type[IncidentSituation], **extra: Any) -> IncidentRead:
    """Record an incident-level event with the incident as it now stands."""
    row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).one()
    rows = assignment_rows(conn, [incident_id])[incident_id]
    current = to_read(who, row, rows)
    record_event(conn, ctx.db, payload(**situation(current), **extra), incident_id=incident_id,
                 agencies=event_agencies(rows))
    return current
