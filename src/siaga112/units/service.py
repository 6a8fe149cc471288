"""The unit registry: each agency's vehicles and teams, their state and last known position."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from siaga112.audit import service as audit
from siaga112.auth.permissions import readable_units_agency
from siaga112.auth.service import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.errors import Forbidden, InvalidField, NotFound
from siaga112.events import EventName, record_event
from siaga112.models import agencies, units
from siaga112.units.schemas import PositionRead, UnitRead

# Demo fleet: what each kind of agency typically fields; real fleets are entered by the admin.
DEMO_FLEET = {
    "DAMKAR": [("DAMKAR-01", "fire_truck"), ("DAMKAR-02", "fire_truck"), ("DAMKAR-R1", "rescue_team")],
    "BPBD": [("BPBD-TRC1", "rapid_response"), ("BPBD-TRC2", "rapid_response"), ("BPBD-P1", "rescue_boat")],
    "DINKES": [("PSC119-01", "ambulance"), ("PSC119-02", "ambulance"), ("PSC119-03", "ambulance")],
    "RSUD": [("RSUD-AMB1", "ambulance"), ("RSUD-AMB2", "ambulance")],
    "SAR": [("SAR-RB1", "rescue_boat"), ("SAR-T1", "rescue_team")],
    "POLRES": [("POLRES-P1", "patrol_car"), ("POLRES-P2", "patrol_car")],
}


def unit_event_data(unit: Any) -> dict[str, Any]:
    return _read(unit).model_dump(mode="json")


def announce_unit(ctx: Context, conn: Connection, unit_id: str) -> None:
    """Record `unit.updated` for the unit as it now stands (its agency and the command centre)."""
    unit = conn.execute(select(units).where(units.c.id == unit_id)).one()
    record_event(conn, ctx.db, EventName.UNIT_UPDATED, unit_event_data(unit),
                 agencies={unit.agency_code, ctx.sop.command_agency})


def _read(unit: Any) -> UnitRead:
    position = (PositionRead(lat=unit.lat, lon=unit.lon, at=unit.position_at)
                if unit.lat is not None and unit.position_at is not None else None)
    return UnitRead(id=unit.id, call_sign=unit.call_sign, agency_code=unit.agency_code,
                    kind=unit.kind, status=unit.status, incident_id=unit.incident_id,
                    position=position)


def list_units(ctx: Context, who: Principal, *, conn: Connection, agency_code: str | None = None,
               status: str | None = None) -> list[UnitRead]:
    agency_code = readable_units_agency(who, agency_code)
    query = select(units).order_by(units.c.agency_code, units.c.call_sign)
    if agency_code:
        query = query.where(units.c.agency_code == agency_code)
    if status:
        query = query.where(units.c.status.in_(status.split(",")))
    return [_read(u) for u in conn.execute(query)]


def record_position(ctx: Context, who: Principal, unit_id: str, lat: float, lon: float,
                    at: datetime | None, *, conn: Connection) -> UnitRead:
    """Latest AVL position of a unit; an older report than the one stored is ignored."""
    if who.role not in ("integration", "admin", "commander", "dispatcher"):
        raise Forbidden(f"role {who.role} may not report unit positions")
    unit = conn.execute(select(units).where(units.c.id == unit_id)).first()
    if unit is None or (who.role == "dispatcher" and unit.agency_code != who.agency_code):
        raise NotFound("unit not found")
    now = utcnow()
    at = at or now
    if at > now + timedelta(seconds=60):
        raise InvalidField("at", "position time is in the future")
    # Conditional: of two racing reports the newer wins, never the one that arrived last.
    moved = conn.execute(update(units).where(
        units.c.id == unit_id, or_(units.c.position_at.is_(None), units.c.position_at <= at))
        .values(lat=lat, lon=lon, position_at=at, updated_at=now))
    if moved.rowcount == 1:
        announce_unit(ctx, conn, unit_id)
        unit = conn.execute(select(units).where(units.c.id == unit_id)).one()
        audit.record(conn, who, "unit.position", "unit", unit_id, detail={"call_sign": unit.call_sign})
    return _read(unit)


def seed_demo_units(conn: Connection) -> int:
    """Give every assignable agency a few units so dispatching names a real one (first start)."""
    if conn.execute(select(func.count()).select_from(units)).scalar_one():
        return 0
    now = utcnow()
    rows = []
    for a in conn.execute(select(agencies).where(agencies.c.role.is_(None) | (agencies.c.role != "operator"))):
        fleet = DEMO_FLEET.get(a.code, [(f"{a.code}-01", "field_team"), (f"{a.code}-02", "field_team")])
        rows += [{"id": str(uuid.uuid4()), "agency_code": a.code, "call_sign": cs, "kind": kind,
                  "status": "available", "updated_at": now} for cs, kind in fleet]
    conn.execute(insert(units), rows)
    return len(rows)
