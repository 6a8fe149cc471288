"""A month's KPIs over a year of history: how long does GET /api/v1/kpi take?

Fills a fresh database with `--incidents` incidents spread evenly over twelve months, each with
the call that made it and one or two assignments with realistic answer, acknowledgement,
dispatch and arrival times, plus three false or information calls per incident (the share seen
in Indonesian 112 centres). Then times `reports.kpi.kpi_report` for one month, in total and
grouped by agency, in-process, so the number is the report itself.

    python bench/kpi.py --backend sqlite --incidents 200000
    python bench/kpi.py --backend postgresql --incidents 200000
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from scratch import scratch_context
from siaga112.auth.principal import Principal, Role
from siaga112.models import assignments, calls, incidents
from siaga112.reports.kpi import kpi_report

START = datetime(2025, 12, 1, tzinfo=UTC)
TYPES = [("FIRE-BLDG", "DAMKAR"), ("FLOOD", "BPBD"), ("TRAFFIC-ACC", "POLRES"), ("MED-EMERG", "DINKES"),
         ("STORM-TREE", "BPBD"), ("POLLUTION", "DLH")]
DESA = ["64.09.01.1001", "64.09.01.1002", "64.09.02.2001", "64.09.03.2001", "64.09.04.1005"]
ADMIN = Principal(user_id=0, username="bench", role=Role.ADMIN, agency_code=None)


def fill(ctx, count: int, rng: random.Random) -> None:
    span = 365 * 86400
    rows: dict[str, list] = {"incidents": [], "calls": [], "assignments": []}

    def flush() -> None:
        with ctx.db.transaction() as conn:
            for table in (incidents, calls, assignments):
                if rows[table.name]:
                    conn.execute(insert(table), rows[table.name])
                    rows[table.name] = []

    for i in range(count):
        received = START + timedelta(seconds=rng.uniform(0, span))
        answered = received + timedelta(seconds=rng.expovariate(1 / 8))
        created = answered + timedelta(seconds=rng.uniform(20, 90))
        type_code, lead = rng.choice(TYPES)
        desa = rng.choice(DESA)
        closed = created + timedelta(seconds=rng.uniform(1800, 7200))
        incident_id = str(uuid.uuid4())
        rows["incidents"].append({
            "id": incident_id, "ticket": f"K{i:09d}", "status": "closed", "type_code": type_code, "priority": 2,
            "description": "bench", "channel": rng.choice(["call"] * 8 + ["sms", "whatsapp"]),
            "desa_code": desa, "kecamatan_code": desa[:8], "out_of_area": False, "created_at": created,
            "updated_at": closed, "closed_at": closed})
        rows["calls"].append({"id": str(uuid.uuid4()), "channel": "call", "received_at": received,
                              "answered_at": answered, "outcome": "emergency", "incident_id": incident_id,
                              "created_at": received})
        for _ in range(3):
            at = START + timedelta(seconds=rng.uniform(0, span))
            rows["calls"].append({"id": str(uuid.uuid4()), "channel": "call", "received_at": at,
                                  "answered_at": at + timedelta(seconds=rng.expovariate(1 / 8)),
                                  "outcome": rng.choice(["prank", "silent", "misdial", "information"]),
                                  "incident_id": None, "created_at": at})
        for agency, role in [(lead, "lead")] + ([("PLN", "support")] if rng.random() < 0.3 else []):
            acknowledged = created + timedelta(seconds=rng.expovariate(1 / 90))
            dispatched = acknowledged + timedelta(seconds=rng.uniform(10, 120))
            rows["assignments"].append({
                "incident_id": incident_id, "agency_code": agency, "role": role, "status": "completed",
                "ack_due_at": created + timedelta(seconds=120), "created_at": created, "updated_at": closed,
                "acknowledged_at": acknowledged, "dispatched_at": dispatched,
                "on_scene_at": dispatched + timedelta(seconds=rng.uniform(300, 1800)), "completed_at": closed})
        if len(rows["incidents"]) == 2000:
            flush()
    flush()
    with ctx.db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def timed(ctx, group_by, repeat: int = 3) -> tuple[float, int]:
    best, total = float("inf"), 0
    since = datetime(2026, 6, 1, tzinfo=UTC)
    for _ in range(repeat):
        with ctx.db.transaction(write=False) as conn:
            started = time.perf_counter()
            report = kpi_report(ctx, ADMIN, conn=conn, since=since, until=since + timedelta(days=30),
                                group_by=group_by)
            best = min(best, time.perf_counter() - started)
            total = report.totals.incidents.total
    return round(best * 1000, 1), total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--incidents", type=int, default=200_000)
    args = p.parse_args()
    rng = random.Random(112)
    with scratch_context(args.backend, "kpi") as ctx:
        started = time.perf_counter()
        fill(ctx, args.incidents, rng)
        filled = time.perf_counter() - started
        total_ms, month_incidents = timed(ctx, None)
        agency_ms, _ = timed(ctx, "agency")
        print({"backend": args.backend, "incidents": args.incidents, "calls": args.incidents * 4,
               "fill_s": round(filled, 1), "month_incidents": month_incidents,
               "kpi_month_ms": total_ms, "kpi_month_by_agency_ms": agency_ms,
               "load_average": os.getloadavg()[0],
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"})


if __name__ == "__main__":
    main()
