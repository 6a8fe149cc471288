"""Assignments as rows: loading one, opening one for an agency, and what their events say.

Below both the incident actions (a re-route opens assignments) and the agency actions
(acknowledge, dispatch, ...), so neither has to import the other.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from siaga112.auth.permissions import follows
from siaga112.context import Context
from siaga112.db import inserted_id
from siaga112.errors import NotFound
from siaga112.events import Event, event_of, record_events
from siaga112.events.payloads import AssignmentChange, AssignmentCreated
from siaga112.models import assignments
from siaga112.models.status import AssignmentStatus
from siaga112.transitions import move_assignment, reopened_assignment


def assignment_of(conn: Connection, incident_id: str, agency_code: str) -> Any:
    """The incident's assignment for the agency; 404 if there is none."""
    row = conn.execute(select(assignments).where(assignments.c.incident_id == incident_id,
                                                 assignments.c.agency_code == agency_code)).first()
    if row is None:
        raise NotFound(f"incident has no assignment for {agency_code}")
    return row


def assignment_event(ctx: Context, incident: Any, assignment: Any,
                     payload: type[AssignmentChange], *, at: datetime, **extra: Any) -> Event:
    """The event for a change of `assignment` (as it now stands) on `incident`: seen by that
    agency while it takes part, and by the command centre."""
    return event_of(payload(
        incident_id=incident.id, ticket=incident.ticket, agency_code=assignment.agency_code,
        role=assignment.role, status=assignment.status, priority=incident.priority,
        type_code=incident.type_code, unit_id=assignment.unit_id,
        ack_due_at=assignment.ack_due_at, at=at, **extra),
        incident_id=incident.id,
        agencies={assignment.agency_code} if follows(assignment) else set())


def announce_assignment(ctx: Context, conn: Connection, incident: Any, assignment_id: int,
                        payload: type[AssignmentChange], *, at: datetime, **extra: Any) -> Any:
    """Record the event for the assignment as it stands after the change; returns its row."""
    current = conn.execute(select(assignments).where(assignments.c.id == assignment_id)).one()
    record_events(conn, ctx.db, [assignment_event(ctx, incident, current, payload, at=at, **extra)])
    return current


def open_assignment(ctx: Context, conn: Connection, incident: Any, agency_code: str,
                    role: str | None, *, ack_due: datetime, now: datetime,
                    reason: str | None = None) -> Any:
    """Route the incident to the agency: a new pending assignment, or its ended one reopened.

    `role` None keeps the role an ended assignment had (a declined lead asked again is still
    the lead) and makes a new one support.
    """
    existing = conn.execute(select(assignments).where(
        assignments.c.incident_id == incident.id, assignments.c.agency_code == agency_code)).first()
    if existing is None:
        assignment_id = inserted_id(conn.execute(insert(assignments).values(
            incident_id=incident.id, agency_code=agency_code, role=role or "support",
            status=AssignmentStatus.PENDING, ack_due_at=ack_due, created_at=now,
            updated_at=now)))
    else:
        move_assignment(conn, existing, AssignmentStatus.PENDING, now=now,
                        role=role or existing.role, **reopened_assignment(ack_due))
        assignment_id = existing.id
    return announce_assignment(ctx, conn, incident, assignment_id, AssignmentCreated, at=now,
                               reason=reason)
