"""The server's event loop keeps serving streams while consoles write and administrators hash.

A console handler that ran its database work (or an argon2 hash) on the event loop stalled every
event stream of the process for as long as it ran: one admin user-create held it for 863 ms. The
server samples its own loop's lag (`siaga112_event_loop_lag_seconds` on /metrics); here it runs as
its own process, as in production, while call-takers save incidents and an administrator creates
users through the console forms.
"""
from __future__ import annotations

import re
import threading
import uuid

import httpx

from support import start_server

PASSWORD = "rahasia-112"
PENAJAM = {"lat": -1.2563, "lon": 116.7684}  # Kelurahan Penajam
LAG_BUCKETS = re.compile(r'^siaga112_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', re.M)


def _console(base_url: str, username: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base_url, timeout=30, follow_redirects=True)
    page = client.post("/login", data={"username": username, "password": PASSWORD})
    assert page.status_code == 200, page.status_code
    match = re.search(r'data-csrf="([^"]+)"', page.text) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the console page carries no CSRF token"
    return client, match.group(1)


def _save_incidents(base_url: str, count: int, failures: list[str]) -> None:
    client, csrf = _console(base_url, "call_taker")
    try:
        for n in range(count):
            r = client.post("/konsol/panggilan/insiden", headers={"HX-Request": "true",
                                                                   "X-CSRF-Token": csrf}, data={
                "channel": "call", "phone": f"0812{n:08d}", "description": "rumah terbakar",
                "type_code": "FIRE-BLDG", "lat": str(PENAJAM["lat"]), "lon": str(PENAJAM["lon"]),
                "form_key": uuid.uuid4().hex})
            if r.status_code != 201:
                failures.append(f"incident {n}: {r.status_code}")
    finally:
        client.close()


def _create_users(base_url: str, count: int, failures: list[str]) -> None:
    client, csrf = _console(base_url, "admin")
    try:
        for n in range(count):
            r = client.post("/konsol/admin/pengguna", headers={"HX-Request": "true",
                                                                 "X-CSRF-Token": csrf}, data={
                "username": f"operator-{uuid.uuid4().hex[:8]}", "full_name": "Operator Baru",
                "role": "call_taker"})
            if r.status_code != 201:
                failures.append(f"user {n}: {r.status_code}")
    finally:
        client.close()


def _lag_histogram(base_url: str) -> dict[float, float]:
    text = httpx.get(f"{base_url}/metrics", timeout=10,
                     headers={"Authorization": "Bearer metrik-uji"}).text
    return {float(le): float(count) for le, count in LAG_BUCKETS.findall(text)}


def test_console_writes_and_password_hashing_leave_the_loop_free(database_url, tmp_path):
    # Ahead of the rest of the machine: what is measured is the loop's own work, not how busy
    # the other tests (or other people's processes) keep the two cores.
    server, base = start_server(database_url, tmp_path, high_priority=True,
                                env={"SIAGA112_LOOP_LAG_PROBE_SECONDS": "0.005",
                                     "SIAGA112_METRICS_TOKEN": "metrik-uji"})
    try:
        before = _lag_histogram(base)
        failures: list[str] = []
        writers = [threading.Thread(target=_save_incidents, args=(base, 40, failures)),
                   threading.Thread(target=_create_users, args=(base, 3, failures))]
        for w in writers:
            w.start()
        for w in writers:
            w.join(timeout=120)
        after = _lag_histogram(base)
    finally:
        server.terminate()
        server.wait(timeout=20)

    assert not failures, failures
    samples = after[float("inf")] - before[float("inf")]
    within_50ms = after[0.05] - before[0.05]
    assert samples > 50, f"only {samples} lag samples"
    late = samples - within_50ms
    # p99 under 50 ms: at most one sample in a hundred fired more than 50 ms late.
    assert late <= samples / 100, (
        f"{late:.0f} of {samples:.0f} loop samples were over 50 ms late while consoles wrote; "
        f"histogram {after}")
