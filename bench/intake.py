"""Intake benchmark: create incidents at a fixed rate (open loop) and report latency.

Latency is measured from each request's *scheduled* send time, so a stalled server cannot hide
its queueing delay (no coordinated omission).

    python bench/intake.py --rate 100 --duration 30 --url http://127.0.0.1:8112 --token TOKEN
    python bench/intake.py --rate 100 --duration 30 --spawn sqlite       # starts its own server
    python bench/intake.py --rate 100 --duration 30 --spawn postgresql
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DESCRIPTIONS = [
    ("rumah warga terbakar, api besar", "FIRE-BLDG"), ("motor tabrakan dengan truk di km 12", None),
    ("banjir setinggi lutut masuk rumah", None), ("bapak saya pingsan tidak sadar", None),
    ("pohon tumbang menutup jalan", "STORM-TREE"), ("ada ular besar masuk dapur", None),
    ("ibu mau melahirkan ketuban pecah", "MATERNAL"), ("pipa pdam pecah air muncrat", None),
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def body(i: int) -> dict:
    text, type_code = random.choice(DESCRIPTIONS)
    lat, lon = -1.2563 + random.uniform(-0.08, 0.08), 116.7684 + random.uniform(-0.08, 0.02)
    out = {"channel": "call", "caller": {"phone": f"08{random.randint(1100000000, 1399999999)}"},
           "description": f"{text} (bench {i})", "location": {"lat": lat, "lon": lon}}
    if type_code:
        out["type_code"] = type_code
    return out


async def run(url: str, token: str, rate: float, duration: float, connections: int = 32,
              warmup: float = 0.0) -> dict:
    """Open loop: request i is due at start + i/rate, whatever happened to the ones before.

    The first `warmup` seconds run at the same rate and are not counted (connection pools fill,
    caches warm, worker processes finish importing).
    """
    skip = int(rate * warmup)
    total = int(rate * (duration + warmup))
    latencies: list[float] = []
    errors: dict[str, int] = {}
    by_window: dict[int, list[float]] = {}
    # aiohttp rather than httpx here: the load generator shares the two cores with the server,
    # and httpx's client costs several times more CPU per request.
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(url, connector=connector,
                                     headers={"Authorization": f"Bearer {token}"},
                                     timeout=aiohttp.ClientTimeout(total=30)) as client:
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            try:
                async with client.post("/api/v1/incidents", json=body(i),
                                       headers={"Idempotency-Key": uuid.uuid4().hex}) as r:
                    await r.read()
                    if r.status != 201:
                        errors[str(r.status)] = errors.get(str(r.status), 0) + 1
                        return
            except (TimeoutError, aiohttp.ClientError) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            if i < skip:
                return
            latencies.append((time.perf_counter() - scheduled) * 1000)
            by_window.setdefault(int((i - skip) / rate // 5), []).append(latencies[-1])

        await asyncio.gather(*(one(i) for i in range(total)))
        elapsed = time.perf_counter() - start - warmup
    return {
        "requests": total - skip, "ok": len(latencies), "errors": errors,
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "p90_ms": round(percentile(latencies, 90), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "p99_ms_per_5s": [round(percentile(v, 99), 1) for _, v in sorted(by_window.items())],
    }


@contextmanager
def spawned_server(backend: str, port: int, workers: int, role: str = "call_taker",
                   agency: str | None = None):
    """A throwaway database and a `siaga112 serve` on it; yields (url, token, server pid)."""
    workdir = Path(tempfile.mkdtemp(prefix="siaga-bench-"))
    env = dict(os.environ, SIAGA112_VAR_DIR=str(workdir / "var"), SIAGA112_LOG_LEVEL="WARNING")
    dbname = None
    if backend == "sqlite":
        env["SIAGA112_DATABASE_URL"] = f"sqlite:///{workdir}/bench.db"
    else:
        dbname = f"siaga_bench_{os.getpid()}"
        admin = os.environ.get("SIAGA112_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {dbname}"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {dbname}"], check=True)
        env["SIAGA112_DATABASE_URL"] = admin.rsplit("/", 1)[0] + "/" + dbname
    cli = str(BIN / "siaga112")
    subprocess.run([cli, "seed"], env=env, check=True, cwd=workdir, capture_output=True)
    subprocess.run([cli, "user", "add", "bench", "--role", role,
                    *(["--agency", agency] if agency else [])], input="bench-password\n",
                   text=True, env=env, check=True, cwd=workdir, capture_output=True)
    if role != "call_taker":  # the load itself is sent by a call-taker
        subprocess.run([cli, "user", "add", "bench-ct", "--role", "call_taker"], input="bench-password\n",
                       text=True, env=env, check=True, cwd=workdir, capture_output=True)
        env["BENCH_CALL_TAKER_TOKEN"] = subprocess.run(
            [cli, "token", "add", "bench-ct"], env=env, check=True, cwd=workdir, capture_output=True,
            text=True).stdout.strip().splitlines()[-1]
        os.environ["BENCH_CALL_TAKER_TOKEN"] = env["BENCH_CALL_TAKER_TOKEN"]
    token = subprocess.run([cli, "token", "add", "bench"], env=env, check=True, cwd=workdir,
                           capture_output=True, text=True).stdout.strip().splitlines()[-1]
    server = subprocess.Popen([cli, "serve", "--port", str(port), "--workers", str(workers)],
                              env=env, cwd=workdir, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("server did not come up")
            time.sleep(0.2)
        yield url, token, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
        if dbname:
            subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=100)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--url", default="http://127.0.0.1:8112")
    p.add_argument("--token")
    p.add_argument("--spawn", choices=["sqlite", "postgresql"])
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--port", type=int, default=8199)
    p.add_argument("--warmup", type=float, default=5.0, help="seconds at the same rate, not counted")
    args = p.parse_args()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if args.spawn:
        with spawned_server(args.spawn, args.port, args.workers) as (url, token, _):
            result = asyncio.run(run(url, token, args.rate, args.duration, warmup=args.warmup))
    else:
        if not args.token:
            p.error("--token is required without --spawn")
        result = asyncio.run(run(args.url, args.token, args.rate, args.duration, warmup=args.warmup))
    print({"backend": args.spawn or args.url, "rate": args.rate, "duration_s": args.duration,
           "warmup_s": args.warmup,
           "workers": args.workers, "machine": machine, **result})


if __name__ == "__main__":
    main()
