"""The server's event loop keeps serving streams while consoles write and administrators hash.

A console handler that ran its database work (or an argon2 hash) on the event loop stalled every
event stream of the process for as long as it ran: one admin user-create held it for 863 ms. The
server samples its own loop's lag (`siaga112_event_loop_lag_seconds` on /metrics); here it runs as
its own process, as in production, while call-takers save incidents and an administrator creates
users through the console forms. An idle loop in a process beside it measures what the machine
alone does to any loop at the same time, so a busy machine is not counted against the server.
"""
from __future__ import annotations

import math
import re
import signal
import subprocess
import sys
import threading
import uuid

import httpx

from support import raise_priority, start_server

PASSWORD = "rahasia-112"
PENAJAM = {"lat": -1.2563, "lon": 116.7684}  # Kelurahan Penajam
PROBE_SECONDS = 0.02
LATE_SECONDS = 0.05

# The same probe as the server's, in a process that does nothing else: how late the machine alone
# (the other tests, other people's processes) wakes an idle event loop during the measurement.
CONTROL_LOOP = f"""
import asyncio, signal, time
async def main():
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    samples = late = 0
    while not stopped.is_set():
        start = time.perf_counter()
        await asyncio.sleep({PROBE_SECONDS})
        samples += 1
        late += time.perf_counter() - start - {PROBE_SECONDS} > {LATE_SECONDS}
    print(samples, late, flush=True)
asyncio.run(main())
"""
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
                                env={"SIAGA112_LOOP_LAG_PROBE_SECONDS": str(PROBE_SECONDS),
                                     "SIAGA112_METRICS_TOKEN": "metrik-uji"})
    control = subprocess.Popen([sys.executable, "-c", CONTROL_LOOP], stdout=subprocess.PIPE, text=True,
                               preexec_fn=raise_priority)
    try:
        before = _lag_histogram(base)
        failures: list[str] = []
        writers = [threading.Thread(target=_save_incidents, args=(base, 40, failures)),
                   threading.Thread(target=_create_users, args=(base, 6, failures))]
        for w in writers:
            w.start()
        for w in writers:
            w.join(timeout=120)
        after = _lag_histogram(base)
    finally:
        control.send_signal(signal.SIGTERM)
        control_samples, control_late = map(int, control.communicate(timeout=20)[0].split())
        server.terminate()
        server.wait(timeout=20)

    assert not failures, failures
    samples = after[float("inf")] - before[float("inf")]
    late = samples - (after[LATE_SECONDS] - before[LATE_SECONDS])
    assert control_samples > 50, f"only {control_samples} samples of the idle loop"
    report = (f"server loop: {late:.0f} of {samples:.0f} samples over 50 ms late; an idle loop "
              f"beside it: {control_late} of {control_samples}; histogram {after}")
    # A loop held by a handler runs its probe less often than an idle one beside it (every
    # stall is one long sample): this holds however busy the machine is.
    assert samples >= 0.8 * control_samples, report
    # p99 under 50 ms: at most one sample in a hundred fired more than 50 ms late, beyond the
    # share the idle loop saw late at the same time (none on a quiet machine; a busy one wakes
    # every loop late now and then, and that is not the server's doing) and its sampling error.
    machine = control_late / control_samples
    noise = 3 * math.sqrt(machine * (1 - machine) * (1 / samples + 1 / control_samples))
    assert late / samples <= 0.01 + machine + noise, report
