"""A full disk: writes answer 507 (JSON, one log line), /readyz says not ready (before: 200 while
every write failed), reads and /healthz go on, and everything works again once space is freed.

SQLite on a small tmpfs of its own (root may mount one; CI runs as root). PostgreSQL's disk-full
error (SQLSTATE 53100) takes the same path, see test_failure_kinds.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import httpx
import pytest

from support import start_server


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs (the test needs root): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path) -> None:
    """Take every free byte of the file system."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)


def test_sqlite_full_disk_answers_507_and_recovers(templates, small_disk, tmp_path, incident_body):
    tokens = templates["sqlite"].tokens
    db = small_disk / "siaga112.db"
    shutil.copyfile(templates["sqlite"].url.removeprefix("sqlite:///"), db)
    auth = {"Authorization": f"Bearer {tokens['call_taker']}"}
    server, base = start_server(f"sqlite:///{db}", tmp_path)
    try:
        first = httpx.post(f"{base}/api/v1/incidents", json=incident_body(), headers=auth, timeout=10)
        assert first.status_code == 201
        _fill(small_disk / "filler")

        write = httpx.post(f"{base}/api/v1/incidents", json=incident_body(), headers=auth, timeout=10)
        assert write.status_code == 507, write.text
        assert write.headers["content-type"].startswith("application/json")
        assert "disk" in write.json()["detail"]
        ready = httpx.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 507
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        # What was saved before is still served (a read that records who saw a caller's data
        # is refused: it is audited before it is shown).
        listed = httpx.get(f"{base}/api/v1/incidents", headers=auth, timeout=10)
        assert listed.status_code == 200, listed.text
        assert first.json()["id"] in [i["id"] for i in listed.json()["items"]]

        (small_disk / "filler").unlink()
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        again = httpx.post(f"{base}/api/v1/incidents", json=incident_body(), headers=auth, timeout=10)
        assert again.status_code == 201
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert '"database_disk_full"' in server.log_path.read_text()
    assert "Traceback" not in server.stderr.read().decode()
