"""Health (the database answers) and readiness (a write still commits)."""
from __future__ import annotations

from sqlalchemy import delete, insert, text

from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.models import readiness_probe


def check_health(ctx: Context) -> None:
    """Raises when the database does not answer a read."""
    with ctx.db.transaction(write=False) as conn:
        conn.execute(text("SELECT 1"))


def check_ready(ctx: Context) -> None:
    """Raises unless a new row commits, as an incident's would: a full disk or a read-only
    standby still answers reads, and rewriting a row in place may still fit where a new one
    does not."""
    with ctx.db.transaction() as conn:
        conn.execute(delete(readiness_probe))
        conn.execute(insert(readiness_probe).values(checked_at=utcnow()))
