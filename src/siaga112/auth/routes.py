"""Account and token API: own password and tokens; administrators disable users, revoke tokens."""
from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Path, Response

from siaga112.auth import accounts
from siaga112.auth.principal import Principal
from siaga112.auth.schemas import PasswordChange, PasswordSet, TokenCreate, TokenCreated, TokenRead, UserRead, UserState
from siaga112.context import Context
from siaga112.deps import current_principal, get_ctx
from siaga112.security.ratelimit import rate_limit

router = APIRouter(prefix="/api/v1/auth", tags=["accounts"])
USERNAME = Path(min_length=1, max_length=64)


@router.post("/password", status_code=204, response_class=Response,
             dependencies=[Depends(rate_limit("login", "rate_limit_login_per_minute"))])
def change_password(body: PasswordChange, who: Principal = Depends(current_principal),
                    ctx: Context = Depends(get_ctx)):
    """Change your own password; the current one is checked and throttled like a login."""
    accounts.change_password(ctx, who, body.current_password, body.new_password)
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(username: str | None = None, include_revoked: bool = False,
                who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    """Your tokens; an administrator may name any user, or see everyone's."""
    with ctx.db.transaction(write=False) as conn:
        return [asdict(t) for t in accounts.list_tokens(conn, who, username=username,
                                                         include_revoked=include_revoked)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenCreate, who: Principal = Depends(current_principal),
                 ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        info, token = accounts.create_token(ctx, who, name=body.name, scope=body.scope,
                                            username=body.username, conn=conn)
    return {**asdict(info), "token": token}


@router.post("/tokens/{token_id}/revoke", response_model=TokenRead)
def revoke_token(token_id: int = Path(ge=1, le=2**31 - 1), who: Principal = Depends(current_principal),
                 ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return asdict(accounts.revoke_token(ctx, who, token_id, conn=conn))


@router.get("/users", response_model=list[UserRead])
def list_users(who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return accounts.list_users(conn, who)


@router.post("/users/{username}/disable", response_model=UserState)
def disable_user(username: str = USERNAME, who: Principal = Depends(current_principal),
                 ctx: Context = Depends(get_ctx)):
    """The account, its tokens and its open event streams stop working at once."""
    with ctx.db.transaction() as conn:
        return accounts.set_active(ctx, who, username, False, conn=conn)


@router.post("/users/{username}/enable", response_model=UserState)
def enable_user(username: str = USERNAME, who: Principal = Depends(current_principal),
                ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return accounts.set_active(ctx, who, username, True, conn=conn)


@router.post("/users/{username}/password", status_code=204, response_class=Response)
def set_password(body: PasswordSet, username: str = USERNAME,
                 who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        accounts.set_password(ctx, who, username, body.new_password, conn=conn)
    return Response(status_code=204)
