"""Assignment actions of an agency: acknowledge, dispatch a unit, progress, decline, ask for support."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from siaga112.audit import service as audit
from siaga112.auth.permissions import (
    require_agency_action,
    require_support_requester,
    require_unit_status_changer,
)
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import load_row, utcnow
from siaga112.dispatch.assignments import announce_assignment, assignment_of, open_assignment
from siaga112.errors import Conflict, InvalidField
from siaga112.events.payloads import (
    AssignmentAcknowledged,
    AssignmentDeclined,
    AssignmentDispatched,
    AssignmentUpdated,
    IncidentUpdated,
)
from siaga112.incidents.announce import announce_incident
from siaga112.incidents.reads import get_incident, load_visible
from siaga112.incidents.schemas import IncidentRead
from siaga112.incidents.service import set_incident_status
from siaga112.incidents.timeline import append_timeline
from siaga112.models import agencies, assignments, incidents, units
from siaga112.models.status import (
    ACTIVE_ASSIGNMENT,
    ASSIGNMENT_MOVES,
    OPEN_INCIDENT,
    UNIT_FOLLOWS_ASSIGNMENT,
    UNIT_MOVES,
    AssignmentStatus,
    IncidentStatus,
    UnitStatus,
)
from siaga112.transitions import move_assignment, move_unit
from siaga112.units import service as unit_service
from siaga112.units.schemas import UnitRead
from siaga112.units.service import announce_unit

# Completing the lead of an incident this urgent without ever sending a unit is almost always a
# slip (a double click on a fire): it needs a reason, and the command centre is told.
REASON_TO_COMPLETE_WITHOUT_UNIT = frozenset({1, 2})
COMPLETED_WITHOUT_UNIT = "completed_without_unit"

PROGRESS_LABELS = {AssignmentStatus.EN_ROUTE: "dalam perjalanan",
                   AssignmentStatus.ON_SCENE: "tiba di lokasi",
                   AssignmentStatus.COMPLETED: "selesai"}


def completing_needs_reason(priority: int, assignment: Any) -> bool:
    """Completing it needs a reason: the lead of a P1/P2 incident that never sent a unit."""
    return (assignment.role == "lead" and priority in REASON_TO_COMPLETE_WITHOUT_UNIT
            and assignment.dispatched_at is None and assignment.unit_id is None)


def _load_assignment(ctx: Context, who: Principal, incident_id: str, agency_code: str,
                     action: str, *, conn: Connection) -> tuple[Any, Any]:
    incident = load_visible(ctx, who, incident_id, conn=conn, lock=True)
    row = assignment_of(conn, incident_id, agency_code)
    require_agency_action(who, agency_code, action)
    return incident, row


def acknowledge(ctx: Context, who: Principal, incident_id: str, agency_code: str, *,
                conn: Connection) -> IncidentRead:
    """The agency has seen it and takes it on; stops the acknowledgement clock."""
    incident, row = _load_assignment(ctx, who, incident_id, agency_code, "acknowledge", conn=conn)
    now = utcnow()
    move_assignment(conn, row, AssignmentStatus.ACKNOWLEDGED, now=now, acknowledged_at=now)
    append_timeline(conn, incident_id, "acknowledged", who=who, at=now, public=True,
                    agency_code=agency_code, text=f"{agency_code} menerima laporan")
    announce_assignment(ctx, conn, incident, row.id, AssignmentAcknowledged, at=now)
    audit.record(conn, who, "assignment.acknowledged", "incident", incident_id,
                 detail={"agency_code": agency_code})
    return get_incident(ctx, who, incident_id, conn=conn)


def dispatch_unit(ctx: Context, who: Principal, incident_id: str, agency_code: str, unit_id: str,
                  *, conn: Connection) -> IncidentRead:
    """Send one of the agency's available units; a unit already busy answers 409."""
    incident, row = _load_assignment(ctx, who, incident_id, agency_code, "dispatch", conn=conn)
    if incident.status not in OPEN_INCIDENT:
        raise Conflict(f"incident is {incident.status}")
    unit = conn.execute(select(units).where(units.c.id == unit_id)).first()
    if unit is None or unit.agency_code != agency_code:
        raise InvalidField("unit_id", f"no unit {unit_id!r} in {agency_code}")
    now = utcnow()
    arrival_due = now + timedelta(seconds=ctx.sop.priorities[incident.priority].dispatch_seconds)
    move_assignment(conn, row, AssignmentStatus.DISPATCHED, now=now, dispatched_at=now,
                    unit_id=unit_id, acknowledged_at=row.acknowledged_at or now,
                    arrival_due_at=arrival_due)
    move_unit(conn, unit, UnitStatus.DISPATCHED, now=now, incident_id=incident_id)
    append_timeline(conn, incident_id, "dispatched", who=who, at=now, public=True,
                    agency_code=agency_code, text=f"{agency_code}: unit {unit.call_sign} diberangkatkan",
                    data={"unit_id": unit_id})
    announce_assignment(ctx, conn, incident, row.id, AssignmentDispatched, at=now,
                        call_sign=unit.call_sign)
    announce_unit(ctx, conn, unit_id)
    if incident.status == IncidentStatus.NEW:
        set_incident_status(ctx, conn, who, incident, IncidentStatus.DISPATCHED, now=now)
    audit.record(conn, who, "assignment.dispatched", "incident", incident_id,
                 detail={"agency_code": agency_code, "unit_id": unit_id})
    return get_incident(ctx, who, incident_id, conn=conn)


