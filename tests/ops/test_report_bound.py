"""Exports get a longer bound than the rest: a month's PDF is drawn on the CPU after its queries,
and on a busy two-core server that took longer than the 5 s meant for a stuck database."""
from __future__ import annotations

import asyncio

from siaga112.ops.guard import RequestGuard


async def _slow_app(scope, receive, send):
    await asyncio.sleep(0.3)  # the work of a handler that answers late, not a wait for a race
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _status(path: str) -> int:
    guard = RequestGuard(_slow_app, timeout=0.05, report_timeout=5)
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(guard({"type": "http", "method": "GET", "path": path, "headers": []}, receive, send))
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def test_a_slow_report_still_arrives_where_any_other_request_is_cut():
    assert _status("/api/v1/reports/monthly") == 200
    assert _status("/api/v1/incidents") == 503
