"""What each database failure answers: busy or unreachable 503 with Retry-After, disk full 507,
and anything else (a bug, a broken rule) stays what it is."""
from __future__ import annotations

import time

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc

from siaga112.app import create_app
from siaga112.bootstrap import build_context
from siaga112.config import Settings
from siaga112.db import BUSY, DISK_FULL, UNAVAILABLE, database_failure


def _wrapped(error: Exception, cls=sa_exc.OperationalError) -> Exception:
    return cls("SELECT 1", {}, error)


@pytest.mark.parametrize(("error", "kind"), [
    (_wrapped(psycopg.errors.DiskFull("could not extend file: No space left on device")), DISK_FULL),
    (_wrapped(psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")), BUSY),
    (_wrapped(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")), BUSY),
    (_wrapped(psycopg.errors.TooManyConnections("too many clients")), BUSY),
    (_wrapped(psycopg.OperationalError("connection failed: Connection refused")), UNAVAILABLE),
    (_wrapped(__import__("sqlite3").OperationalError("database or disk is full")), DISK_FULL),
    (_wrapped(__import__("sqlite3").OperationalError("database is locked")), BUSY),
    (sa_exc.TimeoutError("QueuePool limit reached"), BUSY),
    # A standby: reads work, a write is refused.
    (_wrapped(psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
              sa_exc.InternalError), UNAVAILABLE),
    (_wrapped(psycopg.errors.AdminShutdown("terminating connection due to administrator command")),
     UNAVAILABLE),
    (_wrapped(psycopg.errors.UniqueViolation("duplicate key"), sa_exc.IntegrityError), None),
    (_wrapped(psycopg.errors.UndefinedColumn("no such column"), sa_exc.ProgrammingError), None),
    (ValueError("not a database failure"), None),
])
def test_kinds_of_database_failure(error, kind):
    assert database_failure(error) == kind


def test_a_row_locked_elsewhere_answers_503_busy_within_the_bound(pg_database_url, templates, tmp_path,
                                                                  incident_body):
    settings = Settings(database_url=pg_database_url, var_dir=tmp_path / "var", db_timeout_seconds=1.0)
    ctx = build_context(settings, prepare=False)
    auth = {"Authorization": f"Bearer {templates['postgresql'].tokens['commander']}"}
    try:
        with TestClient(create_app(settings, context=ctx)) as client:
            incident = client.post("/api/v1/incidents", json=incident_body(), headers=auth).json()
            # A stuck script holds the incident's row (and never lets go within the bound).
            with psycopg.connect(pg_database_url) as holder:
                holder.execute("SELECT id FROM incidents WHERE id = %s FOR UPDATE", (incident["id"],))
                start = time.monotonic()
                moved = client.post(f"/api/v1/incidents/{incident['id']}/status",
                                    json={"status": "cancelled", "note": "uji"}, headers=auth)
                took = time.monotonic() - start
            assert moved.status_code == 503, moved.text
            assert moved.headers["Retry-After"] == "2"
            assert moved.json()["detail"].startswith("the database is busy")
            assert took < 3.0
            # Nothing was half-written; once the lock is gone the same move goes through.
            assert client.get(f"/api/v1/incidents/{incident['id']}", headers=auth).json()["status"] != "cancelled"
            again = client.post(f"/api/v1/incidents/{incident['id']}/status",
                                json={"status": "cancelled", "note": "uji"}, headers=auth)
            assert again.status_code == 200, again.text
    finally:
        ctx.db.dispose()
