"""Starting against a database that is not there yet: wait with backoff, then say so plainly."""
from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from siaga112.db import normalise_url, postgresql_connect_args

log = structlog.get_logger(__name__)


class DatabaseNotReached(Exception):
    """The database did not answer within the start-up wait."""


def where(url: str) -> str:
    """The database's address for messages: never the password."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return f"SQLite file {parsed.database}"
    return f"PostgreSQL at {parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def wait_for_database(url: str, *, wait_seconds: float, timeout: float,
                      sleep: Callable[[float], None] = time.sleep) -> None:
    """Return once the database answers; retry with backoff (1, 2, 4 … 10 s) for up to
    `wait_seconds`, one log line per failed try; then raise DatabaseNotReached."""
    started = time.monotonic()
    attempt, delay = 0, 1.0
    while True:
        attempt += 1
        error = _try_once(url, timeout)
        if error is None:
            if attempt > 1:
                log.info("database_reached", attempt=attempt, database=where(url))
            return
        waited = time.monotonic() - started
        remaining = wait_seconds - waited
        log.warning("database_unreachable", attempt=attempt, database=where(url), error=error,
                    retry_in_seconds=round(min(delay, remaining), 1) if remaining > 0 else None)
        if remaining <= 0:
            raise DatabaseNotReached(
                f"cannot reach the database ({where(url)}) after {attempt} tries in {waited:.0f} s: "
                f"{error}. Check SIAGA112_DATABASE_URL and that the database is running; "
                f"SIAGA112_DB_START_WAIT_SECONDS sets how long to wait.")
        sleep(min(delay, remaining))
        delay = min(delay * 2, 10.0)


def _try_once(url: str, timeout: float) -> str | None:
    """None when the database answered, else a one-line reason (no data, no password)."""
    try:
        normalised = normalise_url(url)
        connect_args = ({"timeout": timeout} if normalised.startswith("sqlite")
                        else postgresql_connect_args(timeout))
        engine = create_engine(normalised, connect_args=connect_args, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 — any failure to connect is a reason to wait
        cause = getattr(exc, "orig", None) or exc
        first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        return f"{type(cause).__name__}: {first_line}"[:300]
    return None

