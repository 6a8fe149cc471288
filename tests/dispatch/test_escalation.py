"""Missed deadlines reach the command center exactly once, across restarts and racing workers."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from siaga112.app import create_app
from siaga112.bootstrap import build_context
from siaga112.config import Settings
from siaga112.db import utcnow
from siaga112.dispatch.escalation import escalate_overdue
from siaga112.models import event_log

API = "/api/v1"


def escalation_events(ctx) -> list:
    with ctx.db.transaction(write=False) as conn:
        return conn.execute(select(event_log).where(event_log.c.name == "assignment.escalated")
                            .order_by(event_log.c.id)).all()


def make_ctx(url, tmp_path):
    # Worker off: these tests drive the clock themselves.
    return build_context(Settings(database_url=url, var_dir=tmp_path, escalation_interval_seconds=0),
                         prepare=False)


def test_unacknowledged_assignments_escalate_once_even_after_a_restart(fast_sop_database, tmp_path,
                                                                       incident_body):
    url, tokens = fast_sop_database
    ctx = make_ctx(url, tmp_path)
    headers = {"Authorization": f"Bearer {tokens['call_taker']}"}
    with TestClient(create_app(ctx.settings, context=ctx)) as client:
        inc = client.post(f"{API}/incidents", json=incident_body(), headers=headers).json()
        assert client.post(f"{API}/incidents/{inc['id']}/assignments/DAMKAR/acknowledge",
                           headers={"Authorization": f"Bearer {tokens['damkar']}"}).status_code == 200
    created = datetime.fromisoformat(inc["created_at"])
    # Nothing is due yet (P1: 1 s to acknowledge).
    assert escalate_overdue(ctx, now=created + timedelta(seconds=0.5)) == 0
    ctx.db.dispose()

    restarted = make_ctx(url, tmp_path)  # a new process, same database
    assert escalate_overdue(restarted, now=created + timedelta(seconds=2)) == 3
    assert escalate_overdue(restarted, now=created + timedelta(seconds=3)) == 0
    events = escalation_events(restarted)
    assert sorted(e.data["agency_code"] for e in events) == ["BPBD", "DINKES", "PLN"]
    # The command centre sees escalations by its role; the stream of the command agency's own
    # dispatchers carries only what is assigned to BPBD, as its API does.
    assert all(e.data["reason"] == "not_acknowledged" and e.agencies == f" {e.data['agency_code']} "
               for e in events)
    with TestClient(create_app(restarted.settings, context=restarted)) as client:
        view = client.get(f"{API}/incidents/{inc['id']}",
                          headers={"Authorization": f"Bearer {tokens['commander']}"}).json()
    assert view["attention"] == "overdue"
    assert sorted(t["agency_code"] for t in view["timeline"] if t["kind"] == "escalated") == [
        "BPBD", "DINKES", "PLN"]
    restarted.db.dispose()


def test_a_unit_that_has_not_arrived_escalates(fast_sop_database, tmp_path, incident_body):
    url, tokens = fast_sop_database
    ctx = make_ctx(url, tmp_path)
    damkar = {"Authorization": f"Bearer {tokens['damkar']}"}
    with TestClient(create_app(ctx.settings, context=ctx)) as client:
        inc = client.post(f"{API}/incidents", json=incident_body(),
                          headers={"Authorization": f"Bearer {tokens['call_taker']}"}).json()
        unit = client.get(f"{API}/units", headers=damkar).json()[0]
        r = client.post(f"{API}/incidents/{inc['id']}/assignments/DAMKAR/dispatch",
                        json={"unit_id": unit["id"]}, headers=damkar)
        assert r.status_code == 200
    dispatched = datetime.fromisoformat(r.json()["updated_at"])
    escalate_overdue(ctx, now=dispatched + timedelta(seconds=1.5))  # the support agencies' acks
    before = {e.data["agency_code"] for e in escalation_events(ctx) if e.data["reason"] == "not_arrived"}
    assert before == set()
    assert escalate_overdue(ctx, now=dispatched + timedelta(seconds=3)) == 1
    arrived = [e for e in escalation_events(ctx) if e.data["reason"] == "not_arrived"]
    assert [e.data["agency_code"] for e in arrived] == ["DAMKAR"]
    ctx.db.dispose()


def test_racing_workers_escalate_each_deadline_exactly_once(fast_sop_database, tmp_path, incident_body):
    url, tokens = fast_sop_database
    ctx = make_ctx(url, tmp_path)
    with TestClient(create_app(ctx.settings, context=ctx)) as client:
        for _ in range(10):
            r = client.post(f"{API}/incidents", json=incident_body(),
                            headers={"Authorization": f"Bearer {tokens['call_taker']}"})
            assert r.status_code == 201
    later = utcnow() + timedelta(seconds=5)
    workers = [make_ctx(url, tmp_path) for _ in range(4)]  # four processes' worth of engines
    counts = [0] * len(workers)
    barrier = threading.Barrier(len(workers))

    def run(i):
        barrier.wait()
        counts[i] = escalate_overdue(workers[i], now=later)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 40  # 10 fires × 4 assignments
    events = escalation_events(ctx)
    keys = [(e.incident_id, e.data["agency_code"]) for e in events]
    assert len(keys) == len(set(keys)) == 40
    for w in workers:
        w.db.dispose()
    ctx.db.dispose()


def test_the_worker_escalates_live_on_the_stream(fast_sop_database, tmp_path, incident_body):
    import socket

    import uvicorn

    from support import SSEStream

    url, tokens = fast_sop_database
    settings = Settings(database_url=url, var_dir=tmp_path, escalation_interval_seconds=0.2)
    ctx = build_context(settings, prepare=False)
    app = create_app(settings, context=ctx)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    stream = SSEStream(base, tokens["bpbd"])
    try:
        import httpx

        inc = httpx.post(f"{base}{API}/incidents", json=incident_body(type_code="FLOOD", description="banjir"),
                         headers={"Authorization": f"Bearer {tokens['call_taker']}"}).json()
        seen = stream.until(lambda e: e["event"] == "assignment.escalated", timeout=10)
        escalated = seen[-1]["data"]
        assert escalated["incident_id"] == inc["id"] and escalated["agency_code"] == "BPBD"
    finally:
        stream.close()
        server.should_exit = True
        thread.join(10)
        ctx.db.dispose()


def test_a_reactivated_assignment_escalates_again(fast_sop_database, tmp_path, incident_body):
    url, tokens = fast_sop_database
    ctx = make_ctx(url, tmp_path)
    with TestClient(create_app(ctx.settings, context=ctx)) as client:
        inc = client.post(f"{API}/incidents", json=incident_body(),
                          headers={"Authorization": f"Bearer {tokens['call_taker']}"}).json()
        created = datetime.fromisoformat(inc["created_at"])
        assert escalate_overdue(ctx, now=created + timedelta(seconds=2)) == 4
        assert client.post(f"{API}/incidents/{inc['id']}/assignments/PLN/decline", json={"reason": "bukan kami"},
                           headers={"Authorization": f"Bearer {tokens['pln']}"}).status_code == 200
        again = client.post(f"{API}/incidents/{inc['id']}/assignments", json={"agency_code": "PLN", "reason": "cek lagi"},
                            headers={"Authorization": f"Bearer {tokens['commander']}"})
        assert again.status_code == 201
    asked = utcnow()
    assert escalate_overdue(ctx, now=asked + timedelta(seconds=2)) == 1
    assert [e.data["agency_code"] for e in escalation_events(ctx)].count("PLN") == 2
    ctx.db.dispose()
