"""Request dependencies: the context and who is asking."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from siaga112.auth import cache
from siaga112.auth.principal import Principal
from siaga112.auth.service import hash_token, principal_for_token, touch_token
from siaga112.auth.sessions import (
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    WebSession,
    session_for_cookie,
    touch_session,
)
from siaga112.context import Context
from siaga112.db import database_failure
from siaga112.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False)

# A row id in a path: larger than the INTEGER column can hold is a 422, not a database error.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


# Both dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in the
# thread pool, and two extra thread hops per request were a measurable share of intake CPU.
async def get_ctx(request: Request) -> Context:
    return request.app.state.ctx


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def client_address(request: Request) -> str | None:
    """The peer address; uvicorn replaces it with the forwarded client's only when the peer is
    one of SIAGA112_TRUSTED_PROXIES (Settings.server_options)."""
    return request.client.host if request.client else None


async def current_principal(request: Request,
                            credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                            ctx: Context = Depends(get_ctx)) -> Principal:
    """The user behind the bearer token or the console's session cookie, with this request's
    address; 401 without either."""
    if credentials is None or not credentials.credentials:
        return await _session_principal(request, ctx)
    key = (id(ctx), hash_token(credentials.credentials))
    who = cache.get(key)
    if who is None:
        who = await run_in_threadpool(_load_principal, ctx, credentials.credentials, key)
    if who.scope == "read" and request.method not in READ_METHODS:
        raise Forbidden("this token is read-only")
    return replace(who, remote=client_address(request))


async def _session_principal(request: Request, ctx: Context) -> Principal:
    # The consoles call the API (the event stream, classification) with their session cookie.
    # A cookie is sent by the browser on its own, so anything but a read needs the CSRF header.
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized("missing bearer token")
    session = await run_in_threadpool(lookup_session, ctx, cookie)
    if session is None:
        raise Unauthorized("session ended; log in again")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or ""
        if not secrets.compare_digest(sent, session.csrf_token):
            raise Unauthorized("missing or wrong X-CSRF-Token for a session request")
    return replace(session.principal, remote=client_address(request))


def _load_principal(ctx: Context, token: str, key: tuple) -> Principal:
    generation = cache.generation()
    with ctx.db.transaction(write=False) as conn:
        who, stale = principal_for_token(conn, token)
    if stale and who.token_id is not None:
        with _bookkeeping():
            with ctx.db.transaction() as conn:
                touch_token(conn, who.token_id)
    cache.put(key, who, generation)
    return who


def lookup_session(ctx: Context, cookie: str | None) -> WebSession | None:
    if not cookie:
        return None
    with ctx.db.transaction(write=False) as conn:
        found = session_for_cookie(conn, cookie)
    if found is not None and found.stale:
        with _bookkeeping():
            with ctx.db.transaction() as conn:
                touch_session(conn, found.session_hash)
    return found


@contextmanager
def _bookkeeping() -> Iterator[None]:
    """A last-used time is not worth failing a read over: with the disk full or the writer busy,
    the request goes on and the next one records it."""
    try:
        yield
    except Exception as exc:
        if database_failure(exc) is None:
            raise
