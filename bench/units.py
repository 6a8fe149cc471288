"""Units benchmark: recommendations among 2,000 units, 1,000 AVL position updates per second,
and the place search box over a few thousand landmarks.

Spawns a fresh server (SQLite or PostgreSQL), registers 2,000 DAMKAR units through the API and
gives each a position, then:
  1. recommendations: GET .../assignments/DAMKAR/recommendations, one after another;
  2. positions: open loop, `--rate` fixes per second sent as bulk batches of `--batch` fixes
     (an AVL gateway's way), latency from each batch's scheduled send; recommendations keep
     being asked meanwhile (2/s), to see what the position load does to them;
  3. search: GET /places/search with typed, misspelled and prefixed queries.

    python bench/units.py --spawn sqlite
    python bench/units.py --spawn postgresql
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import time
from datetime import UTC, datetime

import aiohttp
import httpx

from intake import percentile, spawned_server

TOWNS = [(-1.2563, 116.7684), (-1.2984, 116.7326), (-0.8493, 116.7190), (-1.2559, 116.4961),
         (-1.4547, 116.4233)]
QUERIES = ["masjid agung", "Kel. Nipah2", "kec sepaku", "sepaqu", "km 12", "pasar penajam",
           "sdn 1 penajam", "gunung setleng", "Desa Babulu Laut", "pelabuhan", "smoi", "lawe lawe"]


def near_town(rng: random.Random, spread: float = 0.03) -> tuple[float, float]:
    lat, lon = rng.choice(TOWNS)
    return lat + rng.uniform(-spread, spread), lon + rng.uniform(-spread, spread)


def summary(latencies: list[float]) -> dict:
    if not latencies:
        return {"n": 0}
    return {"n": len(latencies), "p50_ms": round(percentile(latencies, 50), 1),
            "p99_ms": round(percentile(latencies, 99), 1), "max_ms": round(max(latencies), 1)}


def setup(url: str, admin: str, call_taker: str, units: int, landmarks: int, rng: random.Random):
    auth = {"Authorization": f"Bearer {admin}"}
    with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
        ids = []
        for i in range(units):
            r = http.post("/api/v1/units", json={"call_sign": f"BENCH-{i:04d}", "agency_code": "DAMKAR",
                                                 "kind": rng.choice(["fire_truck", "fire_truck", "rescue_team"])})
            r.raise_for_status()
            ids.append(r.json()["id"])
        now = datetime.now(UTC).isoformat()
        for start in range(0, len(ids), 1000):
            fixes = [{"unit_id": u, "lat": p[0], "lon": p[1], "at": now}
                     for u, p in ((u, near_town(rng, 0.1)) for u in ids[start:start + 1000])]
            http.post("/api/v1/units/positions", json={"positions": fixes}).raise_for_status()
        incidents = []
        for _ in range(20):
            lat, lon = near_town(rng)
            r = http.post("/api/v1/incidents", headers={"Authorization": f"Bearer {call_taker}"},
                          json={"channel": "call", "description": "rumah terbakar", "type_code": "FIRE-BLDG",
                                "location": {"lat": lat, "lon": lon}})
            r.raise_for_status()
            incidents.append(r.json()["id"])
        kinds = ["mosque", "school", "market", "km_marker", "office", "bridge"]
        words = ["Al-Ikhlas", "Nurul Huda", "Harapan", "Bangsa", "Sejahtera", "Mulia", "Baru", "Induk"]
        rows = ["name,kind,lat,lon"]
        for i in range(landmarks):
            lat, lon = near_town(rng, 0.02)
            kind = rng.choice(kinds)
            rows.append(f"{kind.title()} {rng.choice(words)} {i},{kind},{lat:.5f},{lon:.5f}")
        for start in range(1, len(rows), 2000):  # the API takes 256 KB per request
            body = "\n".join([rows[0], *rows[start:start + 2000]]) + "\n"
            http.post("/api/v1/landmarks/import", content=body.encode(),
                      headers={"Content-Type": "text/csv"}).raise_for_status()
    return ids, incidents


async def recommendations(client: aiohttp.ClientSession, incidents: list[str], count: int,
                          rng: random.Random) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        async with client.get(f"/api/v1/incidents/{rng.choice(incidents)}/assignments/DAMKAR/"
                              "recommendations", params={"limit": "10"}) as r:
            body = await r.json()
            assert r.status == 200 and len(body) == 10, body
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def positions(client: aiohttp.ClientSession, ids: list[str], rate: float, batch: int,
                    duration: float, rng: random.Random) -> dict:
    """Open loop: batch i is due at start + i*batch/rate."""
    batches = int(rate * duration / batch)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    start = time.perf_counter() + 0.2

    async def one(i: int) -> None:
        scheduled = start + i * batch / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        now = datetime.now(UTC).isoformat()
        fixes = [{"unit_id": u, "lat": p[0], "lon": p[1], "at": now}
                 for u, p in ((u, near_town(rng, 0.1)) for u in rng.sample(ids, batch))]
        try:
            async with client.post("/api/v1/units/positions", json={"positions": fixes}) as r:
                await r.read()
                if r.status != 200:
                    errors[str(r.status)] = errors.get(str(r.status), 0) + 1
                    return
        except (TimeoutError, aiohttp.ClientError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            return
        latencies.append((time.perf_counter() - scheduled) * 1000)

    await asyncio.gather(*(one(i) for i in range(batches)))
    elapsed = time.perf_counter() - start
    return {"fixes_per_s_sent": rate, "batch": batch, "batches": batches, "errors": errors,
            "fixes_per_s_done": round(len(latencies) * batch / elapsed), **summary(latencies)}


async def search(client: aiohttp.ClientSession, count: int, rng: random.Random) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        async with client.get("/api/v1/places/search", params={"q": rng.choice(QUERIES)}) as r:
            await r.read()
            assert r.status == 200
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def run(url: str, token: str, ids: list[str], incidents: list[str], args, rng) -> dict:
    async with aiohttp.ClientSession(url, headers={"Authorization": f"Bearer {token}"},
                                     timeout=aiohttp.ClientTimeout(total=60)) as client:
        await recommendations(client, incidents, 20, rng)  # warm-up
        idle = await recommendations(client, incidents, args.recommendations, rng)
        during: list[float] = []

        async def keep_asking() -> None:
            end = time.perf_counter() + args.duration
            while time.perf_counter() < end:
                during.extend(await recommendations(client, incidents, 1, rng))
                await asyncio.sleep(0.5)

        pos, _ = await asyncio.gather(positions(client, ids, args.rate, args.batch, args.duration, rng),
                                      keep_asking())
        await search(client, 20, rng)
        searched = await search(client, args.searches, rng)
    return {"recommend_2000_units_idle": summary(idle), "positions": pos,
            "recommend_during_positions": summary(during),
            f"search_{args.landmarks}_landmarks": summary(searched)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--spawn", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--units", type=int, default=2000)
    p.add_argument("--rate", type=float, default=1000, help="position fixes per second")
    p.add_argument("--batch", type=int, default=100, help="fixes per bulk request")
    p.add_argument("--duration", type=float, default=20)
    p.add_argument("--recommendations", type=int, default=300)
    p.add_argument("--landmarks", type=int, default=5000)
    p.add_argument("--searches", type=int, default=300)
    p.add_argument("--port", type=int, default=8198)
    args = p.parse_args()
    rng = random.Random(112)
    with spawned_server(args.spawn, args.port, 1, role="admin") as (url, token, _):
        ids, incidents = setup(url, token, os.environ["BENCH_CALL_TAKER_TOKEN"], args.units,
                               args.landmarks, rng)
        result = asyncio.run(run(url, token, ids, incidents, args, rng))
    print({"backend": args.spawn, "units": args.units, "load_average": os.getloadavg()[0],
           "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
           **result})


if __name__ == "__main__":
    main()
