"""The per-process cache of principals behind bearer tokens, and its purge on revocation.

Machine clients send a token with every request; looking it up each time was a tenth of the
intake's CPU, so a principal is cached for a few seconds. Disabling a user or revoking a token
purges it at once: in this process right after the commit, in the others when their live hub
reads the `auth.revoked` event (woken by NOTIFY on PostgreSQL).
"""
from __future__ import annotations

import threading
from typing import Any

from cachetools import TTLCache
from sqlalchemy import Connection

PRINCIPAL_CACHE_SECONDS = 5
_principals: TTLCache = TTLCache(maxsize=4096, ttl=PRINCIPAL_CACHE_SECONDS)
_lock = threading.Lock()
# Bumped by every purge: a lookup that read the database before a purge must not cache what it
# read after it, or a token revoked in between would live on for the cache's lifetime.
_generation = 0


def get(key: Any) -> Any:
    with _lock:
        return _principals.get(key)


def generation() -> int:
    return _generation


def put(key: Any, principal: Any, read_at_generation: int) -> None:
    with _lock:
        if _generation == read_at_generation:
            _principals[key] = principal


def purge(*, user_id: int | None = None, token_id: int | None = None) -> None:
    """Forget cached principals of that user (or that token)."""
    global _generation
    with _lock:
        _generation += 1
        for key, who in list(_principals.items()):
            if (user_id is not None and who.user_id == user_id) or \
                    (token_id is not None and who.token_id == token_id):
                del _principals[key]


def purge_after_commit(conn: Connection, *, user_id: int | None = None,
                       token_id: int | None = None) -> None:
    """Purge once this transaction commits (and, as a precaution, now as well)."""
    purge(user_id=user_id, token_id=token_id)
    hooks = conn.info.get("after_commit")
    if hooks is not None:
        hooks.append(lambda: purge(user_id=user_id, token_id=token_id))
