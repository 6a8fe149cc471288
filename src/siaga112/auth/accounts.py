"""Account actions: password login with throttling, password change, disable, API tokens.

A browser login form calls `authenticate`; sessions themselves belong to the web console. Every
change is audited; disabling a user or revoking a token takes effect at once (see auth.cache).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, delete, func, insert, select, update

from siaga112.audit import service as audit
from siaga112.auth import cache
from siaga112.auth.principal import Principal
from siaga112.auth.service import check_password, hash_password, hash_token, issue_token, store_rehash
from siaga112.auth.sessions import end_user_sessions
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.errors import Conflict, Forbidden, InvalidField, LoginLocked, NotFound, Unauthorized
from siaga112.events import record_event
from siaga112.events.payloads import AuthRevoked
from siaga112.models import api_tokens, login_attempts, users

log = structlog.get_logger(__name__)
MIN_PASSWORD_LENGTH = 8
# Attempt rows older than this are of no use to throttling.
ATTEMPT_HISTORY = timedelta(days=1)


def backoff(failures: int, free: int, base: float, cap: float) -> float:
    """Seconds to wait after `failures` failures when the first `free` cost nothing: doubling."""
    if failures < free:
        return 0.0
    return min(cap, base * 2.0 ** min(failures - free, 64))


def _failures(conn: Connection, since: datetime, *conditions: Any) -> tuple[int, datetime | None]:
    """How many failed attempts match since `since`, and when the latest was."""
    row = conn.execute(select(func.count(), func.max(login_attempts.c.at))
                       .where(login_attempts.c.success.is_(False), login_attempts.c.at > since,
                              *conditions)).one()
    return int(row[0]), row[1]


def _check_lock(ctx: Context, conn: Connection, username: str, remote: str, now: datetime) -> None:
    """LoginLocked while this address must wait before trying this username again.

    Only failures from this very address count: a stranger's guesses elsewhere never hold back
    the account's owner (five wrong passwords from anywhere used to lock the commander out).
    """
    s = ctx.settings
    pair = _failures(conn, now - ATTEMPT_HISTORY, login_attempts.c.username == username,
                     login_attempts.c.remote == remote)
    spray = _failures(conn, now - timedelta(minutes=s.login_remote_window_minutes),
                      login_attempts.c.remote == remote)
    waits = []
    for (count, last), free in ((pair, s.login_free_failures_per_pair),
                                (spray, s.login_free_failures_per_remote)):
        if last is not None:
            delay = backoff(count, free, s.login_base_delay_seconds, s.login_max_delay_seconds)
            waits.append((last + timedelta(seconds=delay) - now).total_seconds())
    wait = max(waits, default=0.0)
    if wait > 0:
        raise LoginLocked("too many failed logins from this address; try again later", wait)


def authenticate(ctx: Context, username: str, password: str, remote: str | None) -> Principal:
    """The user for a correct password; 401 for a wrong one, 429 (LoginLocked) while throttled.

    Failures are rows, so every process and node counts them. They slow down the address that
    made them, for that username and (one address trying many usernames) for all; a success
    clears that address's failures against that username only. While throttled the password
    is not checked at all, so a throttled guess learns nothing.
    Opens its own transactions: a failure must be recorded even though the login fails.
    """
    username = username.strip()[:64]
    remote = (remote or "unknown")[:64]
    now = utcnow()
    with ctx.db.transaction(write=False) as conn:
        _check_lock(ctx, conn, username, remote, now)
        checked = check_password(conn, username, password) if password else None
    who, rehash = checked if checked is not None else (None, None)
    now = utcnow()
    with ctx.db.transaction() as conn:
        if who is None:
            conn.execute(insert(login_attempts).values(at=now, username=username, remote=remote,
                                                       success=False))
            conn.execute(delete(login_attempts).where(login_attempts.c.username == username,
                                                      login_attempts.c.at < now - ATTEMPT_HISTORY))
            conn.execute(delete(login_attempts).where(login_attempts.c.remote == remote,
                                                      login_attempts.c.at < now - ATTEMPT_HISTORY))
            audit.record(conn, None, "auth.login_failed", "user", username, actor=username,
                         remote=remote)
        else:
            conn.execute(delete(login_attempts).where(login_attempts.c.username == username,
                                                      login_attempts.c.remote == remote,
                                                      login_attempts.c.success.is_(False)))
            who = Principal(who.user_id, who.username, who.role, who.agency_code, remote=remote)
            if rehash is not None:
                store_rehash(conn, who.user_id, rehash)
            audit.record(conn, who, "auth.login", "user", str(who.user_id))
    if who is None:
        log.info("login_failed", remote=remote)
        raise Unauthorized("wrong username or password")
    return who


def _check_new_password(username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField("new_password", f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip().lower() == username.lower():
        raise InvalidField("new_password", "the password must not be the username")


def _user_row(conn: Connection, username: str) -> Any:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFound(f"no user {username!r}")
    return row


def revoke_everywhere(ctx: Context, conn: Connection, *, user_id: int | None = None,
                       token_id: int | None = None) -> None:
    """Cached principals go now; other processes and open event streams follow the event."""
    cache.purge_after_commit(conn, user_id=user_id, token_id=token_id)
    record_event(conn, ctx.db, AuthRevoked(user_id=user_id, token_id=token_id))


def end_access(ctx: Context, conn: Connection, user_id: int, *, tokens: bool) -> int:
    """End everything a user holds: sessions, open event streams, cached principals and, with
    `tokens`, API tokens (revoked for good: enabling the account again or a new password brings
    none of them back). Returns how many sessions ended."""
    ended = end_user_sessions(conn, user_id)
    if tokens:
        conn.execute(update(api_tokens).where(api_tokens.c.user_id == user_id,
                                              api_tokens.c.revoked_at.is_(None))
                     .values(revoked_at=utcnow()))
    revoke_everywhere(ctx, conn, user_id=user_id)
    return ended


def rescope(ctx: Context, conn: Connection, user_id: int) -> None:
    """The user's role or agency changed: open streams close (the browser reconnects and gets
    the new scope) and cached principals are dropped; sessions and tokens carry on."""
    revoke_everywhere(ctx, conn, user_id=user_id)


def change_password(ctx: Context, who: Principal, current: str, new: str) -> None:
    """The user's own change: the current password is checked (and throttled) like a login.

    Sessions opened before it end (users.password_changed_at) and so do open event streams;
    the user's own API tokens stay (an administrator's reset revokes them)."""
    authenticate(ctx, who.username, current, who.remote)
    _check_new_password(who.username, new)
    with ctx.db.transaction() as conn:
        conn.execute(update(users).where(users.c.id == who.user_id)
                     .values(password_hash=hash_password(new), password_changed_at=utcnow()))
        revoke_everywhere(ctx, conn, user_id=who.user_id)
        audit.record(conn, who, "user.password_changed", "user", str(who.user_id))


def set_password(ctx: Context, who: Principal, username: str, new: str, *, conn: Connection) -> None:
    """An administrator sets a user's password (a forgotten one)."""
    if who.role != "admin":
        raise Forbidden("only an administrator may set another user's password")
    row = _user_row(conn, username)
    _check_new_password(username, new)
    conn.execute(update(users).where(users.c.id == row.id)
                 .values(password_hash=hash_password(new), password_changed_at=utcnow()))
    # A reset is for a forgotten or leaked password: whatever was opened with the old one ends.
    end_access(ctx, conn, row.id, tokens=True)
    audit.record(conn, who, "user.password_set", "user", str(row.id), detail={"username": username})


