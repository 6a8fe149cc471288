"""Every status an incident, an assignment or a unit can have, and the moves between them.

Defined once: the tables' CHECK constraints, the guarded moves in `siaga112.transitions` and the
consoles' buttons all read these. A move not listed here answers 409.
"""
from __future__ import annotations

from enum import StrEnum


class IncidentStatus(StrEnum):
    NEW = "new"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class AssignmentStatus(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    COMPLETED = "completed"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class UnitStatus(StrEnum):
    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    RETURNING = "returning"
    OUT_OF_SERVICE = "out_of_service"


_I, _A, _U = IncidentStatus, AssignmentStatus, UnitStatus

INCIDENT_MOVES: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    _I.NEW: frozenset({_I.DISPATCHED, _I.ON_SCENE, _I.RESOLVED, _I.CANCELLED}),
    _I.DISPATCHED: frozenset({_I.ON_SCENE, _I.RESOLVED, _I.CANCELLED}),
    _I.ON_SCENE: frozenset({_I.RESOLVED}),
    _I.RESOLVED: frozenset({_I.CLOSED}),
    _I.CLOSED: frozenset(),
    _I.CANCELLED: frozenset(),
}
# Still being worked on: listed for agencies, linked as duplicates, re-routable.
OPEN_INCIDENT = frozenset({_I.NEW, _I.DISPATCHED, _I.ON_SCENE})
# Moves that end the incident, and so settle the work still open on it.
ENDING_INCIDENT = frozenset({_I.RESOLVED, _I.CLOSED, _I.CANCELLED})

ASSIGNMENT_MOVES: dict[AssignmentStatus, frozenset[AssignmentStatus]] = {
    _A.PENDING: frozenset({_A.ACKNOWLEDGED, _A.DISPATCHED, _A.DECLINED, _A.CANCELLED}),
    _A.ACKNOWLEDGED: frozenset({_A.DISPATCHED, _A.DECLINED, _A.COMPLETED, _A.CANCELLED}),
    _A.DISPATCHED: frozenset({_A.EN_ROUTE, _A.ON_SCENE, _A.COMPLETED, _A.CANCELLED}),
    _A.EN_ROUTE: frozenset({_A.ON_SCENE, _A.COMPLETED, _A.CANCELLED}),
    _A.ON_SCENE: frozenset({_A.COMPLETED, _A.CANCELLED}),
    # An ended assignment becomes pending again only when the agency is asked again: support
    # requested anew, or a re-route that routes the incident back to it.
    _A.COMPLETED: frozenset({_A.PENDING}),
    _A.DECLINED: frozenset({_A.PENDING}),
    _A.CANCELLED: frozenset({_A.PENDING}),
}
# Owed an acknowledgement or a unit: what a re-route may still take away.
AWAITING_ASSIGNMENT = frozenset({_A.PENDING, _A.ACKNOWLEDGED})
# A unit is out on it.
WORKING_ASSIGNMENT = frozenset({_A.DISPATCHED, _A.EN_ROUTE, _A.ON_SCENE})
ACTIVE_ASSIGNMENT = AWAITING_ASSIGNMENT | WORKING_ASSIGNMENT
ENDED_ASSIGNMENT = frozenset({_A.COMPLETED, _A.DECLINED, _A.CANCELLED})
# What an agency reports as its work goes on (the progress action and the crew's buttons).
PROGRESS_STEPS = (_A.EN_ROUTE, _A.ON_SCENE, _A.COMPLETED)

UNIT_MOVES: dict[UnitStatus, frozenset[UnitStatus]] = {
    # `dispatched` only through an assignment's dispatch, which takes the unit with a lock.
    _U.AVAILABLE: frozenset({_U.DISPATCHED, _U.OUT_OF_SERVICE}),
    _U.DISPATCHED: frozenset({_U.EN_ROUTE, _U.ON_SCENE, _U.RETURNING, _U.AVAILABLE}),
    _U.EN_ROUTE: frozenset({_U.ON_SCENE, _U.RETURNING, _U.AVAILABLE}),
    _U.ON_SCENE: frozenset({_U.TRANSPORTING, _U.RETURNING, _U.AVAILABLE}),
    _U.TRANSPORTING: frozenset({_U.RETURNING, _U.AVAILABLE}),
    _U.RETURNING: frozenset({_U.AVAILABLE, _U.OUT_OF_SERVICE}),
    _U.OUT_OF_SERVICE: frozenset({_U.AVAILABLE}),
}
# States in which a unit belongs to an incident; leaving them releases it.
UNIT_ON_INCIDENT = frozenset({_U.DISPATCHED, _U.EN_ROUTE, _U.ON_SCENE, _U.TRANSPORTING})
# A unit's state as its assignment moves on.
UNIT_FOLLOWS_ASSIGNMENT = {_A.DISPATCHED: _U.DISPATCHED, _A.EN_ROUTE: _U.EN_ROUTE,
                           _A.ON_SCENE: _U.ON_SCENE}
# Moves a dispatcher or crew makes by hand on the fleet board (dispatching is from an incident).
UNIT_MANUAL_MOVES = {status: tuple(sorted(nexts - {_U.DISPATCHED}))
                     for status, nexts in UNIT_MOVES.items()}


def progress_moves(status: str) -> tuple[AssignmentStatus, ...]:
    """The progress an agency can report from `status`, in the order the work goes."""
    return tuple(s for s in PROGRESS_STEPS if s in ASSIGNMENT_MOVES[AssignmentStatus(status)])


def check_constraint(statuses: type[StrEnum]) -> str:
    """SQL for a CHECK that the column holds one of these statuses."""
    return "status IN (" + ",".join(f"'{s}'" for s in statuses) + ")"
