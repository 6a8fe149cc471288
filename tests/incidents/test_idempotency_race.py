"""Retries that race: 50 concurrent requests sharing 10 idempotency keys make exactly 10 incidents."""
from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx


def test_fifty_racing_requests_with_ten_keys_create_ten_incidents(live_server, tokens, incident_body):
    headers = {"Authorization": f"Bearer {tokens['call_taker']}"}
    jobs = [(f"race-{i % 10}", incident_body(description=f"kebakaran rumah nomor {i % 10}"))
            for i in range(50)]
    barrier = Barrier(len(jobs))

    def send(job):
        key, body = job
        with httpx.Client(base_url=live_server, headers=headers, timeout=30) as http:
            barrier.wait()
            r = http.post("/api/v1/incidents", json=body, headers={"Idempotency-Key": key})
            return key, r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(send, jobs))

    ids_per_key: dict[str, set[str]] = defaultdict(set)
    created = 0
    for key, status, body in results:
        assert status in (200, 201), body
        created += status == 201
        ids_per_key[key].add(body["id"])
    assert created == 10
    assert all(len(ids) == 1 for ids in ids_per_key.values())
    with httpx.Client(base_url=live_server, headers=headers) as http:
        listed = http.get("/api/v1/incidents", params={"limit": 100}).json()["items"]
    assert sorted(i["id"] for i in listed) == sorted(next(iter(s)) for s in ids_per_key.values())
