"""Request ids in every log line, request latency by route, and queue depths for /metrics."""
from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from sqlalchemy import func, select

from siaga112.context import Context
from siaga112.db import database_failure
from siaga112.metrics import OUTBOX_WAITING, PENDING_ASSIGNMENTS, REQUEST_LATENCY
from siaga112.models import assignments, notification_outbox
from siaga112.periodic import Periodic

_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestObserver:
    """Gives each request an id (a proxy's `X-Request-ID` when it sent a sane one), binds it to
    every log line written while the request runs, returns it in `X-Request-ID`, and times the
    request until its answer starts, labelled by route template (never the path: it may carry a
    ticket)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", ())).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex[:16]
        started = time.perf_counter()

        async def observed_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                route = scope.get("route")
                REQUEST_LATENCY.labels(method=scope.get("method", ""),
                                       route=getattr(route, "path", None) or "unmatched",
                                       status=f"{message['status'] // 100}xx").observe(
                    time.perf_counter() - started)
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, observed_send)


def queue_depth_sampler(ctx: Context, interval: float = 5.0) -> Periodic:
    """Samples the queue depths every few seconds in the background: /metrics itself never
    waits on the database (during a partition it must still answer at once)."""
    return Periodic("queue-depths", interval, lambda: sample_queue_depths(ctx))


def sample_queue_depths(ctx: Context) -> None:
    """Pending assignments and waiting texts; a database that cannot answer leaves the last
    values."""
    try:
        with ctx.db.transaction(write=False) as conn:
            pending = conn.execute(select(func.count()).select_from(assignments)
                                   .where(assignments.c.status == "pending")).scalar_one()
            waiting = conn.execute(select(func.count()).select_from(notification_outbox)
                                   .where(notification_outbox.c.status.in_(("pending", "sending")))
                                   ).scalar_one()
    except Exception as exc:
        if database_failure(exc) is None:
            raise
        return
    PENDING_ASSIGNMENTS.set(pending)
    OUTBOX_WAITING.set(waiting)
