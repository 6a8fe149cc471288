"""Rate limits per client address: an in-process token bucket, usable as a route dependency.

Enough for one server process (the SQLite deployment). Several processes behind a balancer each
hold their own buckets, so a client gets up to N times the rate; a cluster that needs a strict
limit puts it in the load balancer or a shared store (see docs/security.md).
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from cachetools import TTLCache
from fastapi import Request

from siaga112.errors import TooManyRequests


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

    def take(self, key: str) -> float:
        """0 if a request is allowed now, else the seconds until one will be."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


def rate_limit(name: str, setting: str) -> Callable:
    """A dependency limiting a route per client address to `settings.<setting>` per minute.

    Routes sharing a `name` share buckets (all public ticket lookups, say), so spreading guesses
    over several endpoints does not multiply the allowance.
    """
    async def dependency(request: Request) -> None:
        settings = request.app.state.ctx.settings
        if not settings.rate_limits:
            return
        buckets = getattr(request.app.state, "rate_limits", None)
        if buckets is None:
            buckets = request.app.state.rate_limits = {}
        bucket = buckets.get(name)
        if bucket is None:
            bucket = buckets.setdefault(name, TokenBucket(getattr(settings, setting)))
        remote = request.client.host if request.client else "unknown"
        wait = bucket.take(remote)
        if wait > 0:
            raise TooManyRequests("too many requests; slow down", wait)

    dependency.__name__ = f"rate_limit_{name}"
    return dependency
