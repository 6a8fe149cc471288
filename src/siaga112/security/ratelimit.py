"""Rate limits per client address: named allowances, each a token bucket.

`limiter()` is the one place a limiter is made. Today it is an in-process token bucket: exact for
one server process (the SQLite deployment), while several processes behind a balancer each hold
their own buckets, so a client gets up to N times the rate (docs/security.md). A limiter shared
through the database replaces `TokenBucket` there, behind the same `take` / `wait`.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cachetools import TTLCache
from fastapi import Request

from siaga112.deps import client_address
from siaga112.errors import TooManyRequests

TOO_MANY = "too many requests; slow down"


class Limiter(Protocol):
    def take(self, key: str) -> float:
        """Spend one request: 0 if allowed now, else the seconds until one will be."""

    def wait(self, key: str) -> float:
        """What `take` would answer, spending nothing."""


class TokenBucket:
    """`per_minute` requests a minute per key, with bursts of up to `burst`."""

    def __init__(self, per_minute: float, burst: int | None = None, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, int(per_minute)))
        self.clock = clock
        # Idle keys are forgotten once their bucket would be full again anyway.
        self._buckets: TTLCache = TTLCache(maxsize=max_keys, ttl=self.burst / self.rate + 1)
        self._lock = threading.Lock()

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - last) * self.rate)

    def take(self, key: str) -> float:
        now = self.clock()
        with self._lock:
            tokens = self._tokens(key, now)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate

    def wait(self, key: str) -> float:
        with self._lock:
            tokens = self._tokens(key, self.clock())
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
        found = made.setdefault(allowance.name,
                                TokenBucket(count / allowance.minutes, burst=max(1, int(count))))
    return found


def _client(request: Request) -> str:
    return client_address(request) or "unknown"


def _enabled(request: Request) -> bool:
    return request.app.state.ctx.settings.rate_limits


def throttle(request: Request, allowance: Allowance, *, message: str = TOO_MANY) -> None:
    """Spend one of this client's requests; TooManyRequests when none is left."""
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

    async def dependency(request: Request) -> None:
        throttle(request, allowance)

    dependency.__name__ = f"rate_limit_{name}"
    return dependency
