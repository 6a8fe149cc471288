"""Deadlines: an assignment nobody acknowledged, or a unit that has not arrived, goes to command.

Deadlines are columns (`ack_due_at`, `arrival_due_at`), not timers, so a restart loses none.
Every process may run the worker; each overdue assignment is claimed by a conditional UPDATE
that only one of them can win, so it is escalated exactly once.
"""
from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import select, update

from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.dispatch.assignments import assignment_event
from siaga112.events import record_events
from siaga112.events.payloads import AssignmentEscalated
from siaga112.incidents.timeline import append_timeline
from siaga112.metrics import ESCALATIONS
from siaga112.models import assignments, incidents
from siaga112.periodic import Periodic

log = structlog.get_logger(__name__)

# (deadline column, claim column, statuses that still owe the action, why)
DEADLINES = (
    (assignments.c.ack_due_at, assignments.c.escalated_at, ("pending",), "not_acknowledged"),
    (assignments.c.arrival_due_at, assignments.c.arrival_escalated_at, ("dispatched", "en_route"),
     "not_arrived"),
)


def escalate_overdue(ctx: Context, *, now: datetime | None = None, limit: int = 200) -> int:
    """Escalate each assignment past a deadline, once; returns how many this call escalated."""
    now = now or utcnow()
    escalated = 0
    for due, claimed, statuses, reason in DEADLINES:
        with ctx.db.transaction(write=False) as conn:
            candidates = conn.execute(
                select(assignments.c.id).where(due <= now, claimed.is_(None),
                                               assignments.c.status.in_(statuses))
                .order_by(due).limit(limit)).scalars().all()
        for assignment_id in candidates:
            with ctx.db.transaction() as conn:
                if conn.dialect.name == "postgresql":
                    # Same lock order as every agency action (incident row, then assignment),
                    # so an acknowledgement arriving at the deadline cannot deadlock with us.
                    conn.execute(select(incidents.c.id).where(incidents.c.id == select(
                        assignments.c.incident_id).where(assignments.c.id == assignment_id)
                        .scalar_subquery()).with_for_update())
                won = conn.execute(update(assignments).where(
                    assignments.c.id == assignment_id, claimed.is_(None),
                    assignments.c.status.in_(statuses)).values({claimed: now}))
                if won.rowcount != 1:
                    continue  # another worker got it, or the agency acted meanwhile
                _record_escalation(ctx, conn, assignment_id, reason, now)
            escalated += 1
            ESCALATIONS.labels(reason).inc()
    return escalated


def _record_escalation(ctx: Context, conn, assignment_id: int, reason: str, now: datetime) -> None:
    a = conn.execute(select(assignments).where(assignments.c.id == assignment_id)).one()
    incident = conn.execute(select(incidents).where(incidents.c.id == a.incident_id)).one()
    if incident.attention is None:
        conn.execute(update(incidents).where(incidents.c.id == incident.id)
                     .values(attention="overdue", updated_at=now))
    label = {"not_acknowledged": "belum menerima laporan", "not_arrived": "unit belum tiba"}[reason]
    append_timeline(conn, incident.id, "escalated", who=None, at=now, agency_code=a.agency_code,
                    text=f"{a.agency_code} {label}: diteruskan ke pusat komando",
                    data={"reason": reason})
    due_at = a.ack_due_at if reason == "not_acknowledged" else a.arrival_due_at
    record_events(conn, ctx.db, [assignment_event(ctx, incident, a, AssignmentEscalated, at=now,
                                                  reason=reason, due_at=due_at)])
    log.info("assignment_escalated", incident_id=incident.id, agency=a.agency_code, reason=reason)


class EscalationWorker(Periodic):
    """Runs `escalate_overdue` every few seconds in a background thread of the server."""

    def __init__(self, ctx: Context, interval: float):
        super().__init__("escalation", interval, lambda: escalate_overdue(ctx), join_timeout=10)