def progress(ctx: Context, who: Principal, incident_id: str, agency_code: str,
             new_status: AssignmentStatus, note: str | None, *, conn: Connection) -> IncidentRead:
    """Unit en route, on scene, or the agency's work done; its unit and the incident follow."""
    incident, row = _load_assignment(ctx, who, incident_id, agency_code, "report progress", conn=conn)
    note = (note or "").strip() or None
    # An illegal move stays a 409 (move_assignment below); only a legal one may need a reason.
    without_unit = (new_status == AssignmentStatus.COMPLETED
                    and new_status in ASSIGNMENT_MOVES[AssignmentStatus(row.status)]
                    and completing_needs_reason(incident.priority, row))
    if without_unit and note is None:
        raise InvalidField("note", f"P{incident.priority}: {agency_code} belum pernah mengirim unit; "
                                   "tulis alasan menyelesaikan tanpa unit")
    now = utcnow()
    stamps = {AssignmentStatus.ON_SCENE: {"on_scene_at": now},
              AssignmentStatus.COMPLETED: {"completed_at": now}}.get(new_status, {})
    move_assignment(conn, row, new_status, now=now, **stamps)
    if without_unit:
        conn.execute(update(incidents).where(incidents.c.id == incident_id)
                     .values(attention=COMPLETED_WITHOUT_UNIT, updated_at=now))
    unit = None if row.unit_id is None else conn.execute(
        select(units).where(units.c.id == row.unit_id, units.c.incident_id == incident_id)).first()
    if unit is not None:
        unit_next = (UnitStatus.AVAILABLE if new_status == AssignmentStatus.COMPLETED
                     else UNIT_FOLLOWS_ASSIGNMENT[new_status])
        # A unit further along on its own (transporting a patient) keeps its more precise state.
        if unit_next in UNIT_MOVES[UnitStatus(unit.status)]:
            move_unit(conn, unit, unit_next, now=now)
    append_timeline(conn, incident_id, new_status, who=who, at=now, public=True,
                    agency_code=agency_code,
                    text=f"{agency_code} {PROGRESS_LABELS[new_status]}" + (f": {note}" if note else ""))
    announce_assignment(ctx, conn, incident, row.id, AssignmentUpdated, at=now,
                        completed_without_unit=note if without_unit else None)
    if unit is not None:
        announce_unit(ctx, conn, unit.id)
    if new_status == AssignmentStatus.ON_SCENE and incident.status in (IncidentStatus.NEW,
                                                                       IncidentStatus.DISPATCHED):
        set_incident_status(ctx, conn, who, incident, IncidentStatus.ON_SCENE, now=now)
    audit.record(conn, who, "assignment.progress", "incident", incident_id,
                 detail={"agency_code": agency_code, "status": new_status,
                         **({"without_unit": True} if without_unit else {})})
    return get_incident(ctx, who, incident_id, conn=conn)


