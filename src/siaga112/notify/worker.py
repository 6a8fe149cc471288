"""Background work for citizens and partners, in a thread of every server process.

Each round plans and sends reporter notifications; less often it expires number blocks,
proposes new ones, and forgets webhook nonces older than the replay window. All of it claims
rows (conditional UPDATEs, a locked cursor), so several processes may run it together.
"""
from __future__ import annotations

import threading

import structlog

from siaga112.blocks.service import sweep
from siaga112.context import Context
from siaga112.interop.signing import purge_nonces
from siaga112.notify.service import Adapter, build_adapters, plan, send_due

log = structlog.get_logger(__name__)
HOUSEKEEPING_EVERY = 30  # rounds


class NotificationWorker:
    def __init__(self, ctx: Context, interval: float, adapters: dict[str, Adapter] | None = None):
        self.ctx = ctx
        self.interval = interval
        self.adapters = build_adapters(ctx.settings) if adapters is None else adapters
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="siaga112-notify", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        for adapter in self.adapters.values():
            close = getattr(adapter, "close", None)
            if close:
                close()

    def run_once(self, *, housekeeping: bool = False) -> int:
        plan(self.ctx)
        sent = send_due(self.ctx, self.adapters)
        if housekeeping:
            sweep(self.ctx)
            with self.ctx.db.transaction() as conn:
                purge_nonces(conn, self.ctx.settings)
        return sent

    def _run(self) -> None:
        rounds = 0
        while not self._stop.wait(self.interval):
            rounds += 1
            try:
                self.run_once(housekeeping=rounds % HOUSEKEEPING_EVERY == 1)
            except Exception as exc:  # noqa: BLE001 — the next round tries again
                log.warning("notify_round_failed", error=type(exc).__name__)
