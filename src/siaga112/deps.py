"""Request dependencies: the context and who is asking."""
from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from siaga112.auth.service import Principal, principal_for_token, touch_token
from siaga112.context import Context
from siaga112.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False)


def get_ctx(request: Request) -> Context:
    return request.app.state.ctx


def current_principal(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                      ctx: Context = Depends(get_ctx)) -> Principal:
    """The user behind the bearer token; 401 without a valid one."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("missing bearer token")
    with ctx.db.transaction(write=False) as conn:
        who, stale = principal_for_token(conn, credentials.credentials)
    if stale and who.token_id is not None:
        with ctx.db.transaction() as conn:
            touch_token(conn, who.token_id)
    return who
