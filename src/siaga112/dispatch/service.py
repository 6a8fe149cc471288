"""Assignment actions of an agency: acknowledge, dispatch a unit, progress, decline, ask for support."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from siaga112.audit import service as audit
from siaga112.auth.permissions import require_agency_action
from siaga112.auth.service import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.errors import Conflict, Forbidden, InvalidField, NotFound
from siaga112.events import EventName, record_event
from siaga112.incidents.schemas import IncidentRead
from siaga112.incidents.service import (OPEN_STATUSES, announce_incident, append_timeline,
                                        get_incident, load_visible, set_incident_status)
from siaga112.models import agencies, assignments, incidents, units
from siaga112.units.service import announce_unit

# Which assignment statuses each action may start from; anything else answers 409.
ASSIGNMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"acknowledged", "dispatched", "declined", "cancelled"}),
    "acknowledged": frozenset({"dispatched", "declined", "completed", "cancelled"}),
    "dispatched": frozenset({"en_route", "on_scene", "completed", "cancelled"}),
    "en_route": frozenset({"on_scene", "completed", "cancelled"}),
    "on_scene": frozenset({"completed", "cancelled"}),
    "completed": frozenset(),
    "declined": frozenset(),
    "cancelled": frozenset(),
}
# A unit's state follows its assignment's progress.
UNIT_STATUS_FOR = {"dispatched": "dispatched", "en_route": "en_route", "on_scene": "on_scene"}


def fresh_assignment(ack_due: datetime, now: datetime) -> dict[str, Any]:
    """Values that make an ended assignment pending again, with new deadlines to escalate."""
    return {"status": "pending", "ack_due_at": ack_due, "acknowledged_at": None,
            "dispatched_at": None, "on_scene_at": None, "completed_at": None, "unit_id": None,
            "decline_reason": None, "escalated_at": None, "arrival_due_at": None,
            "arrival_escalated_at": None, "updated_at": now}


def _load_assignment(ctx: Context, who: Principal, incident_id: str, agency_code: str,
                     action: str, *, conn: Connection) -> tuple[Any, Any]:
    incident = load_visible(ctx, who, incident_id, conn=conn, lock=True)
    row = conn.execute(select(assignments).where(assignments.c.incident_id == incident_id,
                                                 assignments.c.agency_code == agency_code)).first()
    if row is None:
        raise NotFound(f"incident has no assignment for {agency_code}")
    require_agency_action(who, agency_code, action)
    return incident, row


def _move(conn: Connection, row: Any, new_status: str, now: datetime, **values: Any) -> None:
    """Conditional update: two dispatchers clicking together cannot both move it."""
    if new_status not in ASSIGNMENT_TRANSITIONS[row.status]:
        raise Conflict(f"assignment is {row.status}; cannot become {new_status}")
    result = conn.execute(update(assignments)
                          .where(assignments.c.id == row.id, assignments.c.status == row.status)
                          .values(status=new_status, updated_at=now, **values))
    if result.rowcount != 1:
        raise Conflict("the assignment changed meanwhile; reload and try again")


def _announce(ctx: Context, conn: Connection, who: Principal, incident: Any, row: Any,
              name: EventName, now: datetime, **extra: Any) -> None:
    current = conn.execute(select(assignments).where(assignments.c.id == row.id)).one()
    data = {"incident_id": incident.id, "ticket": incident.ticket, "agency_code": row.agency_code,
            "role": current.role, "status": current.status, "priority": incident.priority,
            "type_code": incident.type_code, "unit_id": current.unit_id,
            "ack_due_at": current.ack_due_at.isoformat(), "at": now.isoformat(), **extra}
    record_event(conn, ctx.db, name, data, incident_id=incident.id,
                 agencies={row.agency_code, ctx.sop.command_agency})


def acknowledge(ctx: Context, who: Principal, incident_id: str, agency_code: str, *,
                conn: Connection) -> IncidentRead:
    """The agency has seen it and takes it on; stops the acknowledgement clock."""
    incident, row = _load_assignment(ctx, who, incident_id, agency_code, "acknowledge", conn=conn)
    now = utcnow()
    _move(conn, row, "acknowledged", now, acknowledged_at=now)
    append_timeline(conn, incident_id, "acknowledged", who=who, at=now, public=True,
                    agency_code=agency_code, text=f"{agency_code} menerima laporan")
    _announce(ctx, conn, who, incident, row, EventName.ASSIGNMENT_ACKNOWLEDGED, now)
    audit.record(conn, who, "assignment.acknowledged", "incident", incident_id,
                 detail={"agency_code": agency_code})
    return get_incident(ctx, who, incident_id, conn=conn)


def dispatch_unit(ctx: Context, who: Principal, incident_id: str, agency_code: str, unit_id: str,
                  *, conn: Connection) -> IncidentRead:
    """Send one of the agency's available units; a unit already busy answers 409."""
    incident, row = _load_assignment(ctx, who, incident_id, agency_code, "dispatch", conn=conn)
    if incident.status not in OPEN_STATUSES:
        raise Conflict(f"incident is {incident.status}")
    unit = conn.execute(select(units).where(units.c.id == unit_id)).first()
    if unit is None or unit.agency_code != agency_code:
        raise InvalidField("unit_id", f"no unit {unit_id!r} in {agency_code}")
    now = utcnow()
    arrival_due = now + timedelta(seconds=ctx.sop.priorities[incident.priority].dispatch_seconds)
    _move(conn, row, "dispatched", now, dispatched_at=now, unit_id=unit_id,
          acknowledged_at=row.acknowledged_at or now, arrival_due_at=arrival_due)
    taken = conn.execute(update(units).where(units.c.id == unit_id, units.c.status == "available")
                         .values(status="dispatched", incident_id=incident_id, updated_at=now))
    if taken.rowcount != 1:
        raise Conflict(f"unit {unit.call_sign} is not available ({unit.status})")
    append_timeline(conn, incident_id, "dispatched", who=who, at=now, public=True,
                    agency_code=agency_code, text=f"{agency_code}: unit {unit.call_sign} diberangkatkan",
                    data={"unit_id": unit_id})
    _announce(ctx, conn, who, incident, row, EventName.ASSIGNMENT_DISPATCHED, now,
              call_sign=unit.call_sign)
    announce_unit(ctx, conn, unit_id)
    if incident.status == "new":
        set_incident_status(ctx, conn, who, incident, "dispatched", now=now)
    audit.record(conn, who, "assignment.dispatched", "incident", incident_id,
                 detail={"agency_code": agency_code, "unit_id": unit_id})
    return get_incident(ctx, who, incident_id, conn=conn)


