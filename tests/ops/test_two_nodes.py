"""Two `serve --no-workers` nodes (separate processes on separate ports, as separate machines
would be) behind HAProxy, one `siaga112 worker`, one PostgreSQL: the configuration of
docs/deployment.md. A node is killed (SIGKILL) while call-takers keep saving incidents through
the balancer: no acknowledged incident is lost or doubled, a dispatcher's stream reconnects to the
other node and resumes from Last-Event-ID without a gap or a repeat, and login throttling counts
failures made on either node against the client's own address, never the balancer's."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from support import SSEStream, free_port, start_server

SIAGA112 = str(Path(sys.executable).parent / "siaga112")

HAPROXY_CFG = """
global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout http-request 10s
    timeout client 30s
    timeout server 30s
    timeout tunnel 1h
    option http-buffer-request
    option forwardfor
    retries 3
    option redispatch
frontend siaga112
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
    http-response set-header X-Served-By %[srv_name]
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fall 1 rise 2
    server node1 127.0.0.1:{node1} check
    server node2 127.0.0.1:{node2} check
"""


def _haproxy() -> str:
    path = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(path).exists():
        pytest.fail("haproxy not found: apt-get install haproxy (.ci/run installs it)")
    return path


def _port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def test_a_node_killed_under_load_loses_nothing(pg_database_url, templates, tmp_path, incident_body):
    tokens = templates["postgresql"].tokens
    call_taker = {"Authorization": f"Bearer {tokens['call_taker']}"}
    env = dict(os.environ, SIAGA112_DATABASE_URL=pg_database_url, SIAGA112_VAR_DIR=str(tmp_path / "var"),
               SIAGA112_LOG_LEVEL="WARNING")
    worker = subprocess.Popen([SIAGA112, "worker"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    # Two free failures, then a wait far longer than the test: no race with the clock.
    lockout = {"SIAGA112_LOGIN_FREE_FAILURES_PER_PAIR": "2", "SIAGA112_LOGIN_BASE_DELAY_SECONDS": "600",
               "SIAGA112_TRUSTED_PROXIES": "127.0.0.1"}  # the balancer's address
    node1, base1 = start_server(pg_database_url, tmp_path, args=("--no-workers",), env=lockout)
    node2, base2 = start_server(pg_database_url, tmp_path, args=("--no-workers",), env=lockout)
    port = free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(HAPROXY_CFG.format(port=port, node1=_port_of(base1), node2=_port_of(base2)))
    balancer = subprocess.Popen([_haproxy(), "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
    front = f"http://127.0.0.1:{port}"
    streams: list[SSEStream] = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{front}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)  # polling the balancer while it starts

        # Failed logins are counted in the database, against the client's address: a stranger's
        # two wrong passwords (one on each node) hold the stranger back on both nodes, and never
        # the owner, though both come through the same balancer.
        stranger = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.3"), timeout=10)
        owner = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=10)
        served = set()
        for _ in range(2):
            failed = stranger.post(f"{front}/login", data={"username": "commander", "password": "salah"})
            assert failed.status_code == 401
            served.add(failed.headers["x-served-by"])
        assert served == {"node1", "node2"}
        held = stranger.post(f"{front}/login", data={"username": "commander", "password": "rahasia-112"})
        assert held.status_code == 429
        welcome = owner.post(f"{front}/login", data={"username": "commander", "password": "rahasia-112"},
                             follow_redirects=False)
        assert welcome.status_code == 303, "the owner was held back by a stranger's failures"

        # A DAMKAR dispatcher watches through the balancer; every house fire is assigned to DAMKAR.
        stream = SSEStream(front, tokens["damkar"])
        streams.append(stream)
        # The node to kill is the one holding the stream.
        victim, survivor = ((node1, node2) if stream._response.headers["x-served-by"] == "node1"
                            else (node2, node1))
        acknowledged: list[str] = []
        took: list[float] = []
        retries = [0]
        stop = threading.Event()
        problems: list[str] = []

        def call_taker_saves() -> None:
            with httpx.Client(base_url=front, headers=call_taker, timeout=10) as client:
                while not stop.is_set():
                    key = uuid.uuid4().hex
                    started = time.monotonic()
                    for attempt in range(20):  # a console retries with the same key
                        retries[0] += attempt > 0
                        try:
                            r = client.post("/api/v1/incidents", json=incident_body(),
                                            headers={"Idempotency-Key": key})
                        except httpx.HTTPError:
                            continue
                        if r.status_code in (200, 201):
                            acknowledged.append(r.json()["id"])
                            took.append(time.monotonic() - started)
                            break
                        if r.status_code not in (502, 503, 504):
                            problems.append(f"{r.status_code} {r.text[:200]}")
                            return
                    time.sleep(0.1)  # a call-taker's pace: ten incidents a second

        saver = threading.Thread(target=call_taker_saves)
        saver.start()
        while len(acknowledged) < 10:
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        killed_at = len(acknowledged)
        while len(acknowledged) < killed_at + 20 and not problems:
            time.sleep(0.05)
        stop.set()
        saver.join(timeout=60)
        assert problems == []
        print(f"\n{len(acknowledged)} incidents acknowledged, {retries[0]} retries, "
              f"slowest save {max(took):.2f} s, median {sorted(took)[len(took) // 2]:.3f} s")

        # Every acknowledged incident is there, once.
        with httpx.Client(base_url=front, headers={"Authorization": f"Bearer {tokens['commander']}"},
                          timeout=10) as client:
            for incident_id in acknowledged:
                assert client.get(f"/api/v1/incidents/{incident_id}").status_code == 200
        assert len(set(acknowledged)) == len(acknowledged)

        # The stream: read until it ends (its node died) or has everything; then reconnect from
        # the last id it saw, through the balancer, to the surviving node.
        seen: list[dict] = []
        wanted = set(acknowledged)
        created: set[str] = set()
        deadline = time.monotonic() + 60
        while not wanted <= created and time.monotonic() < deadline:
            event = stream.next(timeout=5)
            if event is None:
                stream = SSEStream(front, tokens["damkar"], last_event_id=seen[-1]["id"] if seen else None)
                streams.append(stream)
                continue
            seen.append(event)
            if event["event"] == "incident.created":
                created.add(event["data"]["id"])
        assert wanted <= created
        assert len(streams) >= 2  # the first stream ended with its node, and was resumed
        assert survivor.poll() is None
        ids = [e["id"] for e in seen]
        assert ids == sorted(ids) and len(ids) == len(set(ids))  # in order, none twice
    finally:
        for s in streams:
            s.close()
        balancer.terminate()
        worker.terminate()
        for proc in (node1, node2):
            if proc.poll() is None:
                proc.terminate()
        for proc in (balancer, worker, node1, node2):
            proc.wait(timeout=20)
