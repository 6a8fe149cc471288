"""Background work for citizens and partners, in a thread of every server process.

Each round plans and sends reporter notifications; less often it expires number blocks,
proposes new ones, and forgets webhook nonces older than the replay window. All of it claims
rows (conditional UPDATEs, a locked cursor), so several processes may run it together.
"""
from __future__ import annotations

from siaga112.blocks.service import sweep
from siaga112.context import Context
from siaga112.interop.signing import purge_nonces
from siaga112.notify.service import Adapter, build_adapters, plan, send_due
from siaga112.periodic import Periodic

HOUSEKEEPING_EVERY = 30  # rounds


class NotificationWorker(Periodic):
    def __init__(self, ctx: Context, interval: float, adapters: dict[str, Adapter] | None = None):
        # A round may be waiting on a slow gateway: give it time to finish on shutdown.
        super().__init__("notify", interval, self._round, join_timeout=15)
        self.ctx = ctx
        self.adapters = build_adapters(ctx.settings) if adapters is None else adapters
        self._rounds = 0

    def stop(self) -> None:
        super().stop()
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

    def _round(self) -> None:
        self._rounds += 1
        self.run_once(housekeeping=self._rounds % HOUSEKEEPING_EVERY == 1)