def progress(ctx: Context, who: Principal, incident_id: str, agency_code: str, new_status: str,
             note: str | None, *, conn: Connection) -> IncidentRead:
    """Unit en route, on scene, or the agency's work done; the incident follows."""
    incident, row = _load_assignment(ctx, who, incident_id, agency_code, "report progress", conn=conn)
    now = utcnow()
    stamps = {"on_scene": {"on_scene_at": now}, "completed": {"completed_at": now}}.get(new_status, {})
    _move(conn, row, new_status, now, **stamps)
    if row.unit_id:
        unit_values = ({"status": "available", "incident_id": None} if new_status == "completed"
                       else {"status": UNIT_STATUS_FOR[new_status]})
        conn.execute(update(units).where(units.c.id == row.unit_id,
                                         units.c.incident_id == incident_id)
                     .values(updated_at=now, **unit_values))
    labels = {"en_route": "dalam perjalanan", "on_scene": "tiba di lokasi", "completed": "selesai"}
    append_timeline(conn, incident_id, new_status, who=who, at=now, public=True,
                    agency_code=agency_code,
                    text=f"{agency_code} {labels[new_status]}" + (f": {note}" if note else ""))
    _announce(ctx, conn, who, incident, row, EventName.ASSIGNMENT_UPDATED, now)
    if row.unit_id:
        announce_unit(ctx, conn, row.unit_id)
    if new_status == "on_scene" and incident.status in ("new", "dispatched"):
        set_incident_status(ctx, conn, who, incident, "on_scene", now=now)
    audit.record(conn, who, "assignment.progress", "incident", incident_id,
                 detail={"agency_code": agency_code, "status": new_status})
    return get_incident(ctx, who, incident_id, conn=conn)


