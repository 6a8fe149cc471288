"""Putting a changed SOP into service, in this process at once and in every other within seconds.

`ctx.sop` is an immutable `Sop`; a change replaces it (and the classifier built from its types)
with one attribute assignment, so a request that already holds the old one finishes with it and
the next one sees the new. The process that made the change installs it right after the commit.
Other server processes (several uvicorn workers, or several machines on one PostgreSQL) poll the
one-row `sop_state` table: a primary-key read every `sop_reload_seconds` (default 2 s), which
works the same on SQLite and PostgreSQL and needs no extra connection.
"""
from __future__ import annotations

import threading

import structlog

from siaga112.context import Context
from siaga112.periodic import Periodic
from siaga112.sop.schemas import Sop
from siaga112.sop.service import read_sop, sop_revision

log = structlog.get_logger(__name__)
_install_lock = threading.Lock()


def install_sop(ctx: Context, sop: Sop, revision: int) -> bool:
    """Serve `sop` from now on, unless a newer revision is already installed."""
    from siaga112.bootstrap import make_classifier  # bootstrap builds the context; avoid a cycle

    with _install_lock:
        if revision <= ctx.sop_revision:
            return False
        classifier = make_classifier(ctx.settings, sop, ctx.gazetteer)
        ctx.classifier = classifier
        ctx.sop = sop
        ctx.sop_revision = revision
    log.info("sop_installed", revision=revision, types=len(sop.incident_types),
             agencies=len(sop.agencies))
    return True


def reload_if_changed(ctx: Context) -> bool:
    """Install the stored SOP if another process changed it since this one last looked."""
    with ctx.db.transaction(write=False) as conn:
        revision = sop_revision(conn)
        if revision <= ctx.sop_revision:
            return False
        sop = read_sop(conn, base=ctx.sop)
    return install_sop(ctx, sop, revision)


def sop_watcher(ctx: Context, interval: float) -> Periodic:
    """Picks up SOP changes made by other processes (the SOP in use stays on a failed look)."""
    return Periodic("sop-watch", interval, lambda: reload_if_changed(ctx))
