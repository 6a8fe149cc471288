"""`siaga112 backup` while incidents keep arriving, and `siaga112 restore` into an empty database:
the restored database serves what the backup held (and nothing after it), every incident whole,
its audit chain verifies, and the tokens issued before the backup still work."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine, text

from support import start_server

SIAGA112 = str(Path(sys.executable).parent / "siaga112")
PG_ADMIN_URL = os.environ.get("SIAGA112_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _cli(url: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, SIAGA112_DATABASE_URL=url, SIAGA112_VAR_DIR=str(tmp_path / "var"))
    return subprocess.run([SIAGA112, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def _empty_database(database_url: str, tmp_path):
    """A new, empty database of the same kind; dropped afterwards (PostgreSQL)."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored' / 'siaga112.db'}", lambda: None
    name = f"siaga_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")

    def drop() -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


def test_backup_under_load_and_restore_round_trip(database_url, tokens, live_server, tmp_path, incident_body):
    auth = {"Authorization": f"Bearer {tokens['call_taker']}"}
    commander = {"Authorization": f"Bearer {tokens['commander']}"}
    before = httpx.post(f"{live_server}/api/v1/incidents", json=incident_body(), headers=auth, timeout=30).json()
    # Reading a caller's details is audited: the chain has entries to verify.
    assert httpx.get(f"{live_server}/api/v1/incidents/{before['id']}", headers=commander,
                     timeout=30).status_code == 200

    acknowledged: list[tuple[float, str]] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=live_server, headers=auth, timeout=30) as client:
            while not stop.is_set():
                r = client.post("/api/v1/incidents", json=incident_body(description="Kebakaran gudang"))
                assert r.status_code == 201, r.text
                acknowledged.append((time.monotonic(), r.json()["id"]))

    loader = threading.Thread(target=load)
    loader.start()
    try:
        while len(acknowledged) < 5:
            time.sleep(0.05)  # let the load get going
        backup_started = time.monotonic()
        file = tmp_path / "siaga112.backup"
        made = _cli(database_url, tmp_path, "backup", str(file))
    finally:
        stop.set()
        loader.join(timeout=60)
    assert made.returncode == 0, made.stderr
    assert file.exists() and not list(tmp_path.glob("*.partial"))
    after = httpx.post(f"{live_server}/api/v1/incidents", json=incident_body(), headers=auth, timeout=30).json()

    # Restoring over a database that holds data needs --replace.
    refused = _cli(database_url, tmp_path, "restore", str(file))
    assert refused.returncode == 1 and "--replace" in refused.stderr

    target, drop = _empty_database(database_url, tmp_path)
    try:
        restored = _cli(target, tmp_path, "restore", str(file))
        assert restored.returncode == 0, restored.stderr
        verified = _cli(target, tmp_path, "audit", "verify")
        assert verified.returncode == 0, verified.stderr
        assert "audit trail OK" in verified.stdout

        engine = create_engine(target.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            ids = set(conn.execute(text("SELECT id FROM incidents")).scalars())
            without_assignment = conn.execute(text(
                "SELECT count(*) FROM incidents i WHERE NOT EXISTS "
                "(SELECT 1 FROM assignments a WHERE a.incident_id = i.id)")).scalar_one()
        engine.dispose()
        # Everything acknowledged before the backup began is in it; every incident in it is whole.
        assert {i for t, i in acknowledged if t < backup_started} | {before["id"]} <= ids
        assert after["id"] not in ids
        assert without_assignment == 0

        server, base = start_server(target, tmp_path)
        try:
            # The call-taker's token from before the backup still works on the restored data.
            assert httpx.get(f"{base}/api/v1/incidents/{before['id']}", headers=commander,
                             timeout=30).status_code == 200
            assert httpx.get(f"{base}/api/v1/incidents/{after['id']}", headers=commander,
                             timeout=30).status_code == 404
            assert httpx.post(f"{base}/api/v1/incidents", json=incident_body(), headers=auth,
                              timeout=30).status_code == 201
        finally:
            server.terminate()
            server.wait(timeout=20)
    finally:
        drop()
