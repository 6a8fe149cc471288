"""Incident actions after intake: status, notes and re-routing under the SOP."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from siaga112.audit import service as audit
from siaga112.auth.permissions import (
    follows,
    own_assignment,
    require_command,
    require_incident_status_change,
    require_note_writer,
)
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.dispatch.assignments import announce_assignment, open_assignment
from siaga112.errors import Conflict, InvalidField
from siaga112.events.payloads import AssignmentUpdated, IncidentStatusChanged, IncidentUpdated
from siaga112.incidents.announce import announce_incident
from siaga112.incidents.intake import route_for
from siaga112.incidents.reads import assignment_rows, get_incident, load_visible
from siaga112.incidents.schemas import IncidentRead
from siaga112.incidents.timeline import STATUS_WORDS, append_timeline
from siaga112.models import assignments, incidents, units
from siaga112.models.status import (
    ACTIVE_ASSIGNMENT,
    AWAITING_ASSIGNMENT,
    ENDING_INCIDENT,
    OPEN_INCIDENT,
    WORKING_ASSIGNMENT,
    AssignmentStatus,
    IncidentStatus,
    UnitStatus,
)
from siaga112.transitions import move_assignment, move_incident, move_unit
from siaga112.units.service import announce_unit


def set_incident_status(ctx: Context, conn: Connection, who: Principal, row: Any,
                        new_status: IncidentStatus, *, now: datetime, note: str | None = None) -> None:
    """Move the incident along its state machine, settling assignments and units at the end."""
    values: dict[str, Any] = {}
    if new_status in (IncidentStatus.CLOSED, IncidentStatus.CANCELLED):
        values = {"closed_at": now, "attention": None}
    move_incident(conn, row, new_status, now=now, **values)
    if new_status in ENDING_INCIDENT:
        _settle_work(ctx, conn, row.id, now=now, cancelled=new_status == IncidentStatus.CANCELLED)
    append_timeline(conn, row.id, "status", who=who, at=now, public=True,
                    text=f"{STATUS_WORDS[row.status]} → {STATUS_WORDS[new_status]}"
                    + (f": {note}" if note else ""),
                    agency_code=who.agency_code, data={"from": row.status, "to": new_status})
    announce_incident(ctx, conn, who, row.id, IncidentStatusChanged, previous_status=row.status)


def _settle_work(ctx: Context, conn: Connection, incident_id: str, *, now: datetime,
                 cancelled: bool) -> None:
    """The incident ended: the work still open on it ends too, and its units are free again."""
    for a in assignment_rows(conn, [incident_id])[incident_id]:
        if a.status in AWAITING_ASSIGNMENT or (cancelled and a.status in WORKING_ASSIGNMENT):
            move_assignment(conn, a, AssignmentStatus.CANCELLED, now=now)
        elif a.status in WORKING_ASSIGNMENT:
            move_assignment(conn, a, AssignmentStatus.COMPLETED, now=now, completed_at=now)
    for unit in conn.execute(select(units).where(units.c.incident_id == incident_id)).all():
        move_unit(conn, unit, UnitStatus.AVAILABLE, now=now)
        announce_unit(ctx, conn, unit.id)


def change_status(ctx: Context, who: Principal, incident_id: str, new_status: IncidentStatus,
                  note: str | None, *, conn: Connection) -> IncidentRead:
    """Status by hand: staff any legal move; an assigned agency may report on scene or resolved."""
    row = load_visible(ctx, who, incident_id, conn=conn, lock=True)
    own = own_assignment(who, assignment_rows(conn, [incident_id])[incident_id])
    require_incident_status_change(who, new_status, None if own is None else own.status,
                                   None if own is None else own.role)
    set_incident_status(ctx, conn, who, row, new_status, now=utcnow(), note=note)
    audit.record(conn, who, "incident.status_changed", "incident", incident_id,
                 detail={"from": row.status, "to": new_status})
    return get_incident(ctx, who, incident_id, conn=conn)


def add_note(ctx: Context, who: Principal, incident_id: str, text: str, public: bool, *,
             conn: Connection) -> IncidentRead:
    """A note on the timeline; public notes are what the reporter sees on the ticket page."""
    require_note_writer(who)
    load_visible(ctx, who, incident_id, conn=conn)
    now = utcnow()
    append_timeline(conn, incident_id, "note", who=who, at=now, text=text, public=public,
                    agency_code=who.agency_code)
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(updated_at=now))
    announce_incident(ctx, conn, who, incident_id, IncidentUpdated, change="note", public=public)
    audit.record(conn, who, "incident.note_added", "incident", incident_id, detail={"public": public})
    return get_incident(ctx, who, incident_id, conn=conn, with_timeline=True)


def reroute(ctx: Context, who: Principal, incident_id: str, type_code: str, priority: int | None,
            note: str | None, *, conn: Connection) -> IncidentRead:
    """The command center re-classifies: assignments follow the SOP route of the new type."""
    require_command(who, "re-route incidents")
    row = load_visible(ctx, who, incident_id, conn=conn, lock=True)
    if row.status not in OPEN_INCIDENT:
        raise Conflict(f"a {row.status} incident cannot be re-routed")
    itype = ctx.sop.incident_types.get(type_code)
    if itype is None or not itype.lead:
        raise InvalidField("type_code", f"unknown or non-emergency incident type {type_code!r}")
    now = utcnow()
    new_priority = priority or row.priority
    wanted = dict(route_for(ctx, type_code))
    existing = {a.agency_code: a for a in assignment_rows(conn, [incident_id])[incident_id]}
    ack_due = now + timedelta(seconds=ctx.sop.priorities[new_priority].ack_seconds)
    # A yes to texting the caller was given not knowing the case was violence or crime: a
    # re-route that makes it sensitive takes it back (texts stop unless someone chooses again).
    became_sensitive = ctx.sop.is_sensitive(type_code) and not ctx.sop.is_sensitive(row.type_code)
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(
        type_code=type_code, priority=new_priority, attention=None, out_of_area=False,
        updated_at=now, **({"notify_caller": None} if became_sensitive else {})))
    rerouted = conn.execute(select(incidents).where(incidents.c.id == incident_id)).one()
    for code, a in existing.items():
        if code not in wanted and a.status in AWAITING_ASSIGNMENT:
            # Withdrawn: the incident is no longer the agency's to see (permissions.follows).
            move_assignment(conn, a, AssignmentStatus.CANCELLED, now=now, withdrawn_at=now)
        elif code not in wanted and a.status == AssignmentStatus.DECLINED and follows(a):
            # It said "not ours" and the new route agrees: off the case like a pending one.
            conn.execute(update(assignments).where(assignments.c.id == a.id)
                         .values(withdrawn_at=now, updated_at=now))
        # One lead: the new type's. An agency that stays (working or done) takes its new role;
        # a lead the new route does not name, whatever it did, is a lead no longer.
        new_role = wanted.get(code, "support" if a.role == "lead" else a.role)
        if new_role != a.role:
            conn.execute(update(assignments).where(assignments.c.id == a.id)
                         .values(role=new_role, updated_at=now))
    for code, role in wanted.items():
        # A declined agency stays declined (the commander asks it again explicitly), and one
        # that completed its part is not asked twice; one that a re-route took away is back.
        if code not in existing or existing[code].status == AssignmentStatus.CANCELLED:
            open_assignment(ctx, conn, rerouted, code, role, ack_due=ack_due, now=now)
    append_timeline(conn, incident_id, "rerouted", who=who, at=now,
                    text=f"{row.type_code} P{row.priority} → {type_code} P{new_priority}"
                    + (f": {note}" if note else ""),
                    agency_code=who.agency_code, data={"agencies": sorted(wanted)})
    announce_incident(ctx, conn, who, incident_id, IncidentUpdated, change="rerouted")
    audit.record(conn, who, "incident.rerouted", "incident", incident_id, detail={
        "from": f"{row.type_code} P{row.priority}", "to": f"{type_code} P{new_priority}"})
    return get_incident(ctx, who, incident_id, conn=conn)


ROUTE_ACTIONS = ("lead", "add", "remove")
_ROUTE_WORDS = {"lead": "memimpin", "add": "ditambahkan", "remove": "dilepas"}


def route_to_agency(ctx: Context, who: Principal, incident_id: str, agency_code: str, action: str,
                    note: str | None, *, conn: Connection) -> IncidentRead:
    """The command centre routes by agency, the type untouched: make one the lead, add one as
    support, or take one off (its unit comes back). Re-classifying to reach an agency showed the
    citizen the wrong type."""
    require_command(who, "route incidents to agencies")
    row = load_visible(ctx, who, incident_id, conn=conn, lock=True)
    if row.status not in OPEN_INCIDENT:
        raise Conflict(f"a {row.status} incident cannot be routed")
    if action not in ROUTE_ACTIONS:
        raise InvalidField("action", f"one of {', '.join(ROUTE_ACTIONS)}")
    agency = ctx.sop.agencies.get(agency_code)
    if agency is None or agency.role == "operator":
        raise InvalidField("agency_code", f"unknown or unassignable agency {agency_code!r}")
    now = utcnow()
    existing = {a.agency_code: a for a in assignment_rows(conn, [incident_id])[incident_id]}
    target = existing.get(agency_code)
    active = target if target is not None and target.status in ACTIVE_ASSIGNMENT else None
    ack_due = now + timedelta(seconds=ctx.sop.priorities[row.priority].ack_seconds)
    if action == "add":
        if active is not None:
            raise Conflict(f"{agency_code} is already working on this incident")
        open_assignment(ctx, conn, row, agency_code, "support", ack_due=ack_due, now=now)
    elif action == "lead":
        for code, a in existing.items():
            if code != agency_code and a.role == "lead":
                conn.execute(update(assignments).where(assignments.c.id == a.id)
                             .values(role="support", updated_at=now))
                announce_assignment(ctx, conn, row, a.id, AssignmentUpdated, at=now)
        if active is not None:
            conn.execute(update(assignments).where(assignments.c.id == active.id)
                         .values(role="lead", updated_at=now))
            announce_assignment(ctx, conn, row, active.id, AssignmentUpdated, at=now)
        else:
            open_assignment(ctx, conn, row, agency_code, "lead", ack_due=ack_due, now=now)
    else:
        if active is None:
            raise Conflict(f"{agency_code} is not working on this incident")
        if active.role == "lead":
            raise Conflict(f"{agency_code} leads this incident: make another agency the lead first")
        move_assignment(conn, active, AssignmentStatus.CANCELLED, now=now)
        for unit in conn.execute(select(units).where(units.c.incident_id == incident_id,
                                                     units.c.agency_code == agency_code)).all():
            move_unit(conn, unit, UnitStatus.AVAILABLE, now=now)
            announce_unit(ctx, conn, unit.id)
        announce_assignment(ctx, conn, row, active.id, AssignmentUpdated, at=now)
    if action != "remove" and row.attention in ("declined", "unclassified", "overdue"):
        # The command centre has acted on what it was asked to look at.
        conn.execute(update(incidents).where(incidents.c.id == incident_id).values(attention=None))
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(updated_at=now))
    append_timeline(conn, incident_id, "rerouted", who=who, at=now,
                    text=f"{agency_code} {_ROUTE_WORDS[action]}" + (f": {note}" if note else ""),
                    agency_code=who.agency_code, data={"agency": agency_code, "action": action})
    announce_incident(ctx, conn, who, incident_id, IncidentUpdated, change="rerouted")
    audit.record(conn, who, "incident.routed", "incident", incident_id,
                 detail={"agency_code": agency_code, "action": action})
    return get_incident(ctx, who, incident_id, conn=conn)
