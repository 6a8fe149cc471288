"""The live hub: one reader of the event log per process, fanning events out to SSE streams.

Five hundred dispatcher screens must not mean five hundred queries per commit. The hub reads the
new rows once per wake-up, keeps the recent ones in memory, and hands each stream what its user
may see. A stream that starts behind (reconnect with Last-Event-ID) first reads its backlog, up
to the hub's position at the moment it subscribed, then continues from the hub: no gap, no repeat.
"""
from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection, func, or_, select

from siaga112.auth import cache
from siaga112.auth.permissions import event_audience, readable_incidents
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.events import EventName, sequence_and_wake
from siaga112.models import event_log, incidents

log = structlog.get_logger(__name__)
BACKLOG_CHUNK = 500


@dataclass(frozen=True)
class LiveEvent:
    id: int  # the event's stream position, which is its SSE id
    name: str
    agencies: str  # " DAMKAR BPBD " — who besides staff may see it
    frame: bytes   # the SSE frame, encoded once for every stream
    # For auth.revoked (internal, never streamed): the user id and token id it revokes.
    revokes: tuple[int | None, int | None] | None = None

    @classmethod
    def from_row(cls, row: Any) -> LiveEvent:
        if row.name == EventName.AUTH_REVOKED:
            return cls(row.position, row.name, row.agencies, b"",
                       (row.data.get("user_id"), row.data.get("token_id")))
        data = json.dumps({**row.data, "event_at": row.at.isoformat()}, separators=(",", ":"),
                          ensure_ascii=False)
        frame = f"id: {row.position}\nevent: {row.name}\ndata: {data}\n\n".encode()
        return cls(row.position, row.name, row.agencies, frame)


def visible_to(who: Principal, event: LiveEvent) -> bool:
    """The stream's share of the event log: staff everything, an agency what names it."""
    if event.revokes is not None:
        return False
    scope = event_audience(who)
    return scope == "*" or (scope is not None and f" {scope} " in event.agencies)


def read_events(conn: Connection, after: int, upto: int | None = None, limit: int = 1000) -> list[LiveEvent]:
    """Events after stream position `after` (and up to `upto`), in stream order."""
    query = (select(event_log).where(event_log.c.position > after)
             .order_by(event_log.c.position).limit(limit))
    if upto is not None:
        query = query.where(event_log.c.position <= upto)
    return [LiveEvent.from_row(r) for r in conn.execute(query)]


def latest_event_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(event_log.c.position), 0))).scalar_one())


