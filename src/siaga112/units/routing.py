"""Road travel times to an incident from an OSRM server (when SIAGA112_OSRM_URL names one).

Without it, or when it fails, the recommendation keeps its estimate: great-circle distance times
a road factor (PPU's roads wind around bays, rivers and plantations) at an average speed.
OSRM's `table` service gives real road durations; it is asked only for the units nearest by the
estimate (its default table limit is 100 coordinates), with a short timeout, and after a failure
it is left alone for a while so that a dead routing server does not add its timeout to every
recommendation.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache

import httpx
import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RoadTime:
    seconds: float
    metres: float | None


class OsrmTable:
    """Client of one OSRM server's `table` service; safe to share between threads."""

    def __init__(self, base_url: str, timeout: float, retry_after: float):
        self.base_url = base_url.rstrip("/")
        self.retry_after = retry_after
        self._client = httpx.Client(timeout=httpx.Timeout(timeout))
        self._lock = threading.Lock()
        self._failed_at: float | None = None

    def durations_to(self, destination: tuple[float, float],
                     origins: list[tuple[float, float]]) -> list[RoadTime | None] | None:
        """Road time from each origin (lat, lon) to the destination; None if OSRM cannot say.

        A None inside the list is an origin OSRM could not route (off the road network).
        """
        if not origins:
            return []
        with self._lock:
            if self._failed_at is not None and time.monotonic() - self._failed_at < self.retry_after:
                return None
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in [destination, *origins])
        sources = ";".join(str(i) for i in range(1, len(origins) + 1))
        url = f"{self.base_url}/table/v1/driving/{coords}"
        try:
            response = self._client.get(url, params={"sources": sources, "destinations": "0",
                                                     "annotations": "duration,distance"})
            response.raise_for_status()
            body = response.json()
            if body.get("code") != "Ok":
                raise ValueError(f"OSRM answered {body.get('code')}")
            durations = body["durations"]
            distances = body.get("distances") or [[None]] * len(origins)
            if len(durations) != len(origins):
                raise ValueError("OSRM table has the wrong number of rows")
            result = []
            for row, dist in zip(durations, distances, strict=True):
                seconds = row[0] if row else None
                metres = dist[0] if dist else None
                result.append(None if seconds is None else RoadTime(float(seconds),
                                                                   None if metres is None else float(metres)))
        except (httpx.HTTPError, ValueError, KeyError, TypeError, IndexError) as exc:
            with self._lock:
                self._failed_at = time.monotonic()
            log.warning("osrm_unavailable", error=type(exc).__name__, detail=str(exc)[:200])
            return None
        with self._lock:
            self._failed_at = None
        return result


@lru_cache(maxsize=8)
def osrm_table(base_url: str, timeout: float, retry_after: float) -> OsrmTable:
    """One client (and one failure memory) per configured server, per process."""
    return OsrmTable(base_url, timeout, retry_after)
