"""A daemon thread that runs one job every few seconds until stopped (the background workers)."""
from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger()


class Periodic:
    """Calls `job()` every `interval` seconds; a failing round is logged and the next one runs."""

    def __init__(self, name: str, interval: float, job: Callable[[], object], *,
                 join_timeout: float = 5.0, first_delay: float | None = None) -> None:
        self.name = name
        self.join_timeout = join_timeout
        self.interval = interval
        # The first round comes after `first_delay` (default: one interval).
        self.first_delay = interval if first_delay is None else first_delay
        self.job = job
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"siaga112-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.join_timeout)

    def _run(self) -> None:
        delay = self.first_delay
        while not self._stop.wait(delay):
            delay = self.interval
            try:
                self.job()
            except Exception as exc:  # noqa: BLE001 — keep going; the next round tries again
                log.warning("periodic_job_failed", job=self.name, error=type(exc).__name__)
