"""Request dependencies: the context and who is asking."""
from __future__ import annotations

from dataclasses import replace

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from siaga112.auth import cache
from siaga112.auth.service import Principal, hash_token, principal_for_token, touch_token
from siaga112.context import Context
from siaga112.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False)


# Both dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in the
# thread pool, and two extra thread hops per request were a measurable share of intake CPU.
async def get_ctx(request: Request) -> Context:
    return request.app.state.ctx


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def client_address(request: Request) -> str | None:
    """The peer address (behind a proxy, uvicorn's --proxy-headers makes it the client's)."""
    return request.client.host if request.client else None


async def current_principal(request: Request,
                            credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                            ctx: Context = Depends(get_ctx)) -> Principal:
    """The user behind the bearer token, with this request's address; 401 without a valid one."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("missing bearer token")
    key = (id(ctx), hash_token(credentials.credentials))
    who = cache.get(key)
    if who is None:
        who = await run_in_threadpool(_load_principal, ctx, credentials.credentials, key)
    if who.scope == "read" and request.method not in READ_METHODS:
        raise Forbidden("this token is read-only")
    return replace(who, remote=client_address(request))


def _load_principal(ctx: Context, token: str, key: tuple) -> Principal:
    generation = cache.generation()
    with ctx.db.transaction(write=False) as conn:
        who, stale = principal_for_token(conn, token)
    if stale and who.token_id is not None:
        with ctx.db.transaction() as conn:
            touch_token(conn, who.token_id)
    cache.put(key, who, generation)
    return who
