"""Per-client limits on the public pages, so tickets cannot be enumerated and the form not flooded.

Two token buckets per client address: every request spends from one (a steady rate per minute),
and a lookup of a ticket that does not exist also spends from a much smaller one. Tickets have
about 40 random bits; at ten misses per ten minutes an enumerator needs millennia for one hit.
Per process and in memory: a deployment with several processes behind a balancer should put a
shared limiter (or the proxy's) in front; the interface is `hit(key)` / `miss(key)`.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    def __init__(self, capacity: float, per_seconds: float, *, max_keys: int = 50_000):
        self.capacity = capacity
        self.rate = capacity / per_seconds
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float | None:
        """Spend one token; None if allowed, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._forget_full(now)
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop clients whose bucket has refilled: they cost nothing to recreate."""
        for key in [k for k, b in self._buckets.items()
                    if b.tokens + (now - b.at) * self.rate >= self.capacity]:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # all busy: forget the oldest half
            for key in sorted(self._buckets, key=lambda k: self._buckets[k].at)[: self.max_keys // 2]:
                del self._buckets[key]


class PublicLimiter:
    def __init__(self, per_minute: int, misses_per_10_minutes: int):
        self.requests = TokenBuckets(per_minute, 60)
        self.misses = TokenBuckets(misses_per_10_minutes, 600)

    def hit(self, key: str) -> float | None:
        return self.requests.take(key)

    def blocked_for_misses(self, key: str) -> float | None:
        """Before a lookup: has this client used up its unknown-ticket allowance?"""
        with self.misses._lock:
            bucket = self.misses._buckets.get(key)
            if bucket is None:
                return None
            now = time.monotonic()
            tokens = min(self.misses.capacity, bucket.tokens + (now - bucket.at) * self.misses.rate)
            return None if tokens >= 1 else (1 - tokens) / self.misses.rate

    def miss(self, key: str) -> None:
        self.misses.take(key)
