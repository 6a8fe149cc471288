"""`serve --no-workers` leaves deadlines to `siaga112 worker`, a process of its own (so sending
texts no longer shares the server's CPU with intake); the worker escalates what is overdue and
stops cleanly on SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from support import start_server

SIAGA112 = str(Path(sys.executable).parent / "siaga112")


def _escalated(base: str, incident_id: str, headers: dict) -> list[str]:
    view = httpx.get(f"{base}/api/v1/incidents/{incident_id}", headers=headers, timeout=10).json()
    return sorted(t["agency_code"] for t in view["timeline"] if t["kind"] == "escalated")


def test_deadlines_wait_for_the_worker_when_serve_runs_without_workers(fast_sop_database, tmp_path,
                                                                         incident_body):
    url, tokens = fast_sop_database
    call_taker = {"Authorization": f"Bearer {tokens['call_taker']}"}
    commander = {"Authorization": f"Bearer {tokens['commander']}"}
    server, base = start_server(url, tmp_path, args=("--no-workers",))
    worker = None
    try:
        incident = httpx.post(f"{base}/api/v1/incidents", json=incident_body(), headers=call_taker,
                              timeout=30).json()
        # P1: 1 s to acknowledge; the server alone never escalates it.
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            assert _escalated(base, incident["id"], commander) == []
            time.sleep(0.5)  # watching for something that must not happen

        env = dict(os.environ, SIAGA112_DATABASE_URL=url, SIAGA112_VAR_DIR=str(tmp_path / "var"))
        worker = subprocess.Popen([SIAGA112, "worker"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not (seen := _escalated(base, incident["id"], commander)) and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            time.sleep(0.3)  # polling for the worker's first rounds
        lead = incident["assignments"][0]["agency_code"]
        assert seen and lead in seen

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
        out, err = worker.communicate()
        assert "Traceback" not in err
        assert '"worker_started"' in out
    finally:
        if worker and worker.poll() is None:
            worker.kill()
        server.terminate()
        server.wait(timeout=20)
