"""Who is looking at a page: the browser session behind the cookie, and its CSRF check."""
from __future__ import annotations

import secrets
from dataclasses import replace
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from siaga112.auth.principal import Principal
from siaga112.auth.sessions import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, WebSession
from siaga112.context import Context
from siaga112.deps import client_address, get_ctx, lookup_session
from siaga112.errors import DomainError, Forbidden

CSRF_FIELD = "csrf_token"


class LoginRequired(DomainError):
    """No live session: pages redirect to the login form, htmx requests are told to."""

    status_code = 401

    def __init__(self, next_path: str) -> None:
        super().__init__("login required")
        self.next_path = next_path


async def csrf_ok(request: Request, session: WebSession) -> bool:
    """Synchronizer token: the form field or the htmx header must carry the session's token."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            field = (await request.form()).get(CSRF_FIELD)
            sent = field if isinstance(field, str) else None
    return isinstance(sent, str) and secrets.compare_digest(sent, session.csrf_token)


async def web_session(request: Request, ctx: Context = Depends(get_ctx)) -> WebSession:
    """The page viewer's session; unsafe methods must also pass the CSRF check."""
    session = await run_in_threadpool(lookup_session, ctx, request.cookies.get(SESSION_COOKIE))
    if session is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(quote(path, safe="/?=&"))
    if request.method not in SAFE_METHODS and not await csrf_ok(request, session):
        raise Forbidden("the form is stale or came from another site; reload the page")
    request.state.csrf_token = session.csrf_token
    session = replace(session, principal=replace(session.principal, remote=client_address(request)))
    request.state.principal = session.principal
    return session


async def page_principal(session: WebSession = Depends(web_session)) -> Principal:
    return session.principal