class Subscription:
    """One SSE stream's queue; the hub drops a stream that falls too far behind."""

    def __init__(self, who: Principal, max_pending: int, after: int = 0):
        self.who = who
        # A client resuming from another process's stream may be ahead of this hub.
        self.after = after
        self.queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(maxsize=max_pending)
        self.overflowed = False

    def offer(self, event: LiveEvent) -> None:
        if self.overflowed or event.id <= self.after or not visible_to(self.who, event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # It will reconnect with its Last-Event-ID and read the rest from the database.
            self.overflowed = True
            self.close()

    def close(self) -> None:
        """End the stream: drop what is queued and leave the end-of-stream marker."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


# How long a PostgreSQL hub lets wake-ups gather before it numbers and reads (push budget: 250 ms).
COALESCE_SECONDS = 0.01


class LiveHub:
    def __init__(self, ctx: Context, *, recent: int = 5000, max_pending: int = 2000):
        self.ctx = ctx
        self.position = 0
        self.recent: deque[LiveEvent] = deque(maxlen=recent)
        self.max_pending = max_pending
        self.subscriptions: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.position = await asyncio.to_thread(self._latest)
        self.ctx.bus.subscribe(self._loop, self._wake.set)
        self._task = asyncio.create_task(self._run(), name="siaga112-live-hub")

    async def stop(self) -> None:
        if self._loop is not None:
            self.ctx.bus.unsubscribe(self._loop, self._wake.set)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for sub in list(self.subscriptions):
            sub.close()

    def _sequence(self) -> bool:
        """Number newly committed events; False if another process was busy doing it."""
        if self.ctx.db.is_sqlite:
            return True
        with self.ctx.db.transaction() as conn:
            return sequence_and_wake(conn) is not None

    def _latest(self) -> int:
        self._sequence()
        with self.ctx.db.transaction(write=False) as conn:
            return latest_event_id(conn)

    def _fetch(self, after: int) -> tuple[list[LiveEvent], bool]:
        # Numbering and reading share one transaction (and one thread hop): the read sees the
        # positions this transaction just gave, and nothing uncommitted of anyone else.
        if self.ctx.db.is_sqlite:
            with self.ctx.db.transaction(write=False) as conn:
                return read_events(conn, after), True
        with self.ctx.db.transaction() as conn:
            sequenced = sequence_and_wake(conn) is not None
            return read_events(conn, after), sequenced

    async def _run(self) -> None:
        coalesce = 0.0 if self.ctx.db.is_sqlite else COALESCE_SECONDS
        while True:
            await self._wake.wait()
            if coalesce:
                # At 100 commits/s every commit wakes every process; waiting a few ms lets one
                # numbering-and-read transaction serve several commits.
                await asyncio.sleep(coalesce)
            self._wake.clear()
            try:
                while True:
                    events, sequenced = await asyncio.to_thread(self._fetch, self.position)
                    if not sequenced:
                        # Another process was numbering, perhaps from a snapshot older than the
                        # commit that woke us: look again shortly rather than wait for a NOTIFY.
                        asyncio.get_running_loop().call_later(0.05, self._wake.set)
                    for event in events:
                        self.recent.append(event)
                        self.position = event.id
                        if event.revokes is not None:
                            self._revoke(*event.revokes)
                        for sub in list(self.subscriptions):
                            sub.offer(event)
                    if len(events) < 1000:
                        break
            except Exception as exc:  # noqa: BLE001 — a failed read is retried on the next wake
                log.warning("live_hub_read_failed", error=type(exc).__name__)
                await asyncio.sleep(0.5)
                self._wake.set()

    def _revoke(self, user_id: int | None, token_id: int | None) -> None:
        """A disabled user's or revoked token's streams end now; cached principals are dropped."""
        cache.purge(user_id=user_id, token_id=token_id)
        for sub in list(self.subscriptions):
            if (user_id is not None and sub.who.user_id == user_id) or \
                    (token_id is not None and sub.who.token_id == token_id):
                sub.close()
                self.subscriptions.discard(sub)

    def subscribe(self, who: Principal,
                  last_event_id: int | None) -> tuple[Subscription, AsyncIterator[list[LiveEvent]]]:
        """Register a stream; returns it with its backlog (after `last_event_id`) in chunks."""
        sub = Subscription(who, self.max_pending, after=last_event_id or 0)
        # Registration and the position snapshot happen together (no await in between), so
        # every event after `upto` reaches the queue and none at or before it does.
        self.subscriptions.add(sub)
        return sub, self._backlog(who, last_event_id, self.position)

    async def _backlog(self, who: Principal, after: int | None, upto: int) -> AsyncIterator[list[LiveEvent]]:
        if after is None or after >= upto:
            return
        # An agency's history is read from the database: an event names the agencies that took
        # part when it was written, and one re-routed away since must not get it back on a
        # reconnect (the stream never shows what the API hides).
        if event_audience(who) == "*" and self.recent and self.recent[0].id <= after + 1:
            yield [e for e in self.recent if after < e.id <= upto and visible_to(who, e)]
            return
        # A long absence: read the database in chunks, filtered there, so a dispatcher resuming
        # from the start of a big log costs memory for one chunk, not for the whole history.
        while True:
            rows = await asyncio.to_thread(self._backlog_chunk, who, after, upto)
            # The SQL filter narrows; visible_to decides (a LIKE pattern is not an equality).
            visible = [e for e in rows if visible_to(who, e)]
            if visible:
                yield visible
            if len(rows) < BACKLOG_CHUNK:
                return
            after = rows[-1].id

    def _backlog_chunk(self, who: Principal, after: int, upto: int) -> list[LiveEvent]:
        scope = event_audience(who)
        if scope is None:
            return []
        query = (select(event_log).where(event_log.c.position > after, event_log.c.position <= upto)
                 .order_by(event_log.c.position).limit(BACKLOG_CHUNK))
        if scope != "*":
            query = query.where(event_log.c.agencies.like(f"% {scope} %"), or_(
                event_log.c.incident_id.is_(None),
                event_log.c.incident_id.in_(select(incidents.c.id).where(readable_incidents(who)))))
        with self.ctx.db.transaction(write=False) as conn:
            return [LiveEvent.from_row(r) for r in conn.execute(query)]

    def streams_of(self, who: Principal) -> int:
        """Open streams held by the same token (or, for console sessions, the same user)."""
        if who.token_id is not None:
            return sum(1 for s in self.subscriptions if s.who.token_id == who.token_id)
        return sum(1 for s in self.subscriptions
                   if s.who.token_id is None and s.who.user_id == who.user_id)

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscriptions.discard(sub)