def decline(ctx: Context, who: Principal, incident_id: str, agency_code: str, reason: str, *,
            conn: Connection) -> IncidentRead:
    """Not this agency's to handle: the reason goes to the command center to re-route."""
    incident, row = _load_assignment(ctx, who, incident_id, agency_code, "decline", conn=conn)
    now = utcnow()
    _move(conn, row, "declined", now, decline_reason=reason)
    conn.execute(update(incidents).where(incidents.c.id == incident_id)
                 .values(attention="declined", updated_at=now))
    append_timeline(conn, incident_id, "declined", who=who, at=now, agency_code=agency_code,
                    text=f"{agency_code} menolak: {reason}")
    _announce(ctx, conn, who, incident, row, EventName.ASSIGNMENT_DECLINED, now, reason=reason)
    audit.record(conn, who, "assignment.declined", "incident", incident_id,
                 detail={"agency_code": agency_code})
    return get_incident(ctx, who, incident_id, conn=conn)


def request_support(ctx: Context, who: Principal, incident_id: str, agency_code: str, reason: str,
                    *, conn: Connection) -> IncidentRead:
    """An assigned agency or the command center brings another agency in as support."""
    incident = load_visible(ctx, who, incident_id, conn=conn, lock=True)
    if who.role not in ("commander", "admin", "dispatcher"):
        raise Forbidden(f"role {who.role} may not request support")
    if incident.status not in OPEN_STATUSES:
        raise Conflict(f"incident is {incident.status}")
    agency = conn.execute(select(agencies).where(agencies.c.code == agency_code,
                                                 agencies.c.active.is_(True))).first()
    if agency is None or agency.role == "operator":
        raise InvalidField("agency_code", f"unknown or unassignable agency {agency_code!r}")
    now = utcnow()
    ack_due = now + timedelta(seconds=ctx.sop.priorities[incident.priority].ack_seconds)
    existing = conn.execute(select(assignments).where(assignments.c.incident_id == incident_id,
                                                      assignments.c.agency_code == agency_code)).first()
    if existing is not None and existing.status not in ("declined", "cancelled", "completed"):
        raise Conflict(f"{agency_code} is already working on this incident")
    if existing is None:
        conn.execute(insert(assignments).values(
            incident_id=incident_id, agency_code=agency_code, role="support", status="pending",
            ack_due_at=ack_due, created_at=now, updated_at=now))
    else:
        conn.execute(update(assignments).where(assignments.c.id == existing.id).values(
            **fresh_assignment(ack_due, now)))
    append_timeline(conn, incident_id, "support_requested", who=who, at=now,
                    agency_code=who.agency_code, text=f"bantuan {agency_code}: {reason}")
    row = conn.execute(select(assignments).where(assignments.c.incident_id == incident_id,
                                                 assignments.c.agency_code == agency_code)).one()
    _announce(ctx, conn, who, incident, row, EventName.ASSIGNMENT_CREATED, now, reason=reason)
    announce_incident(ctx, conn, who, incident_id, EventName.INCIDENT_UPDATED, {"change": "support"})
    audit.record(conn, who, "assignment.support_requested", "incident", incident_id,
                 detail={"agency_code": agency_code})
    return get_incident(ctx, who, incident_id, conn=conn)
