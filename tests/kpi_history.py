"""Past calls and incidents written with chosen timestamps, so a test can work out every KPI
by hand from the moments it wrote."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from siaga112.models import assignments, calls, incidents

PENAJAM_DESA, SEPAKU_DESA = "64.09.01.1001", "64.09.04.1005"
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09.00 WITA on 2 November 2026


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def add_call(conn, *, outcome: str, received: float, answered: float | None, channel: str = "call",
             incident_id: str | None = None, phone: str = "081200000000") -> None:
    conn.execute(calls.insert().values(
        id=str(uuid.uuid4()), channel=channel, caller_phone=phone, received_at=at(received),
        answered_at=None if answered is None else at(answered), ended_at=at((answered or received) + 60),
        outcome=outcome, incident_id=incident_id, created_at=at(received)))


def add_incident(conn, *, type_code: str, created: float, desa: str, status: str = "dispatched",
                 closed: float | None = None, channel: str = "call", priority: int = 1,
                 description: str = "Rumah Pak Darto terbakar, hubungi 081299990000") -> str:
    incident_id = str(uuid.uuid4())
    conn.execute(incidents.insert().values(
        id=incident_id, ticket=uuid.uuid4().hex[:8].upper(), status=status, type_code=type_code,
        priority=priority, description=description, channel=channel, caller_phone="081299990000",
        caller_name="Pelapor", desa_code=desa, kecamatan_code=".".join(desa.split(".")[:3]),
        location_source="desa", out_of_area=False, created_at=at(created), updated_at=at(created),
        closed_at=None if closed is None else at(closed)))
    return incident_id


def add_assignment(conn, incident_id: str, agency: str, *, role: str = "lead", created: float,
                   due_after: float, status: str = "acknowledged", acknowledged: float | None = None,
                   dispatched: float | None = None, on_scene: float | None = None) -> None:
    conn.execute(assignments.insert().values(
        incident_id=incident_id, agency_code=agency, role=role, status=status,
        ack_due_at=at(created + due_after), created_at=at(created), updated_at=at(created),
        acknowledged_at=None if acknowledged is None else at(acknowledged),
        dispatched_at=None if dispatched is None else at(dispatched),
        on_scene_at=None if on_scene is None else at(on_scene)))


def seed_day(conn) -> dict[str, str]:
    """Six contacts and two incidents on 2 November 2026 (WITA), and some of the day before and
    after; the expected figures are worked out in tests/reports/test_kpi.py."""
    fire = add_incident(conn, type_code="FIRE-BLDG", created=60, desa=PENAJAM_DESA, status="closed",
                        closed=60 + 3600)
    flood = add_incident(conn, type_code="FLOOD", created=400, desa=SEPAKU_DESA, channel="call")
    add_call(conn, outcome="emergency", received=0, answered=5, incident_id=fire)
    add_call(conn, outcome="emergency", received=300, answered=312, incident_id=flood)
    add_call(conn, outcome="prank", received=1000, answered=1018)
    add_call(conn, outcome="silent", received=2000, answered=2025)
    add_call(conn, outcome="misdial", received=3000, answered=3008)
    add_call(conn, outcome="information", received=4000, answered=None, channel="whatsapp")
    # DAMKAR acknowledges within its 60 s, dispatches 45 s after the call was answered (at 5 s),
    # and its unit is on scene 600 s later.
    add_assignment(conn, fire, "DAMKAR", created=60, due_after=60, status="on_scene",
                   acknowledged=90, dispatched=50, on_scene=650)
    # BPBD acknowledges 200 s after the 120 s deadline started, dispatches 150 s after answer (312).
    add_assignment(conn, flood, "BPBD", created=400, due_after=120, status="dispatched",
                   acknowledged=600, dispatched=462, on_scene=None)
    # DINKES never acknowledged: its deadline passed long ago, so it counts as missed.
    add_assignment(conn, flood, "DINKES", role="support", created=400, due_after=120, status="pending")
    # Outside the day (the evening before, in WITA, and the day after): never counted.
    add_call(conn, outcome="prank", received=-10 * 3600, answered=-10 * 3600 + 1)
    late = add_incident(conn, type_code="FIRE-BLDG", created=86400 + 7200, desa=PENAJAM_DESA)
    add_call(conn, outcome="emergency", received=86400 + 7100, answered=86400 + 7101, incident_id=late)
    add_assignment(conn, late, "DAMKAR", created=86400 + 7200, due_after=60, status="pending")
    return {"fire": fire, "flood": flood}