def set_active(ctx: Context, who: Principal | None, username: str, active: bool, *,
               conn: Connection, actor: str | None = None) -> dict[str, Any]:
    """Disable (or enable again) an account; a disabled user's sessions and tokens end at once
    and for good, so enabling it again revives none of them."""
    if who is not None and who.role != "admin":
        raise Forbidden("only an administrator may disable or enable users")
    row = _user_row(conn, username)
    if who is not None and row.id == who.user_id and not active:
        raise Conflict("you cannot disable your own account")
    now = utcnow()
    conn.execute(update(users).where(users.c.id == row.id).values(
        active=active, disabled_at=None if active else now))
    if not active:
        end_access(ctx, conn, row.id, tokens=True)
    audit.record(conn, who, "user.enabled" if active else "user.disabled", "user", str(row.id),
                 detail={"username": username}, actor=actor)
    return {"username": username, "active": active}


@dataclass(frozen=True)
class TokenInfo:
    id: int
    username: str
    name: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_tokens(conn: Connection, who: Principal | None, *, username: str | None = None,
                include_revoked: bool = False) -> list[TokenInfo]:
    """A user's own tokens; an administrator (or the CLI, `who=None`) sees anyone's."""
    if who is not None and who.role != "admin":
        if username not in (None, who.username):
            raise Forbidden("only an administrator may list other users' tokens")
        username = who.username
    query = (select(api_tokens, users.c.username).join(users, users.c.id == api_tokens.c.user_id)
             .order_by(api_tokens.c.id))
    if username:
        query = query.where(users.c.username == username)
    if not include_revoked:
        query = query.where(api_tokens.c.revoked_at.is_(None))
    return [TokenInfo(r.id, r.username, r.name, r.scope, r.created_at, r.last_used_at, r.revoked_at)
            for r in conn.execute(query)]


