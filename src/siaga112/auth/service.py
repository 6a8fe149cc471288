"""Users, API tokens and who is asking: the principal every service receives."""
from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import Connection, insert, select, update

from siaga112.audit import service as audit
from siaga112.auth.permissions import role_needs_agency
from siaga112.auth.principal import Principal, Role, Scope
from siaga112.db import inserted_id, utcnow
from siaga112.errors import InvalidField, Unauthorized
from siaga112.models import agencies, api_tokens, users

_hasher = PasswordHasher()
TOKEN_PREFIX = "s112_"
# last_used_at is a write on a read path; refreshing it once a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is safe here; argon2 is for human passwords.
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(conn: Connection, *, username: str, role: str, agency_code: str | None = None,
                password: str | None = None, full_name: str | None = None,
                who: Principal | None = None, actor: str = "system") -> int:
    """Add a user; a dispatcher must name the agency it works for."""
    username = username.strip()
    if not username:
        raise InvalidField("username", "username must not be empty")
    if role not in Role.__members__.values():
        raise InvalidField("role", f"unknown role {role!r}; one of {', '.join(Role)}")
    if role_needs_agency(role) and not agency_code:
        raise InvalidField("agency_code", "a dispatcher must be bound to an agency")
    if agency_code is not None:
        if conn.execute(select(agencies.c.code).where(agencies.c.code == agency_code)).first() is None:
            raise InvalidField("agency_code", f"unknown agency {agency_code!r}")
    if conn.execute(select(users.c.id).where(users.c.username == username)).first() is not None:
        raise InvalidField("username", f"user {username!r} already exists")
    result = conn.execute(insert(users).values(
        username=username, role=role, agency_code=agency_code, full_name=full_name,
        password_hash=_hasher.hash(password) if password else None, active=True,
        created_at=utcnow()))
    user_id = int(inserted_id(result))
    audit.record(conn, who, "user.created", "user", str(user_id),
                 detail={"username": username, "role": role, "agency_code": agency_code},
                 actor=actor)
    return user_id


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the username does not exist, so a miss costs what a wrong password
    does and response times do not tell which usernames exist. Made on first use, not at import:
    every command and server process paid 0.3-0.4 s of start-up for it."""
    return _hasher.hash("siaga112 no such user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def set_password(conn: Connection, user_id: int, password: str) -> None:
    """Replace a user's password (stored as an argon2 hash only); older sessions end with it."""
    conn.execute(update(users).where(users.c.id == user_id)
                 .values(password_hash=_hasher.hash(password), password_changed_at=utcnow()))


@dataclass(frozen=True)
class Rehash:
    """A password hash made with today's argon2 parameters, to replace `old`."""

    old: str
    new: str


def check_password(conn: Connection, username: str,
                   password: str) -> tuple[Principal, Rehash | None] | None:
    """The user if the password matches an active account, with a new hash of it when the stored
    one was made with older argon2 parameters (store it with `store_rehash`); None otherwise.

    Reads only: the caller may hold a read transaction, and the hash is made here, outside any
    write transaction (a write held through an argon2 hash would stall every other writer).
    """
    dummy = _dummy_hash()  # before the lookup: the first login pays for it, whoever it names
    row = conn.execute(select(users).where(users.c.username == username,
                                           users.c.active.is_(True))).first()
    if row is None or not row.password_hash:
        try:
            _hasher.verify(dummy, password + "x")
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except VerificationError:
        return None
    rehash = (Rehash(row.password_hash, _hasher.hash(password))
              if _hasher.check_needs_rehash(row.password_hash) else None)
    return Principal(row.id, row.username, row.role, row.agency_code), rehash


def store_rehash(conn: Connection, user_id: int, rehash: Rehash) -> None:
    """Replace the old-parameter hash, unless the password changed meanwhile."""
    conn.execute(update(users).where(users.c.id == user_id, users.c.password_hash == rehash.old)
                 .values(password_hash=rehash.new))


def verify_password(conn: Connection, username: str, password: str) -> Principal | None:
    """The user if the password matches an active account, else None."""
    checked = check_password(conn, username, password)
    return None if checked is None else checked[0]


def issue_token(conn: Connection, *, username: str, name: str | None = None,
                scope: str = "full") -> str:
    """A new API token for the user; only its hash is stored."""
    row = conn.execute(select(users.c.id).where(users.c.username == username)).first()
    if row is None:
        raise InvalidField("username", f"no user {username!r}")
    if scope not in Scope.__members__.values():
        raise InvalidField("scope", f"unknown scope {scope!r}; one of {', '.join(Scope)}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(insert(api_tokens).values(user_id=row.id, name=name or f"{username} token",
                                           token_hash=hash_token(token), created_at=utcnow(),
                                           scope=scope))
    return token


def principal_for_token(conn: Connection, token: str) -> tuple[Principal, bool]:
    """The token's user, and whether its last-used time is stale enough to refresh."""
    row = conn.execute(
        select(api_tokens.c.id, api_tokens.c.last_used_at, api_tokens.c.scope,
               users.c.id.label("user_id"),
               users.c.username, users.c.role, users.c.agency_code)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == hash_token(token), api_tokens.c.revoked_at.is_(None),
               users.c.active.is_(True))).first()
    if row is None:
        raise Unauthorized("invalid or revoked token")
    stale = row.last_used_at is None or utcnow() - row.last_used_at > LAST_USED_RESOLUTION
    return Principal(row.user_id, row.username, row.role, row.agency_code, row.id, row.scope), stale


def touch_token(conn: Connection, token_id: int) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=utcnow()))
