"""Typed event names, event rows written in the change's transaction, and the wake-up bus."""
from __future__ import annotations

import threading
from enum import StrEnum
from typing import Any, Iterable

from sqlalchemy import Connection

from siaga112.db import Database, utcnow
from siaga112.fastsql import FastInsert, InsertBatch
from siaga112.models import event_log


class EventName(StrEnum):
    INCIDENT_CREATED = "incident.created"
    INCIDENT_UPDATED = "incident.updated"
    INCIDENT_STATUS_CHANGED = "incident.status_changed"
    ASSIGNMENT_CREATED = "assignment.created"
    ASSIGNMENT_ACKNOWLEDGED = "assignment.acknowledged"
    ASSIGNMENT_DISPATCHED = "assignment.dispatched"
    ASSIGNMENT_DECLINED = "assignment.declined"
    ASSIGNMENT_ESCALATED = "assignment.escalated"
    ASSIGNMENT_UPDATED = "assignment.updated"
    UNIT_UPDATED = "unit.updated"


_INSERT_EVENT = FastInsert(event_log)


def event_row(name: EventName, data: dict[str, Any], *, incident_id: str | None = None,
              agencies: Iterable[str] = ()) -> dict[str, Any]:
    audience = " ".join(sorted(set(agencies)))
    return {"at": utcnow(), "name": str(name), "incident_id": incident_id,
            "agencies": f" {audience} " if audience else "", "data": data}


def record_events(conn: Connection, db: Database, rows: list[dict[str, Any]],
                  batch: InsertBatch | None = None) -> None:
    """Insert event rows (see `event_row`), now or with `batch`; wakes listeners after commit."""
    if not rows:
        return
    if batch is None:
        _INSERT_EVENT.execute(conn, rows)
    else:
        batch.add(_INSERT_EVENT, rows)
    db.notify_commit(conn)


def record_event(conn: Connection, db: Database, name: EventName, data: dict[str, Any], *,
                 incident_id: str | None = None, agencies: Iterable[str] = ()) -> None:
    """Insert one event row; listeners are woken only after the transaction commits."""
    record_events(conn, db, [event_row(name, data, incident_id=incident_id, agencies=agencies)])


class LocalBus:
    """In-process wake-up: a generation counter and a condition streams can wait on."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.generation = 0

    def wake(self) -> None:
        with self._cond:
            self.generation += 1
            self._cond.notify_all()

    def wait(self, seen_generation: int, timeout: float) -> int:
        """Block until the generation moves past `seen_generation` or the timeout passes."""
        with self._cond:
            self._cond.wait_for(lambda: self.generation != seen_generation, timeout=timeout)
            return self.generation
