"""The background jobs (escalation deadlines, notifications, the audit sealer and
checkpointer, the incoming warning feed, the SOP watcher):
started by every `serve` process unless SIAGA112_BACKGROUND_WORKERS=false (`serve --no-workers`),
and by `siaga112 worker` on its own. Every job claims rows, so any number of processes may run
them together and each deadline or message is still handled once."""
from __future__ import annotations

from typing import Any

from siaga112.alerts.incoming import WarningFeedWorker
from siaga112.audit.service import audit_checkpointer, audit_sealer
from siaga112.context import Context
from siaga112.dispatch.escalation import EscalationWorker
from siaga112.notify.worker import NotificationWorker
from siaga112.sop.reload import sop_watcher


def start_background(ctx: Context) -> list[Any]:
    """Start the jobs the settings turn on; returns them (each has stop())."""
    settings = ctx.settings
    jobs: list[Any] = []
    if settings.escalation_interval_seconds > 0:
        jobs.append(EscalationWorker(ctx, settings.escalation_interval_seconds))
    if settings.notify_interval_seconds > 0:
        jobs.append(NotificationWorker(ctx, settings.notify_interval_seconds))
    if not ctx.db.is_sqlite:  # SQLite chains audit entries as they are written
        jobs.append(audit_sealer(ctx, settings.audit_seal_interval_seconds))
    if settings.audit_checkpoint_hours > 0:
        jobs.append(audit_checkpointer(ctx, settings.audit_checkpoint_hours))
    if settings.warning_feed_url and settings.warning_feed_interval_seconds > 0:
        jobs.append(WarningFeedWorker(ctx, settings.warning_feed_interval_seconds))
    for job in jobs:
        job.start()
    return jobs


def start_sop_watcher(ctx: Context) -> Any | None:
    """Every process that routes incidents or escalates follows SOP changes made elsewhere."""
    if ctx.settings.sop_reload_seconds <= 0:
        return None
    watcher = sop_watcher(ctx, ctx.settings.sop_reload_seconds)
    watcher.start()
    return watcher


def stop_all(jobs: list[Any]) -> None:
    for job in jobs:
        job.stop()
