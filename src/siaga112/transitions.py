"""The guarded moves: the only code that writes an incident's, assignment's or unit's status.

Each move checks the legal moves in `models.status` and updates conditionally on the status it
read, so of two people clicking together exactly one wins and the other gets 409.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from siaga112.errors import Conflict
from siaga112.models import assignments, incidents, units
from siaga112.models.status import (
    ASSIGNMENT_MOVES,
    INCIDENT_MOVES,
    UNIT_MOVES,
    UNIT_ON_INCIDENT,
    AssignmentStatus,
    IncidentStatus,
    UnitStatus,
)


def move_incident(conn: Connection, row: Any, new: IncidentStatus, *, now: datetime,
                  **values: Any) -> None:
    """`row` (an incidents row) to `new`; 409 if that is not a legal move or someone was faster."""
    current = IncidentStatus(row.status)
    if new == current:
        raise Conflict(f"incident is already {new}")
    if new not in INCIDENT_MOVES[current]:
        raise Conflict(f"cannot go from {current} to {new}")
    changed = conn.execute(update(incidents)
                           .where(incidents.c.id == row.id, incidents.c.status == current)
                           .values(status=new, updated_at=now, **values))
    if changed.rowcount != 1:
        raise Conflict("the incident changed meanwhile; reload and try again")


def move_assignment(conn: Connection, row: Any, new: AssignmentStatus, *, now: datetime,
                    **values: Any) -> None:
    """`row` (an assignments row) to `new`, with the columns that go with the move."""
    current = AssignmentStatus(row.status)
    if new not in ASSIGNMENT_MOVES[current]:
        raise Conflict(f"assignment is {current}; cannot become {new}")
    changed = conn.execute(update(assignments)
                           .where(assignments.c.id == row.id, assignments.c.status == current)
                           .values(status=new, updated_at=now, **values))
    if changed.rowcount != 1:
        raise Conflict("the assignment changed meanwhile; reload and try again")


def reopened_assignment(ack_due: datetime) -> dict[str, Any]:
    """Columns of an ended assignment made pending again: a fresh start with new deadlines."""
    return {"ack_due_at": ack_due, "acknowledged_at": None, "dispatched_at": None,
            "on_scene_at": None, "completed_at": None, "unit_id": None, "decline_reason": None,
            "escalated_at": None, "arrival_due_at": None, "arrival_escalated_at": None,
            "withdrawn_at": None}


def move_unit(conn: Connection, unit: Any, new: UnitStatus, *, now: datetime,
              incident_id: str | None = None) -> None:
    """`unit` (a units row) to `new`; leaving an incident's states releases it from the incident.

    The update is conditional on the status and incident read, so a unit is never on two
    incidents: of two dispatchers sending it together, one gets 409.
    """
    current = UnitStatus(unit.status)
    if new == UnitStatus.DISPATCHED and current != UnitStatus.AVAILABLE:
        raise Conflict(f"unit {unit.call_sign} is not available ({current})")
    if new == current:
        raise Conflict(f"unit {unit.call_sign} is already {new}")
    if new not in UNIT_MOVES[current]:
        raise Conflict(f"unit {unit.call_sign} is {current}; cannot become {new}")
    values: dict[str, Any] = {"status": new, "updated_at": now}
    if new == UnitStatus.DISPATCHED:
        values["incident_id"] = incident_id
    elif new not in UNIT_ON_INCIDENT:
        values["incident_id"] = None
    same_incident = (units.c.incident_id.is_(None) if unit.incident_id is None
                     else units.c.incident_id == unit.incident_id)
    changed = conn.execute(update(units).where(units.c.id == unit.id, units.c.status == current,
                                               same_incident).values(**values))
    if changed.rowcount != 1:
        raise Conflict(f"unit {unit.call_sign} is not available" if new == UnitStatus.DISPATCHED
                       else f"unit {unit.call_sign} changed meanwhile; reload and try again")
