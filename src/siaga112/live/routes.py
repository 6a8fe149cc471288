"""GET /api/v1/events: Server-Sent Events of what the caller may see, resumable by Last-Event-ID."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from siaga112.auth.permissions import same_scope
from siaga112.auth.principal import Principal
from siaga112.auth.service import principal_for_token
from siaga112.auth.sessions import SESSION_COOKIE
from siaga112.deps import current_principal, lookup_session
from siaga112.errors import InvalidField, TooManyRequests, Unauthorized
from siaga112.live.hub import LiveHub
from siaga112.metrics import EVENT_STREAMS

router = APIRouter(prefix="/api/v1", tags=["events"])


def _parse_last_id(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()):
        raise InvalidField("Last-Event-ID", "Last-Event-ID must be an event id (a whole number)")
    return int(value)


@router.get("/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "event stream (id:, event:, data: JSON)"}})
async def events(request: Request, who: Principal = Depends(current_principal),
                 last_event_id: str | None = Header(default=None, alias="Last-Event-ID"),
                 after: str | None = Query(default=None, description="same as Last-Event-ID")):
    """Live events; a reconnecting client sends Last-Event-ID and gets every event it missed."""
    hub: LiveHub = request.app.state.hub
    start = _parse_last_id(last_event_id if last_event_id is not None else after)
    ctx = request.app.state.ctx
    # One token held 2,000 streams: each costs a queue and a socket. A screen needs one; a
    # reconnect may briefly overlap the stream it replaces.
    if hub.streams_of(who) >= ctx.settings.max_streams_per_token:
        raise TooManyRequests("too many open event streams for this token; close one first", 5)
    sub, backlog = hub.subscribe(who, start)
    heartbeat = ctx.settings.sse_heartbeat_seconds
    bearer = request.headers.get("authorization", "")
    cookie = request.cookies.get(SESSION_COOKIE)

    def still_allowed() -> bool:
        # A stream outlives the request that opened it. Changes made through the application
        # close it at once (auth.revoked); this check, at each heartbeat, also catches one made
        # behind its back: a logout, a disabled account, a revoked token, a new role or agency.
        if bearer.lower().startswith("bearer "):
            try:
                with ctx.db.transaction(write=False) as conn:
                    now, _ = principal_for_token(conn, bearer[7:].strip())
            except Unauthorized:
                return False
        else:
            session = lookup_session(ctx, cookie)
            if session is None:
                return False
            now = session.principal
        return same_scope(who, now)

    async def stream() -> AsyncIterator[bytes]:
        EVENT_STREAMS.inc()
        try:
            yield b"retry: 2000\n: connected\n\n"
            async for chunk in backlog:
                yield b"".join(event.frame for event in chunk)
            queue = sub.queue
            while True:
                if queue.empty():
                    try:
                        first = await asyncio.wait_for(queue.get(), timeout=heartbeat)
                    except TimeoutError:
                        if not await run_in_threadpool(still_allowed):
                            return
                        yield b": heartbeat\n\n"
                        continue
                else:
                    first = queue.get_nowait()
                # Whatever else is already queued goes out in the same write: with hundreds of
                # screens, one send per event per screen is what costs the CPU.
                batch = [first]
                while not queue.empty():
                    batch.append(queue.get_nowait())
                ended = None in batch
                frames = b"".join(e.frame for e in batch if e is not None)
                if frames:
                    yield frames
                if ended:
                    return
        finally:
            EVENT_STREAMS.dec()
            hub.unsubscribe(sub)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
