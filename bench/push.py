"""Push benchmark: N dispatcher screens on the event stream while incidents arrive at a fixed rate.

Latency per screen and incident = time the `incident.created` frame is read by that screen minus
the incident's `created_at` (client and server share this machine's clock). Also reports the
server's CPU time and peak memory (RSS) over the run.

    python bench/push.py --clients 500 --rate 20 --duration 30 --spawn sqlite
    python bench/push.py --clients 500 --rate 20 --duration 30 --spawn postgresql
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import time
import uuid
from datetime import datetime
from pathlib import Path

import aiohttp

from intake import percentile, spawned_server  # same folder

HERE = Path(__file__).resolve().parent


def proc_stats(pid: int) -> tuple[float, int]:
    """(CPU seconds, RSS bytes) of a process and its children (uvicorn workers)."""
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    cpu, rss = 0.0, 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            rss += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except FileNotFoundError:
            pass
    return cpu, rss


async def screen(session: aiohttp.ClientSession, token: str, latencies: list[float],
                 ready: asyncio.Event, counter: list[int], clients: int) -> None:
    """One dispatcher screen; frames are split on blank lines, only incident.created is timed."""
    async with session.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"},
                           timeout=aiohttp.ClientTimeout(total=None, sock_read=None)) as r:
        assert r.status == 200, r.status
        buffer = b""
        async for chunk in r.content.iter_any():
            now = time.time()
            buffer += chunk
            *frames, buffer = buffer.split(b"\n\n")
            for frame in frames:
                if frame.startswith(b"retry:"):
                    counter[0] += 1
                    if counter[0] == clients:
                        ready.set()
                elif b"\nevent: incident.created\n" in frame:
                    data = json.loads(frame.split(b"\ndata: ", 1)[1])
                    latencies.append((now - datetime.fromisoformat(data["updated_at"]).timestamp()) * 1000)


async def run(url: str, token: str, sender: str, clients: int, rate: float, duration: float,
              server_pid: int | None) -> dict:
    latencies: list[float] = []
    ready = asyncio.Event()
    counter = [0]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(url, connector=connector) as session:
        tasks = [asyncio.create_task(screen(session, token, latencies, ready, counter, clients))
                 for _ in range(clients)]
        await asyncio.wait_for(ready.wait(), timeout=60)
        before = proc_stats(server_pid) if server_pid else None
        client_before = time.process_time()
        peak_rss = before[1] if before else 0
        total = int(rate * duration)
        start = time.perf_counter()
        errors = 0
        for i in range(total):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            body = {"channel": "call", "description": f"rumah terbakar (bench {i})", "type_code": "FIRE-BLDG",
                    "location": {"lat": -1.2563 + random.uniform(-0.05, 0.05),
                                 "lon": 116.7684 + random.uniform(-0.05, 0.0)}}
            async with session.post("/api/v1/incidents", json=body,
                                    headers={"Authorization": f"Bearer {sender}",
                                             "Idempotency-Key": uuid.uuid4().hex}) as r:
                errors += r.status != 201
            if server_pid and i % 10 == 0:
                peak_rss = max(peak_rss, proc_stats(server_pid)[1])
        expected = total * clients
        deadline = time.perf_counter() + 10
        while len(latencies) < expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - start
        after = proc_stats(server_pid) if server_pid else None
        client_cpu = (time.process_time() - client_before) / elapsed * 100
        for t in tasks:
            t.cancel()
    result = {"clients": clients, "incidents": total, "post_errors": errors,
              "deliveries": len(latencies), "expected_deliveries": expected,
              "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
              "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
              "max_ms": round(max(latencies), 1) if latencies else None,
              # The screens run in this one Python process: near 100 % means the client, not the
              # server, sets the latency.
              "client_cpu_percent": round(client_cpu, 1)}
    if before and after:
        result["server_cpu_percent"] = round((after[0] - before[0]) / elapsed * 100, 1)
        result["server_peak_rss_mb"] = round(peak_rss / 2**20, 1)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--rate", type=float, default=20)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--url", default="http://127.0.0.1:8112")
    p.add_argument("--token", help="token of the screens: a DAMKAR dispatcher's (or a commander's)")
    p.add_argument("--sender-token", help="token that creates the incidents (a call-taker's)")
    p.add_argument("--spawn", choices=["sqlite", "postgresql"])
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--port", type=int, default=8197)
    args = p.parse_args()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if args.spawn:
        with spawned_server(args.spawn, args.port, args.workers, role="dispatcher",
                            agency="DAMKAR") as (url, token, pid):
            sender = os.environ["BENCH_CALL_TAKER_TOKEN"]
            result = asyncio.run(run(url, token, sender, args.clients, args.rate, args.duration, pid))
    else:
        result = asyncio.run(run(args.url, args.token, args.sender_token, args.clients, args.rate,
                                 args.duration, None))
    print({"backend": args.spawn or args.url, "rate": args.rate, "duration_s": args.duration,
           "workers": args.workers, "machine": machine, **result})


if __name__ == "__main__":
    main()