def decline(ctx: Context, who: Principal, incident_id: str, agency_code: str, reason: str, *,
            conn: Connection) -> IncidentRead:
    """Not this agency's to handle: the reason goes to the command center to re-route."""
    incident, row = _load_assignment(ctx, who, incident_id, agency_code, "decline", conn=conn)
    now = utcnow()
    move_assignment(conn, row, AssignmentStatus.DECLINED, now=now, decline_reason=reason)
    conn.execute(update(incidents).where(incidents.c.id == incident_id)
                 .values(attention="declined", updated_at=now))
    append_timeline(conn, incident_id, "declined", who=who, at=now, agency_code=agency_code,
                    text=f"{agency_code} menolak: {reason}")
    announce_assignment(ctx, conn, incident, row.id, AssignmentDeclined, at=now,
                        reason=reason)
    audit.record(conn, who, "assignment.declined", "incident", incident_id,
                 detail={"agency_code": agency_code})
    return get_incident(ctx, who, incident_id, conn=conn)


def request_support(ctx: Context, who: Principal, incident_id: str, agency_code: str, reason: str,
                    *, conn: Connection) -> IncidentRead:
    """An assigned agency or the command center brings another agency in as support."""
    incident = load_visible(ctx, who, incident_id, conn=conn, lock=True)
    require_support_requester(who)
    if incident.status not in OPEN_INCIDENT:
        raise Conflict(f"incident is {incident.status}")
    agency = conn.execute(select(agencies).where(agencies.c.code == agency_code,
                                                 agencies.c.active.is_(True))).first()
    if agency is None or agency.role == "operator":
        raise InvalidField("agency_code", f"unknown or unassignable agency {agency_code!r}")
    existing = conn.execute(select(assignments.c.status).where(
        assignments.c.incident_id == incident_id, assignments.c.agency_code == agency_code)).first()
    if existing is not None and existing.status in ACTIVE_ASSIGNMENT:
        raise Conflict(f"{agency_code} is already working on this incident")
    now = utcnow()
    ack_due = now + timedelta(seconds=ctx.sop.priorities[incident.priority].ack_seconds)
    append_timeline(conn, incident_id, "support_requested", who=who, at=now,
                    agency_code=who.agency_code, text=f"bantuan {agency_code}: {reason}")
    open_assignment(ctx, conn, incident, agency_code, None, ack_due=ack_due, now=now, reason=reason)
    announce_incident(ctx, conn, who, incident_id, IncidentUpdated, change="support")
    audit.record(conn, who, "assignment.support_requested", "incident", incident_id,
                 detail={"agency_code": agency_code})
    return get_incident(ctx, who, incident_id, conn=conn)


def change_unit_status(ctx: Context, who: Principal, unit_id: str, new_status: UnitStatus,
                       note: str | None, *, conn: Connection) -> UnitRead:
    """A unit's status by hand; en route or on scene moves the assignment it serves with it.

    One click on the fleet board (or the crew's button) is then one guarded move of the
    assignment, which moves its unit, rather than two moves that could disagree.
    """
    require_unit_status_changer(who)
    unit = unit_service.visible_unit(who, unit_id, conn)
    if unit.incident_id is not None:
        # Every incident action locks the incident row and then moves units; taking the unit
        # first here would deadlock with it (PostgreSQL). Read the unit again once we hold it.
        load_row(conn, incidents, unit.incident_id, missing="incident not found", lock=True)
        unit = unit_service.visible_unit(who, unit_id, conn)
    follows = (unit.incident_id is not None and new_status in UNIT_FOLLOWS_ASSIGNMENT.values()
               and new_status != UnitStatus.DISPATCHED)
    if follows:
        require_agency_action(who, unit.agency_code, "change a unit's status")
        row = conn.execute(select(assignments.c.status).where(
            assignments.c.incident_id == unit.incident_id, assignments.c.agency_code == unit.agency_code,
            assignments.c.unit_id == unit.id)).first()
        step = AssignmentStatus(new_status)
        if row is not None and step in ASSIGNMENT_MOVES[AssignmentStatus(row.status)]:
            progress(ctx, who, unit.incident_id, unit.agency_code, step, note, conn=conn)
            return unit_service.get_unit(ctx, who, unit_id, conn=conn)
    return unit_service.change_status(ctx, who, unit_id, new_status, note, conn=conn)
