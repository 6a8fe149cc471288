"""Rate limits per client address: named allowances, each a token bucket kept in the database.

The buckets are rows (`rate_limit_buckets`), so every process and every node behind a balancer
spends from the same allowance: with buckets in each process's memory a client got N times the
rate from N processes. `limiter()` is the one place a limiter is made.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from fastapi import Request
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from siaga112.db import Database, utcnow
from siaga112.deps import client_address
from siaga112.errors import TooManyRequests
from siaga112.models import rate_limit_buckets as buckets

TOO_MANY = "too many requests; slow down"
# Every this many spends, a process deletes the allowance's buckets that are full again anyway.
PRUNE_EVERY = 500


class Limiter(Protocol):
    def take(self, key: str) -> float:
        """Spend one request: 0 if allowed now, else the seconds until one will be."""

    def wait(self, key: str) -> float:
        """What `take` would answer, spending nothing."""


class DatabaseBucket:
    """`per_minute` requests a minute per key, with bursts of up to `burst`, counted in one row
    per key that every process reads and writes under the row's lock."""

    def __init__(self, db: Database, name: str, per_minute: float, burst: int | None = None, *,
                 clock: Callable[[], datetime] = utcnow):
        self.db = db
        self.name = name[:32]
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, int(per_minute)))
        self.clock = clock
        self._spends = itertools.count(1)

    def _tokens(self, row, now: datetime) -> float:
        if row is None:
            return self.burst
        elapsed = max(0.0, (now - row.at).total_seconds())
        return min(self.burst, row.tokens + elapsed * self.rate)

    def _row(self, conn, key: str, *, lock: bool):
        query = select(buckets.c.tokens, buckets.c.at).where(buckets.c.allowance == self.name,
                                                             buckets.c.client == key)
        return conn.execute(query.with_for_update() if lock else query).first()

    def take(self, key: str) -> float:
        key = key[:64]
        now = self.clock()
        with self.db.transaction() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            if dialect is postgresql:
                # A bucket lost in a crash only refills early: not worth waiting for the disk.
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            # Made full if missing, then locked: two first requests never both start a bucket.
            conn.execute(dialect.insert(buckets).values(
                allowance=self.name, client=key, tokens=self.burst, at=now).on_conflict_do_nothing())
            tokens = self._tokens(self._row(conn, key, lock=True), now)
            spent = tokens >= 1
            conn.execute(update(buckets).where(buckets.c.allowance == self.name, buckets.c.client == key)
                         .values(tokens=tokens - 1 if spent else tokens, at=now))
            if next(self._spends) % PRUNE_EVERY == 0:
                full_again = timedelta(seconds=self.burst / self.rate + 1)
                conn.execute(delete(buckets).where(buckets.c.allowance == self.name,
                                                   buckets.c.at < now - full_again))
        return 0.0 if spent else (1 - tokens) / self.rate

    def wait(self, key: str) -> float:
        with self.db.transaction(write=False) as conn:
            tokens = self._tokens(self._row(conn, key[:64], lock=False), self.clock())
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate


@dataclass(frozen=True)
class Allowance:
    """`settings.<setting>` requests per `minutes` per client address, all of them usable at once.

    Routes sharing an allowance share its buckets (all public ticket lookups, say), so spreading
    guesses over several endpoints does not multiply it.
    """

    name: str
    setting: str
    minutes: float = 1.0


def limiter(request: Request, allowance: Allowance) -> Limiter:
    """The app's limiter for an allowance, made at first use from the settings of that moment."""
    state = request.app.state
    made = getattr(state, "rate_limits", None)
    if made is None:
        made = state.rate_limits = {}
    found = made.get(allowance.name)
    if found is None:
        count = getattr(state.ctx.settings, allowance.setting)
        found = made.setdefault(allowance.name, DatabaseBucket(
            state.ctx.db, allowance.name, count / allowance.minutes, burst=max(1, int(count))))
    return found


def _client(request: Request) -> str:
    return client_address(request) or "unknown"


def _enabled(request: Request) -> bool:
    return request.app.state.ctx.settings.rate_limits


def throttle(request: Request, allowance: Allowance, *, message: str = TOO_MANY) -> None:
    """Spend one of this client's requests; TooManyRequests when none is left.

    Like `spend` and `refuse_if_spent` it opens its own transaction: call it from a plain `def`
    (it touches the database) and never inside another write transaction (SQLite's writer lock
    is not re-entrant).
    """
    if _enabled(request):
        wait = limiter(request, allowance).take(_client(request))
        if wait > 0:
            raise TooManyRequests(message, wait)


def refuse_if_spent(request: Request, allowance: Allowance, *, message: str = TOO_MANY) -> None:
    """TooManyRequests when this client has used up the allowance; spends nothing."""
    if _enabled(request):
        wait = limiter(request, allowance).wait(_client(request))
        if wait > 0:
            raise TooManyRequests(message, wait)


def spend(request: Request, allowance: Allowance) -> None:
    """Count one against this client after the fact (an unknown ticket), refusing nothing now."""
    if _enabled(request):
        limiter(request, allowance).take(_client(request))


def rate_limit(name: str, setting: str) -> Callable:
    """A route dependency: `settings.<setting>` requests per minute per client address."""
    allowance = Allowance(name, setting)

    # A plain `def`: it reads and writes the bucket's row, so FastAPI runs it in the thread pool.
    def dependency(request: Request) -> None:
        throttle(request, allowance)

    dependency.__name__ = f"rate_limit_{name}"
    return dependency
