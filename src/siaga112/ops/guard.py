"""A request guard: no request holds a connection and a worker thread for longer than a bound.

A request whose body trickles in (a client sending one byte a second, or a dead mobile link)
gets 408 and its connection is closed; a request the application has not started answering
within the bound (every thread waiting on a database that stopped answering) gets a JSON 503 with
Retry-After. What the handler does afterwards is discarded. Once an answer has started (an event
stream, a download) the guard leaves it alone.

Reports are the exception: a month's PDF is laid out and drawn on the CPU for seconds after its
queries ended, so report paths get their own, longer bound (`report_timeout`).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

import structlog

from siaga112.metrics import REQUESTS_TIMED_OUT

log = structlog.get_logger(__name__)


class RequestGuard:
    def __init__(self, app: Any, *, timeout: float, report_timeout: float | None = None,
                 retry_after: int = 2):
        self.app = app
        self.timeout = timeout
        self.report_timeout = max(timeout, report_timeout or timeout)
        self.retry_after = retry_after

    def bound(self, path: str) -> float:
        return self.report_timeout if path.startswith(REPORT_PATHS) else self.timeout

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.bound(scope.get("path", ""))
        state = {"body_done": not _has_body(scope), "cut": False, "started": False}
        loop = asyncio.get_running_loop()
        # One future settled by whichever comes first (the answer starts, the handler ends, the
        # time is up): cheaper on the event loop than asyncio.wait and a second task per request.
        settled: asyncio.Future = loop.create_future()

        def settle(_: object = None) -> None:
            if not settled.done():
                settled.set_result(None)

        async def guarded_receive() -> dict:
            if state["cut"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["body_done"] = True
            return message

        async def guarded_send(message: dict) -> None:
            if state["cut"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
                settle()
            await send(message)

        task = asyncio.ensure_future(self.app(scope, guarded_receive, guarded_send))
        task.add_done_callback(settle)
        timer = loop.call_later(limit, settle)
        try:
            await settled
        finally:
            timer.cancel()
        if task.done() or state["started"]:
            await task
            return
        state["cut"] = True
        # The handler may be inside a worker thread; it cannot be stopped there, only ignored.
        task.cancel()
        task.add_done_callback(_consume)
        body: dict[str, Any]
        if not state["body_done"]:
            reason, status = "slow_body", 408
            body = {"detail": "the request body did not arrive in time"}
            headers = [(b"connection", b"close")]
        else:
            reason, status = "no_answer", 503
            body = {"detail": "the server could not answer in time; try again (the same "
                              "Idempotency-Key never creates a second incident)",
                    "retry_after": self.retry_after}
            headers = [(b"retry-after", str(self.retry_after).encode())]
        REQUESTS_TIMED_OUT.labels(reason=reason).inc()
        log.warning("request_timed_out", reason=reason, method=scope.get("method"),
                    path=loggable_path(scope.get("path", "")), limit_seconds=limit)
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode()), *headers]})
        await send({"type": "http.response.body", "body": payload})


# Exports and printed reports (not the KPI queries, which answer within the usual bound).
REPORT_PATHS = ("/api/v1/reports/",)

# Paths that carry a citizen's ticket (the only key to their report) are logged without it.
_KEYED = ("/lacak/", "/api/v1/public/tickets/")


def loggable_path(path: str) -> str:
    for prefix in _KEYED:
        if path.startswith(prefix):
            return prefix + "…"
    return path


def _has_body(scope: dict) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
        if name == b"transfer-encoding":
            return True
    return False


def _consume(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()
