"""Several server processes on one PostgreSQL: an incident made through one reaches a screen
connected to another, through LISTEN/NOTIFY."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from conftest import SSEStream

SIAGA112 = str(Path(sys.executable).parent / "siaga112")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, tmp_path: Path, workers: int = 1):
    port = free_port()
    env = dict(os.environ, SIAGA112_DATABASE_URL=url, SIAGA112_VAR_DIR=str(tmp_path / "var"),
               SIAGA112_LOG_LEVEL="WARNING")
    proc = subprocess.Popen([SIAGA112, "serve", "--port", str(port), "--workers", str(workers)],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode())
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # polling a process that is starting up, not waiting out a race
    proc.kill()
    raise RuntimeError("server did not start")


def test_incident_created_on_one_process_reaches_a_stream_on_another(pg_database_url, tmp_path, templates,
                                                                     incident_body):
    tokens = templates["postgresql"].tokens
    a, base_a = start_server(pg_database_url, tmp_path)
    b, base_b = start_server(pg_database_url, tmp_path)
    try:
        stream = SSEStream(base_b, tokens["damkar"])
        r = httpx.post(f"{base_a}/api/v1/incidents", json=incident_body(),
                       headers={"Authorization": f"Bearer {tokens['call_taker']}"})
        assert r.status_code == 201
        seen = stream.until(lambda e: e["event"] == "incident.created", timeout=10)
        assert seen[-1]["data"]["id"] == r.json()["id"]
        stream.close()
    finally:
        for p in (a, b):
            p.terminate()
            p.wait(timeout=20)


def test_serve_with_four_workers_behind_one_port(pg_database_url, tmp_path, templates, incident_body):
    tokens = templates["postgresql"].tokens
    server, base = start_server(pg_database_url, tmp_path, workers=4)
    try:
        streams = [SSEStream(base, tokens["commander"]) for _ in range(6)]  # spread over workers
        ids = []
        for _ in range(4):
            r = httpx.post(f"{base}/api/v1/incidents", json=incident_body(),
                           headers={"Authorization": f"Bearer {tokens['call_taker']}"})
            assert r.status_code == 201
            ids.append(r.json()["id"])
        for s in streams:
            seen = s.until(lambda e: e["event"] == "incident.created" and e["data"]["id"] == ids[-1],
                           timeout=15)
            assert [e["data"]["id"] for e in seen if e["event"] == "incident.created"] == ids
            s.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
