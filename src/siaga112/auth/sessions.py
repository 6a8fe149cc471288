"""Browser sessions: server-side rows, so revoking one (or disabling the user) ends it at once.

A signed-cookie session (Starlette's SessionMiddleware) cannot be revoked before it expires, and
the issue asks for revocation; so the cookie holds only a random id and the row holds the rest,
including the CSRF token for the synchronizer-token pattern.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, insert, or_, select, update

from siaga112.auth.principal import Principal
from siaga112.db import utcnow
from siaga112.models import users, web_sessions

SESSION_COOKIE = "siaga112_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A shift is 12 hours; a session idle for a whole shift, or older than a shift and a half, ends.
IDLE_TIMEOUT = timedelta(hours=12)
MAX_AGE = timedelta(hours=18)
# last_seen_at is refreshed at most this often, so page views do not each cost a write.
SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class WebSession:
    principal: Principal
    csrf_token: str
    session_hash: str
    stale: bool


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(conn: Connection, who: Principal, *, remote_addr: str | None) -> str:
    """A new session for the user; returns the cookie value (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    conn.execute(insert(web_sessions).values(
        id=_hash(token), user_id=who.user_id, csrf_token=secrets.token_urlsafe(32),
        created_at=now, last_seen_at=now, expires_at=now + MAX_AGE,
        remote_addr=(remote_addr or "")[:64] or None))
    return token


def session_for_cookie(conn: Connection, token: str) -> WebSession | None:
    """The live session behind the cookie, or None when it is unknown, ended or idle too long."""
    now = utcnow()
    row = conn.execute(
        select(web_sessions.c.id, web_sessions.c.csrf_token, web_sessions.c.last_seen_at,
               users.c.id.label("user_id"), users.c.username, users.c.role, users.c.agency_code)
        .join(users, users.c.id == web_sessions.c.user_id)
        .where(web_sessions.c.id == _hash(token), web_sessions.c.revoked_at.is_(None),
               web_sessions.c.expires_at > now, users.c.active.is_(True),
               # A password change ends every session opened before it.
               or_(users.c.password_changed_at.is_(None),
                   users.c.password_changed_at <= web_sessions.c.created_at))).first()
    if row is None or now - row.last_seen_at > IDLE_TIMEOUT:
        return None
    return WebSession(Principal(row.user_id, row.username, row.role, row.agency_code),
                      row.csrf_token, row.id, now - row.last_seen_at > SEEN_RESOLUTION)


def touch_session(conn: Connection, session_hash: str) -> None:
    conn.execute(update(web_sessions).where(web_sessions.c.id == session_hash)
                 .values(last_seen_at=utcnow()))


def end_session(conn: Connection, token: str) -> None:
    conn.execute(update(web_sessions).where(web_sessions.c.id == _hash(token),
                                            web_sessions.c.revoked_at.is_(None))
                 .values(revoked_at=utcnow()))


def end_user_sessions(conn: Connection, user_id: int) -> int:
    """End every session of a user (account disabled, password changed); returns how many."""
    return conn.execute(update(web_sessions).where(web_sessions.c.user_id == user_id,
                                                   web_sessions.c.revoked_at.is_(None))
                        .values(revoked_at=utcnow())).rowcount
