"""A database that cannot serve becomes a clear answer (503 busy/unreachable, 507 disk full),
logged once per failed request, never a plain-text 500."""
from __future__ import annotations

import structlog

from siaga112.db import BUSY, DISK_FULL, database_failure
from siaga112.errors import InsufficientStorage, ServiceUnavailable
from siaga112.metrics import DB_ERRORS
from siaga112.ops.guard import loggable_path

log = structlog.get_logger(__name__)

# Seconds a client should wait before trying again, by kind: a lock or a full pool clears in a
# moment; a database that went away takes a restart; a full disk takes an operator.
RETRY_AFTER = {BUSY: 2, "unavailable": 5, DISK_FULL: 60}
MESSAGES = {
    BUSY: "the database is busy; nothing was saved, try again shortly",
    "unavailable": "the database is unreachable; nothing was saved, try again shortly",
    DISK_FULL: "the database's disk is full; nothing was saved until an operator frees space",
}


def as_domain_error(error: BaseException, *, path: str) -> ServiceUnavailable | None:
    """The answer for a database failure (and one log line saying which), or None when `error`
    is something else (a bug stays a 500)."""
    kind = database_failure(error)
    if kind is None:
        return None
    DB_ERRORS.labels(kind=kind).inc()
    cause = getattr(error, "orig", None) or error
    # The class and SQLSTATE say what happened; the message may quote data, so it stays out.
    log.error("database_" + kind, path=loggable_path(path), error=type(cause).__name__,
              sqlstate=getattr(cause, "sqlstate", None))
    if kind == DISK_FULL:
        return InsufficientStorage(MESSAGES[kind], RETRY_AFTER[kind])
    return ServiceUnavailable(MESSAGES[kind], RETRY_AFTER[kind])
