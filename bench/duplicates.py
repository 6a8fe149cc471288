"""Duplicate detection at scale: 100,000 open and recent incidents, how long does the search take?

Fills a fresh database with incidents spread over PPU (most in clusters around the towns, where
real calls come from, the rest anywhere), all open and created within the duplicate window: the
worst case, since every one of them is a candidate. Then times `incidents.duplicates.find_duplicates`
(the query the intake runs) for random points, in-process, so the number is the search itself.

    python bench/duplicates.py --backend sqlite
    python bench/duplicates.py --backend postgresql
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
import uuid
from datetime import timedelta

from sqlalchemy import insert, text

from scratch import scratch_context
from siaga112.db import utcnow
from siaga112.geo.cells import cell_of
from siaga112.incidents.duplicates import find_duplicates
from siaga112.models import incidents

TOWNS = [(-1.2563, 116.7684), (-1.2984, 116.7326), (-0.8493, 116.7190), (-1.2559, 116.4961),
         (-1.4547, 116.4233), (-1.3037, 116.7006)]
BBOX = (-1.596, 116.334, -0.798, 116.945)  # lat0, lon0, lat1, lon1 of the desa polygons
TYPES = ["FIRE-BLDG", "FLOOD", "TRAFFIC-ACC", "MED-EMERG", "STORM-TREE", "CRIME", "POLLUTION"]


def point(rng: random.Random) -> tuple[float, float]:
    if rng.random() < 0.6:
        lat, lon = rng.choice(TOWNS)
        return lat + rng.gauss(0, 0.015), lon + rng.gauss(0, 0.015)  # sigma ~1.7 km
    return rng.uniform(BBOX[0], BBOX[2]), rng.uniform(BBOX[1], BBOX[3])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def fill(ctx, count: int, window_minutes: int, rng: random.Random) -> None:
    now = utcnow()
    batch = []
    for i in range(count):
        lat, lon = point(rng)
        at = now - timedelta(seconds=rng.uniform(0, window_minutes * 60 - 120))
        batch.append({"id": str(uuid.uuid4()), "ticket": f"B{i:07d}", "status": rng.choice(
            ["new", "dispatched", "on_scene"]), "type_code": rng.choice(TYPES), "priority": 2,
            "description": "bench", "channel": "call", "lat": lat, "lon": lon,
            "geo_cell": cell_of(lat, lon), "out_of_area": False, "created_at": at, "updated_at": at})
        if len(batch) == 5000:
            with ctx.db.transaction() as conn:
                conn.execute(insert(incidents), batch)
            batch = []
    if batch:
        with ctx.db.transaction() as conn:
            conn.execute(insert(incidents), batch)
    with ctx.db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def measure(ctx, queries: int, rng: random.Random) -> dict:
    timings, cpu, found = [], [], []
    now = utcnow()
    with ctx.db.transaction(write=False) as conn:
        for _ in range(queries):
            lat, lon = point(rng)
            started, started_cpu = time.perf_counter(), time.thread_time()
            dups = find_duplicates(ctx, conn, type_code=rng.choice(TYPES), lat=lat, lon=lon, now=now)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
            found.append(len(dups))
    return {"queries": queries, "p50_ms": round(percentile(timings, 50), 2),
            "p99_ms": round(percentile(timings, 99), 2), "max_ms": round(max(timings), 2),
            "mean_ms": round(statistics.fmean(timings), 2),
            # CPU of this thread: the whole search on SQLite (in-process), the client side on
            # PostgreSQL. Wall time on this shared machine includes waiting for a core.
            "cpu_p50_ms": round(percentile(cpu, 50), 2), "cpu_p99_ms": round(percentile(cpu, 99), 2),
            "load_average": os.getloadavg()[0],
            "mean_duplicates_found": round(statistics.fmean(found), 1), "max_found": max(found)}


def plan(ctx) -> str:
    lat, lon = TOWNS[0]
    sql = ("SELECT id FROM incidents WHERE geo_cell IN ({cells}) AND created_at >= :since "
           "AND lat BETWEEN :a AND :b AND lon BETWEEN :c AND :d AND (status || '') IN ('new','dispatched','on_scene')")
    from siaga112.geo.cells import cells_within
    cells = ",".join(str(c) for c in cells_within(lat, lon, 500))
    prefix = "EXPLAIN QUERY PLAN " if ctx.db.is_sqlite else "EXPLAIN "
    with ctx.db.engine.connect() as conn:
        rows = conn.execute(text(prefix + sql.format(cells=cells)), {
            "since": utcnow() - timedelta(hours=1), "a": lat - 0.005, "b": lat + 0.005,
            "c": lon - 0.005, "d": lon + 0.005}).all()
    return " | ".join(str(r[-1]) for r in rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--incidents", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=2000)
    args = p.parse_args()
    rng = random.Random(112)
    with scratch_context(args.backend, "dups") as ctx:
        started = time.perf_counter()
        fill(ctx, args.incidents, ctx.settings.duplicate_window_minutes, rng)
        filled = time.perf_counter() - started
        measure(ctx, 200, rng)  # warm caches
        result = measure(ctx, args.queries, rng)
        print({"backend": args.backend, "incidents": args.incidents, "fill_s": round(filled, 1),
               "radius_m": ctx.settings.duplicate_radius_m,
               "window_min": ctx.settings.duplicate_window_minutes,
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
               **result, "plan": plan(ctx)})


if __name__ == "__main__":
    main()