def create_token(ctx: Context, who: Principal | None, *, name: str, scope: str = "full",
                 username: str | None = None, conn: Connection, actor: str | None = None) -> tuple[TokenInfo, str]:
    """A new named token (shown once); an administrator may make one for another user."""
    if who is not None:
        if username not in (None, who.username) and who.role != "admin":
            raise Forbidden("only an administrator may create tokens for other users")
        if who.scope != "full":
            raise Forbidden("a read-only token cannot create tokens")
        username = username or who.username
    if not username:
        raise InvalidField("username", "name the user the token is for")
    name = name.strip()
    if not name:
        raise InvalidField("name", "a token needs a name saying what it is for")
    token = issue_token(conn, username=username, name=name, scope=scope)
    row = conn.execute(select(api_tokens, users.c.username)
                       .join(users, users.c.id == api_tokens.c.user_id)
                       .where(api_tokens.c.token_hash == hash_token(token))).one()
    info = TokenInfo(row.id, row.username, row.name, row.scope, row.created_at, None, None)
    audit.record(conn, who, "token.created", "token", str(info.id),
                 detail={"username": username, "name": name, "scope": scope}, actor=actor)
    return info, token


def revoke_token(ctx: Context, who: Principal | None, token_id: int, *, conn: Connection,
                 actor: str | None = None) -> TokenInfo:
    """Revoke a token (own, or anyone's for an administrator); it stops working at once."""
    row = conn.execute(select(api_tokens, users.c.username)
                       .join(users, users.c.id == api_tokens.c.user_id)
                       .where(api_tokens.c.id == token_id)).first()
    if row is None or (who is not None and who.role != "admin" and row.user_id != who.user_id):
        raise NotFound("no such token")
    if row.revoked_at is not None:
        raise Conflict("the token is already revoked")
    now = utcnow()
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=now))
    revoke_everywhere(ctx, conn, token_id=token_id)
    audit.record(conn, who, "token.revoked", "token", str(token_id),
                 detail={"username": row.username, "name": row.name}, actor=actor)
    return TokenInfo(row.id, row.username, row.name, row.scope, row.created_at, row.last_used_at, now)


def list_users(conn: Connection, who: Principal) -> list[dict[str, Any]]:
    if who.role != "admin":
        raise Forbidden("only an administrator may list users")
    return [dict(r._mapping) for r in conn.execute(
        select(users.c.username, users.c.full_name, users.c.role, users.c.agency_code,
               users.c.active, users.c.created_at, users.c.disabled_at,
               users.c.password_changed_at).order_by(users.c.username))]
