"""Typed event names, event rows written in the change's transaction, and the wake-up bus.

Events are rows first: a change and its event commit together, the row id is the SSE `id:`, and
the bus only says "look again" after a commit. On PostgreSQL the wake-up crosses processes with
NOTIFY, which the server delivers only when (and if) the transaction commits.
"""
from __future__ import annotations

import asyncio
import threading
from enum import StrEnum
from typing import Any, Callable, Iterable

import structlog
from sqlalchemy import Connection

from siaga112.db import Database, utcnow
from siaga112.fastsql import FastInsert, InsertBatch
from siaga112.models import event_log

log = structlog.get_logger(__name__)
NOTIFY_CHANNEL = "siaga112_events"
# Held from the event INSERT to the commit, so event ids become visible in id order on
# PostgreSQL (sequence values are handed out before commit; without it a reader could see id 11,
# move on, and then miss id 10 committing later). SQLite writers are serialised already.
EVENT_ORDER_LOCK = 1_120_001


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
    tx_state = conn.info.setdefault("tx_state", {})
    if conn.dialect.name == "postgresql" and not tx_state.get("event_lock"):
        # Taken as late as possible: in a batch it travels with the event INSERT, just before
        # the commit, so the lock is held for one round trip and the commit.
        lock = (f"SELECT pg_advisory_xact_lock({EVENT_ORDER_LOCK}), "
                f"pg_notify('{NOTIFY_CHANNEL}', '')")
        if batch is None:
            conn.exec_driver_sql(lock)
        else:
            batch.add_sql(lock)
        tx_state["event_lock"] = True
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
    """In-process wake-up: a generation counter that threads and event loops can wait on."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.generation = 0
        self._loop_waiters: list[tuple[asyncio.AbstractEventLoop, Callable[[], None]]] = []

    def wake(self) -> None:
        with self._cond:
            self.generation += 1
            self._cond.notify_all()
            waiters = list(self._loop_waiters)
        for loop, callback in waiters:
            try:
                loop.call_soon_threadsafe(callback)
            except RuntimeError:  # that loop has closed; its waiter goes with it
                self.unsubscribe(loop, callback)

    def wait(self, seen_generation: int, timeout: float) -> int:
        """Block until the generation moves past `seen_generation` or the timeout passes."""
        with self._cond:
            self._cond.wait_for(lambda: self.generation != seen_generation, timeout=timeout)
            return self.generation

    def subscribe(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        """Call `callback` in `loop` on every wake (how the live hub hears of commits)."""
        with self._cond:
            self._loop_waiters.append((loop, callback))

    def unsubscribe(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        with self._cond:
            if (loop, callback) in self._loop_waiters:
                self._loop_waiters.remove((loop, callback))


class PgListener:
    """LISTENs for commits made by other processes and wakes this process's bus."""

    def __init__(self, url: str, bus: LocalBus):
        self.url = url
        self.bus = bus
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="siaga112-listen", daemon=True)
        self.ready = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        dsn = self.url.replace("postgresql+psycopg://", "postgresql://")
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.ready.set()
                    # A wake after (re)connecting covers anything committed while we were away.
                    self.bus.wake()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.bus.wake()
            except Exception as exc:  # noqa: BLE001 — keep listening across database restarts
                log.warning("listen_failed", error=type(exc).__name__)
                self._stop.wait(1.0)
