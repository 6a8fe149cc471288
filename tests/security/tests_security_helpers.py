"""Helpers shared by the security tests."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select, text

from siaga112.models import audit_log

API = "/api/v1"
SIAGA112 = Path(sys.executable).parent / "siaga112"


def create(actor, body, **kw):
    response = actor.post(f"{API}/incidents", json=body, **kw)
    assert response.status_code == 201, response.text
    return response.json()


def seal_all(ctx) -> None:
    """Chain what is committed (PostgreSQL seals after commit, about once a second)."""
    from siaga112.audit.service import CHAIN_LOCK, seal

    with ctx.db.transaction() as conn:
        if conn.dialect.name == "postgresql":
            # Wait for the server's own sealer, if it is sealing now, instead of finding the lock
            # taken (seal() only tries it); the lock is re-entrant within this transaction.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})")
        assert seal(conn) is not None


def entries(ctx, *, target: str | None = None) -> list:
    seal_all(ctx)
    query = select(audit_log).order_by(audit_log.c.id)
    if target:
        query = query.where(audit_log.c.target_id == target)
    with ctx.db.transaction(write=False) as conn:
        return conn.execute(query).all()


def drop_append_only(ctx) -> None:
    """What an intruder with the database owner's rights can do; the chain must still tell."""
    with ctx.db.transaction() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
            conn.execute(text("DROP TRIGGER audit_log_seal_only ON audit_log"))


def cli(args: list[str], database_url: str, tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA112_")}
    # The audit key is the one the test's own context signs with (tests/conftest.py).
    env.update(SIAGA112_DATABASE_URL=database_url, SIAGA112_VAR_DIR=str(tmp_path / "var"),
               SIAGA112_AUDIT_KEY=os.environ["SIAGA112_AUDIT_KEY"])
    return subprocess.run([str(SIAGA112), *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
