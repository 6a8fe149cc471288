"""Past calls and incidents written with chosen timestamps, so a test can work out every KPI
by hand from the moments it wrote."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from siaga112.models import assignments, calls, incidents

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
                 description: str = "kejadian") -> str:
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
