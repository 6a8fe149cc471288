"""Typed event names, event rows written in the change's transaction, and the wake-up bus.

Events are rows first: a change and its event commit together, the row id is the SSE `id:`, and
the bus only says "look again" after a commit. On PostgreSQL the wake-up crosses processes with
NOTIFY, which the server delivers only when (and if) the transaction commits.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection

from siaga112.db import Database, utcnow
from siaga112.events.payloads import EventPayload
from siaga112.fastsql import FastInsert, InsertBatch
from siaga112.models import event_log

log = structlog.get_logger(__name__)
NOTIFY_CHANNEL = "siaga112_events"
# Serialises the sequencers of all processes (not the writers).
SEQUENCER_LOCK = 1_120_001


_INSERT_EVENT = FastInsert(event_log)


@dataclass(frozen=True)
class Event:
    """One event to record: what it says, which incident it is about, and which agencies (besides
    staff) may see it."""

    payload: EventPayload
    incident_id: str | None = None
    agencies: frozenset[str] = frozenset()


def event_of(payload: EventPayload, *, incident_id: str | None = None,
             agencies: Iterable[str] = ()) -> Event:
    return Event(payload, incident_id, frozenset(agencies))


def _row(event: Event, at: Any) -> dict[str, Any]:
    if not isinstance(event, Event) or not isinstance(event.payload, EventPayload):
        raise TypeError(f"an event is an Event with an EventPayload, not {event!r}")
    audience = " ".join(sorted(event.agencies))
    return {"at": at, "name": str(event.payload.name), "incident_id": event.incident_id,
            "agencies": f" {audience} " if audience else "",
            "data": event.payload.model_dump(mode="json")}


def record_events(conn: Connection, db: Database, events: Iterable[Event],
                  batch: InsertBatch | None = None) -> None:
    """Insert the events, now or with `batch`; listeners are woken only after commit."""
    now = utcnow()
    rows = [_row(e, now) for e in events]
    if not rows:
        return
    tx_state = conn.info.setdefault("tx_state", {})
    if conn.dialect.name == "postgresql" and not tx_state.get("notified"):
        notify = f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"
        if batch is None:
            conn.exec_driver_sql(notify)
        else:
            batch.add_sql(notify)
        tx_state["notified"] = True
    if batch is None:
        _INSERT_EVENT.execute(conn, rows)
    else:
        batch.add(_INSERT_EVENT, rows)
    db.notify_commit(conn)


def record_event(conn: Connection, db: Database, payload: EventPayload, *,
                 incident_id: str | None = None, agencies: Iterable[str] = ()) -> None:
    """Insert one event; listeners are woken only after the transaction commits."""
    record_events(conn, db, [event_of(payload, incident_id=incident_id, agencies=agencies)])


def sequence_events(conn: Connection) -> int | None:
    """Give committed events without a position the next positions (PostgreSQL).

    Returns how many were numbered, or None when another process is numbering right now (its
    NOTIFY will follow; the caller looks again shortly in case that process started too early).

    Event ids come from a sequence before commit, so transactions commit out of id order and a
    stream reading by id could see 11, move on, and never see 10. Positions are handed out here,
    after commit: this transaction only sees committed rows, and the sequencers of all processes
    take turns under one lock, so positions become visible in order. On SQLite a trigger sets
    position = id, since there rows commit in id order.
    """
    if conn.dialect.name != "postgresql":
        return 0
    if not conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({SEQUENCER_LOCK})").scalar():
        return None
    result = conn.exec_driver_sql(
        "UPDATE event_log AS e SET position = s.base + s.n FROM ("
        " SELECT id, (SELECT coalesce(max(position), 0) FROM event_log) AS base,"
        "        row_number() OVER (ORDER BY id) AS n"
        " FROM event_log WHERE position IS NULL) AS s "
        "WHERE e.id = s.id")
    return result.rowcount


def sequence_and_wake(conn: Connection) -> int | None:
    """`sequence_events`, then wake every process's hub if anything got a position: other hubs
    may have looked before these positions existed."""
    numbered = sequence_events(conn)
    if numbered:
        conn.exec_driver_sql(f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')")
    return numbered


class LocalBus:
    """In-process wake-up: after each commit with events, every subscribed event loop hears of it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop_waiters: list[tuple[asyncio.AbstractEventLoop, Callable[[], None]]] = []

    def wake(self) -> None:
        with self._lock:
            waiters = list(self._loop_waiters)
        for loop, callback in waiters:
            try:
                loop.call_soon_threadsafe(callback)
            except RuntimeError:  # that loop has closed; its waiter goes with it
                self.unsubscribe(loop, callback)

    def subscribe(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        """Call `callback` in `loop` on every wake (how the live hub hears of commits)."""
        with self._lock:
            self._loop_waiters.append((loop, callback))

    def unsubscribe(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        with self._lock:
            if (loop, callback) in self._loop_waiters:
                self._loop_waiters.remove((loop, callback))


class PgListener:
    """LISTENs for commits made by other processes and wakes this process's bus."""

    def __init__(self, url: str, bus: LocalBus, *, connect_args: dict | None = None):
        self.url = url
        self.bus = bus
        # Bounded connect and keepalives (db.postgresql_connect_args): a listener stuck on a dead
        # path would leave this process's streams without wake-ups from the others.
        self.connect_args = connect_args or {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="siaga112-listen", daemon=True)
        self.ready = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.ready.is_set():
            self._interrupt()
        self._thread.join(timeout=5)

    def _interrupt(self) -> None:
        """End the listener's wait for a notification now, not at its timeout up to a second
        later (every shutdown, and every test on PostgreSQL, waited for it)."""
        import psycopg

        try:
            with psycopg.connect(self._dsn, autocommit=True, connect_timeout=2) as conn:
                conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
        except Exception:  # noqa: BLE001 — the database is unreachable: the wait times out instead
            pass

    @property
    def _dsn(self) -> str:
        return self.url.replace("postgresql+psycopg://", "postgresql://")

    def _run(self) -> None:
        import psycopg

        dsn = self._dsn
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True, **self.connect_args) as conn:
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
