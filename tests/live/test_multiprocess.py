"""Several server processes on one PostgreSQL: an incident made through one reaches a screen
connected to another, through LISTEN/NOTIFY."""
from __future__ import annotations

import httpx

from support import SSEStream, start_server


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


def test_an_event_that_commits_late_is_delivered_not_skipped(pg_database_url, tmp_path, templates):
    import threading

    import uvicorn

    from siaga112.app import create_app
    from siaga112.bootstrap import build_context
    from siaga112.config import Settings
    from siaga112.events import record_event
    from siaga112.events.payloads import NumberBlockChanged

    def marked(which: str) -> NumberBlockChanged:
        return NumberBlockChanged(block_id=1, phone_masked=None, status=which, counts=None,
                                  expires_at=None)

    settings = Settings(database_url=pg_database_url, var_dir=tmp_path, escalation_interval_seconds=0)
    ctx = build_context(settings, prepare=False)
    sock = __import__("socket").socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings, context=ctx), log_level="warning",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    stream = SSEStream(f"http://127.0.0.1:{sock.getsockname()[1]}", templates["postgresql"].tokens["commander"])
    try:
        # The slow transaction takes its event id first but commits second.
        slow = ctx.db.engine.connect()
        slow_tx = slow.begin()
        record_event(slow, ctx.db, marked("slow"))
        with ctx.db.transaction() as fast:
            record_event(fast, ctx.db, marked("fast"))
        first = stream.next(timeout=10)
        slow_tx.commit()
        slow.close()
        second = stream.next(timeout=10)
        assert first["data"]["status"] == "fast" and second["data"]["status"] == "slow"
        assert second["id"] == first["id"] + 1
        resumed = SSEStream(f"http://127.0.0.1:{sock.getsockname()[1]}",
                            templates["postgresql"].tokens["commander"], last_event_id=first["id"])
        assert resumed.next(timeout=10)["data"]["status"] == "slow"
        resumed.close()
    finally:
        stream.close()
        server.should_exit = True
        thread.join(10)
        ctx.db.dispose()
