"""The unit registry: each agency's vehicles and teams, their state and last known position."""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from siaga112.audit import service as audit
from siaga112.auth.permissions import (
    may_report_unit_position,
    require_admin,
    require_agency_action,
    require_position_reporter,
    require_recommendation_reader,
    require_unit_status_changer,
    scoped_agency,
)
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.errors import Conflict, InvalidField, NotFound
from siaga112.events import Event, event_of, record_events
from siaga112.events.payloads import UnitUpdated
from siaga112.geo.distance import distances_m
from siaga112.incidents.reads import load_visible
from siaga112.incidents.timeline import append_timeline
from siaga112.models import agencies, assignments, unit_positions, units
from siaga112.models.status import UnitStatus
from siaga112.transitions import move_unit
from siaga112.units.routing import osrm_table
from siaga112.units.schemas import (
    PositionBatch,
    PositionBatchResult,
    PositionRead,
    Recommendation,
    TrailPoint,
    UnitCreate,
    UnitRead,
    UnitUpdate,
)

# Demo fleet: what each kind of agency typically fields; real fleets are entered by the admin.
DEMO_FLEET = {
    "DAMKAR": [("DAMKAR-01", "fire_truck"), ("DAMKAR-02", "fire_truck"), ("DAMKAR-R1", "rescue_team")],
    "BPBD": [("BPBD-TRC1", "rapid_response"), ("BPBD-TRC2", "rapid_response"), ("BPBD-P1", "rescue_boat")],
    "DINKES": [("PSC119-01", "ambulance"), ("PSC119-02", "ambulance"), ("PSC119-03", "ambulance")],
    "RSUD": [("RSUD-AMB1", "ambulance"), ("RSUD-AMB2", "ambulance")],
    "SAR": [("SAR-RB1", "rescue_boat"), ("SAR-T1", "rescue_team")],
    "POLRES": [("POLRES-P1", "patrol_car"), ("POLRES-P2", "patrol_car")],
}


# What each kind of unit can do unless the administrator lists its capabilities.
KIND_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "fire_truck": ("fire_suppression", "water_supply", "rescue"),
    "rescue_team": ("rescue", "extrication", "animal_handling", "tree_clearing"),
    "rapid_response": ("assessment", "evacuation", "rescue", "logistics"),
    "rescue_boat": ("water_rescue", "evacuation"),
    "ambulance": ("medical", "patient_transport"),
    "patrol_car": ("law_enforcement", "traffic_control"),
    "field_team": ("assessment",),
}
# What an incident type asks of the unit sent; types not named here ask nothing in particular.
TYPE_NEEDS: dict[str, tuple[str, ...]] = {
    "FIRE-BLDG": ("fire_suppression",), "FIRE-LAND": ("fire_suppression",),
    "FLOOD": ("evacuation", "water_rescue"), "LANDSLIDE": ("rescue", "assessment"),
    "STORM-TREE": ("tree_clearing",), "TRAFFIC-ACC": ("medical", "extrication"),
    "MED-EMERG": ("medical",), "MATERNAL": ("medical", "patient_transport"),
    "WATER-RESCUE": ("water_rescue",), "MISSING-PERSON": ("rescue",),
    "ANIMAL": ("animal_handling",), "CRIME": ("law_enforcement",),
    "PUBLIC-ORDER": ("law_enforcement",), "TRAFFIC-DISRUPT": ("traffic_control",),
    "VIOLENCE-WC": ("law_enforcement",),
}
UNIT_STATUS_LABELS = {"en_route": "dalam perjalanan", "on_scene": "tiba di lokasi",
                      "transporting": "membawa pasien/korban", "returning": "kembali ke pos",
                      "available": "siaga kembali", "out_of_service": "tidak beroperasi"}


def capabilities_of(unit: Any) -> list[str]:
    stored = unit.capabilities
    return list(stored) if stored is not None else list(KIND_CAPABILITIES.get(unit.kind, ()))


def _read(unit: Any, stale_after: float, now: datetime | None = None) -> UnitRead:
    position = None
    if unit.lat is not None and unit.position_at is not None:
        age = ((now or utcnow()) - unit.position_at).total_seconds()
        position = PositionRead(lat=unit.lat, lon=unit.lon, at=unit.position_at,
                                stale=age > stale_after)
    return UnitRead(id=unit.id, call_sign=unit.call_sign, agency_code=unit.agency_code,
                    kind=unit.kind, status=unit.status, incident_id=unit.incident_id,
                    position=position, capabilities=capabilities_of(unit),
                    home_station=unit.home_station, home_lat=unit.home_lat, home_lon=unit.home_lon,
                    updated_at=unit.updated_at)


def _unit_event(ctx: Context, unit: Any, now: datetime | None = None) -> Event:
    """`unit.updated` for the unit as it now stands: seen by its agency and the command centre
    (by role: the command agency's dispatchers see their own fleet, as the API answers)."""
    read = _read(unit, ctx.settings.unit_position_stale_seconds, now)
    return event_of(UnitUpdated(**read.model_dump()), agencies={unit.agency_code})


def announce_unit(ctx: Context, conn: Connection, unit_id: str) -> None:
    """Record `unit.updated` for the unit as it now stands."""
    unit = conn.execute(select(units).where(units.c.id == unit_id)).one()
    record_events(conn, ctx.db, [_unit_event(ctx, unit)])


def visible_unit(who: Principal, unit_id: str, conn: Connection) -> Any:
    """The unit row if `who` may see it (own agency, or everything); 404 otherwise."""
    unit = conn.execute(select(units).where(units.c.id == unit_id)).first()
    if unit is None:
        raise NotFound("unit not found")
    try:
        scoped_agency(who, unit.agency_code)
    except NotFound:
        raise NotFound("unit not found") from None
    return unit


def list_units(ctx: Context, who: Principal, *, conn: Connection, agency_code: str | None = None,
               status: str | None = None) -> list[UnitRead]:
    agency_code = scoped_agency(who, agency_code)
    query = select(units).order_by(units.c.agency_code, units.c.call_sign)
    if agency_code:
        query = query.where(units.c.agency_code == agency_code)
    if status:
        query = query.where(units.c.status.in_(status.split(",")))
    now, stale = utcnow(), ctx.settings.unit_position_stale_seconds
    return [_read(u, stale, now) for u in conn.execute(query)]


def call_signs_of(who: Principal, unit_ids: list[str], *, conn: Connection) -> dict[str, str]:
    """Call signs of these units, as far as `who` may see the units (their own agency's)."""
    if not unit_ids:
        return {}
    query = select(units.c.id, units.c.call_sign).where(units.c.id.in_(unit_ids))
    agency_code = scoped_agency(who, None)
    if agency_code:
        query = query.where(units.c.agency_code == agency_code)
    return dict(conn.execute(query).all())


def get_unit(ctx: Context, who: Principal, unit_id: str, *, conn: Connection) -> UnitRead:
    return _read(visible_unit(who, unit_id, conn), ctx.settings.unit_position_stale_seconds)


# ------------------------------------------------------------------ registry (administrators)

def _check_agency(conn: Connection, agency_code: str) -> None:
    agency = conn.execute(select(agencies.c.role).where(agencies.c.code == agency_code)).first()
    if agency is None or agency.role == "operator":
        raise InvalidField("agency_code", f"unknown or unassignable agency {agency_code!r}")


def create_unit(ctx: Context, who: Principal, data: UnitCreate, *, conn: Connection) -> UnitRead:
    """Register a vehicle or team of an agency; it starts available."""
    require_admin(who, "register units")
    _check_agency(conn, data.agency_code)
    if conn.execute(select(units.c.id).where(units.c.call_sign == data.call_sign)).first():
        raise InvalidField("call_sign", f"call sign {data.call_sign!r} is taken")
    unit_id, now = str(uuid.uuid4()), utcnow()
    conn.execute(insert(units).values(
        id=unit_id, agency_code=data.agency_code, call_sign=data.call_sign, kind=data.kind,
        status=UnitStatus.AVAILABLE, capabilities=data.capabilities, home_station=data.home_station,
        home_lat=data.home_lat, home_lon=data.home_lon, updated_at=now))
    announce_unit(ctx, conn, unit_id)
    audit.record(conn, who, "unit.created", "unit", unit_id,
                 detail={"call_sign": data.call_sign, "agency_code": data.agency_code})
    return get_unit(ctx, who, unit_id, conn=conn)


def update_unit(ctx: Context, who: Principal, unit_id: str, data: UnitUpdate, *,
                conn: Connection) -> UnitRead:
    """Change a unit's call sign, kind, capabilities or home station (not its status)."""
    require_admin(who, "edit units")
    unit = visible_unit(who, unit_id, conn)
    values = data.model_dump(exclude_unset=True)
    if "call_sign" in values and values["call_sign"] is None:
        raise InvalidField("call_sign", "a unit needs a call sign")
    if "kind" in values and values["kind"] is None:
        raise InvalidField("kind", "a unit needs a kind")
    home = (values.get("home_lat", unit.home_lat), values.get("home_lon", unit.home_lon))
    if (home[0] is None) != (home[1] is None):
        raise InvalidField("home_lat", "home_lat and home_lon go together")
    if values.get("call_sign") and values["call_sign"] != unit.call_sign and conn.execute(
            select(units.c.id).where(units.c.call_sign == values["call_sign"])).first():
        raise InvalidField("call_sign", f"call sign {values['call_sign']!r} is taken")
    if values:
        conn.execute(update(units).where(units.c.id == unit_id).values(updated_at=utcnow(), **values))
        announce_unit(ctx, conn, unit_id)
        audit.record(conn, who, "unit.updated", "unit", unit_id, detail={"fields": sorted(values)})
    return get_unit(ctx, who, unit_id, conn=conn)


# ------------------------------------------------------------------ status machine

def change_status(ctx: Context, who: Principal, unit_id: str, new_status: UnitStatus,
                  note: str | None, *, conn: Connection) -> UnitRead:
    """Move a unit along its state machine; illegal moves and lost races answer 409.

    (A move that its assignment should follow goes through dispatch.change_unit_status.)
    """
    require_unit_status_changer(who)
    unit = visible_unit(who, unit_id, conn)
    require_agency_action(who, unit.agency_code, "change a unit's status")
    if new_status == UnitStatus.DISPATCHED:
        raise Conflict("a unit is dispatched through an incident's assignment "
                       "(POST /api/v1/incidents/{id}/assignments/{agency}/dispatch)")
    now = utcnow()
    move_unit(conn, unit, new_status, now=now)
    if unit.incident_id:
        append_timeline(conn, unit.incident_id, f"unit_{new_status}", who=who, at=now,
                        public=False, agency_code=unit.agency_code,
                        text=f"{unit.call_sign} {UNIT_STATUS_LABELS[new_status]}"
                        + (f": {note}" if note else ""),
                        data={"unit_id": unit_id, "from": unit.status, "to": new_status})
    announce_unit(ctx, conn, unit_id)
    audit.record(conn, who, "unit.status", "unit", unit_id,
                 detail={"call_sign": unit.call_sign, "from": unit.status, "to": new_status})
    return get_unit(ctx, who, unit_id, conn=conn)


# ------------------------------------------------------------------ positions (AVL)

_TRAIL_INSERT = {
    name: dialect.insert(unit_positions).on_conflict_do_nothing().returning(unit_positions.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_MOVE_IF_NEWER = (update(units)
                  .where(units.c.id == bindparam("uid"),
                         or_(units.c.position_at.is_(None), units.c.position_at <= bindparam("at")))
                  .values(lat=bindparam("lat"), lon=bindparam("lon"), position_at=bindparam("at"),
                          updated_at=bindparam("now")))


def _check_time(at: datetime, now: datetime, loc: tuple) -> None:
    if at > now + timedelta(seconds=60):
        raise InvalidField(loc, "position time is in the future")


def _store_positions(ctx: Context, conn: Connection, fixes: list[tuple[Any, float, float, datetime]],
                     now: datetime) -> tuple[int, int]:
    """Append fixes to the trail and move each unit's latest position if newer; (stored, moved)."""
    stored = len(conn.execute(_TRAIL_INSERT[conn.dialect.name], [
        {"unit_id": u.id, "at": at, "lat": lat, "lon": lon, "received_at": now}
        for u, lat, lon, at in fixes]).all())
    newest: dict[str, tuple[Any, float, float, datetime]] = {}
    for fix in fixes:
        if fix[0].id not in newest or fix[3] >= newest[fix[0].id][3]:
            newest[fix[0].id] = fix
    moving = [f for f in newest.values() if f[0].position_at is None or f[0].position_at <= f[3]]
    if not moving:
        return stored, 0
    # Conditional: of two racing reports the newer wins, never the one that arrived last.
    conn.execute(_MOVE_IF_NEWER, [{"uid": u.id, "lat": lat, "lon": lon, "at": at, "now": now}
                                  for u, lat, lon, at in moving])
    record_events(conn, ctx.db, [
        _unit_event(ctx, _Row({**u._mapping, "lat": lat, "lon": lon, "position_at": at,
                               "updated_at": now}), now)
        for u, lat, lon, at in moving])
    return stored, len(moving)


class _Row:
    """Attribute access over a mapping, so a row with new values reads like a row."""

    def __init__(self, mapping: Any):
        self.__dict__.update(mapping)


def record_position(ctx: Context, who: Principal, unit_id: str, lat: float, lon: float,
                    at: datetime | None, *, conn: Connection) -> UnitRead:
    """Latest AVL position of a unit, kept with its trail; an older report leaves the latest."""
    require_position_reporter(who)
    unit = conn.execute(select(units).where(units.c.id == unit_id)).first()
    if unit is None or not may_report_unit_position(who, unit.agency_code):
        raise NotFound("unit not found")
    now = utcnow()
    at = at or now
    _check_time(at, now, ("at",))
    _store_positions(ctx, conn, [(unit, lat, lon, at)], now)
    return _read(conn.execute(select(units).where(units.c.id == unit_id)).one(),
                 ctx.settings.unit_position_stale_seconds, now)


def record_positions(ctx: Context, who: Principal, batch: PositionBatch, *,
                     conn: Connection) -> PositionBatchResult:
    """A gateway's batch of fixes: all stored, or none if any names an unknown unit."""
    require_position_reporter(who)
    ids = {p.unit_id for p in batch.positions if p.unit_id}
    signs = {p.call_sign for p in batch.positions if p.call_sign}
    found = conn.execute(select(units).where(or_(units.c.id.in_(ids), units.c.call_sign.in_(signs)))).all()
    by_id = {u.id: u for u in found if may_report_unit_position(who, u.agency_code)}
    by_sign = {u.call_sign: u for u in by_id.values()}
    now = utcnow()
    fixes = []
    for i, p in enumerate(batch.positions):
        unit = by_id.get(p.unit_id) if p.unit_id else by_sign.get(p.call_sign)
        if unit is None:
            field = "unit_id" if p.unit_id else "call_sign"
            raise InvalidField(("positions", str(i), field),
                               f"no unit {p.unit_id or p.call_sign!r} you may report")
        at = p.at or now
        _check_time(at, now, ("positions", str(i), "at"))
        fixes.append((unit, p.lat, p.lon, at))
    stored, moved = _store_positions(ctx, conn, fixes, now)
    return PositionBatchResult(received=len(fixes), stored=stored, updated=moved)


def trail(ctx: Context, who: Principal, unit_id: str, *, conn: Connection,
          since: datetime | None = None, until: datetime | None = None,
          limit: int = 500) -> list[TrailPoint]:
    """The unit's reported positions in time order (the newest `limit` of the period)."""
    visible_unit(who, unit_id, conn)
    query = select(unit_positions.c.lat, unit_positions.c.lon, unit_positions.c.at).where(
        unit_positions.c.unit_id == unit_id)
    if since is not None:
        query = query.where(unit_positions.c.at >= since)
    if until is not None:
        query = query.where(unit_positions.c.at <= until)
    rows = conn.execute(query.order_by(unit_positions.c.at.desc()).limit(limit)).all()
    return [TrailPoint(lat=r.lat, lon=r.lon, at=r.at) for r in reversed(rows)]


def prune_trail(conn: Connection, older_than: datetime) -> int:
    """Delete trail points older than `older_than` (the latest position stays on the unit)."""
    return conn.execute(unit_positions.delete().where(unit_positions.c.at < older_than)).rowcount


# ------------------------------------------------------------------ recommendation

@dataclass
class RecommendationRequest:
    """What ranking needs, read inside the transaction; ranking itself may wait on OSRM.

    Columns rather than objects: an agency may field thousands of units (the benchmark has
    2,000), and ranking them is a few array operations.
    """

    incident_point: tuple[float, float] | None
    needs: tuple[str, ...]
    unit_ids: list[str]
    call_signs: list[str]
    kinds: list[str]
    capabilities: list[tuple[str, ...]]
    lat: np.ndarray  # NaN where nothing says where the unit is
    lon: np.ndarray
    position_source: list[str | None]
    limit: int
    priority: int = 3


# For a life-threatening case, a unit that can do part of the job and is at hand beats a fully
# equipped one far away: a missing capability costs this many seconds of travel (all missing
# ranks last). Less urgent cases take the unit that can do everything, then the sooner one.
MISSING_CAPABILITY_COST_S = {1: 600.0, 2: 1800.0}


def recommendation_request(ctx: Context, who: Principal, incident_id: str, agency_code: str, *,
                           conn: Connection, limit: int = 50) -> RecommendationRequest:
    """The agency's available units and where each is, for one assignment of a visible incident."""
    incident = load_visible(ctx, who, incident_id, conn=conn)
    if conn.execute(select(assignments.c.id).where(assignments.c.incident_id == incident_id,
                                                   assignments.c.agency_code == agency_code)).first() is None:
        raise NotFound(f"incident has no assignment for {agency_code}")
    require_recommendation_reader(who, agency_code)
    fresh_after = utcnow() - timedelta(seconds=ctx.settings.unit_position_stale_seconds)
    rows = conn.execute(
        select(units.c.id, units.c.call_sign, units.c.kind, units.c.capabilities, units.c.lat,
               units.c.lon, units.c.home_lat, units.c.home_lon,
               # Compared in SQL: converting 2,000 timestamps in Python costs more than the rest.
               (units.c.position_at >= fresh_after).label("fresh"))
        .where(units.c.agency_code == agency_code, units.c.status == UnitStatus.AVAILABLE)
        .order_by(units.c.call_sign)).all()
    lat, lon = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    sources: list[str | None] = []
    for i, u in enumerate(rows):
        if u.lat is not None and u.fresh:
            lat[i], lon[i], source = u.lat, u.lon, "avl"
        elif u.home_lat is not None:
            lat[i], lon[i], source = u.home_lat, u.home_lon, "home_station"
        elif u.lat is not None:
            lat[i], lon[i], source = u.lat, u.lon, "stale_avl"
        else:
            source = None
        sources.append(source)
    point = None if incident.lat is None else (incident.lat, incident.lon)
    return RecommendationRequest(
        point, TYPE_NEEDS.get(incident.type_code, ()), [u.id for u in rows],
        [u.call_sign for u in rows], [u.kind for u in rows],
        [tuple(u.capabilities) if u.capabilities is not None else KIND_CAPABILITIES.get(u.kind, ())
         for u in rows], lat, lon, sources, limit, incident.priority)


def rank_units(ctx: Context, request: RecommendationRequest) -> list[Recommendation]:
    """Best first. P1/P2: the soonest useful help (arrival, plus a cost per missing capability);
    otherwise units that can do all the type needs, then the sooner arrival."""
    settings = ctx.settings
    n = len(request.unit_ids)
    needs = request.needs
    missing_of = {caps: [x for x in needs if x not in caps] for caps in set(request.capabilities)}
    missing = [missing_of[c] for c in request.capabilities]
    match = np.array([1.0 if not needs else 1 - len(m) / len(needs) for m in missing])
    if request.incident_point is None:
        distance = np.full(n, np.nan)
    else:
        distance = distances_m(request.lat, request.lon, *request.incident_point)
    road = distance * settings.road_factor
    eta = road / (settings.unit_speed_kmh / 3.6)
    from_osrm = np.zeros(n, dtype=bool)

    cost = MISSING_CAPABILITY_COST_S.get(request.priority)

    def order() -> np.ndarray:
        # np.lexsort: last key first; stable, so equal units keep call-sign order.
        arrival = np.nan_to_num(eta, nan=np.inf)
        if cost is None:
            return np.lexsort((arrival, np.isnan(eta), -match))
        return np.lexsort((arrival + (1 - match) * cost, np.isnan(eta), match == 0))

    ranked = order()
    if settings.osrm_url and request.incident_point is not None:
        asked = [i for i in ranked if not np.isnan(eta[i])][:settings.osrm_candidates]
        table = osrm_table(settings.osrm_url, settings.osrm_timeout_seconds, settings.osrm_retry_seconds)
        times = table.durations_to(request.incident_point,
                                   [(float(request.lat[i]), float(request.lon[i])) for i in asked])
        for i, t in zip(asked, times or [], strict=False):
            if t is not None:
                eta[i], from_osrm[i] = t.seconds, True
                if t.metres is not None:
                    road[i] = t.metres
        ranked = order()

    def whole(x: float) -> int | None:
        return None if math.isnan(x) else round(x)

    return [Recommendation(
        unit_id=request.unit_ids[i], call_sign=request.call_signs[i], kind=request.kinds[i],
        eta_seconds=whole(eta[i]), distance_m=whole(distance[i]), road_distance_m=whole(road[i]),
        capability_match=round(float(match[i]), 2), missing_capabilities=missing[i],
        eta_source=None if math.isnan(eta[i]) else "osrm" if from_osrm[i] else "estimate",
        position_source=request.position_source[i]) for i in ranked[:request.limit]]


# Demo home stations: the centroid of the desa/kelurahan at each kecamatan seat (no surveyed
# station coordinates exist here; see data/ppu/SOURCES.md). The first unit of a fleet waits in
# Penajam, the regency seat, the next in Sepaku, Babulu Darat and Waru.
DEMO_STATION_DESA = ("64.09.01.1011", "64.09.04.1005", "64.09.03.2001", "64.09.02.1003")


def seed_demo_units(conn: Connection) -> int:
    """Give every assignable agency a few units so dispatching names a real one (first start)."""
    if conn.execute(select(func.count()).select_from(units)).scalar_one():
        return 0
    from siaga112.models import wilayah

    centres = {w.code: w for w in conn.execute(select(wilayah).where(
        wilayah.c.code.in_(DEMO_STATION_DESA)))}
    now = utcnow()
    rows = []
    for a in conn.execute(select(agencies).where(agencies.c.role.is_(None) | (agencies.c.role != "operator"))):
        fleet = DEMO_FLEET.get(a.code, [(f"{a.code}-01", "field_team"), (f"{a.code}-02", "field_team")])
        for i, (cs, kind) in enumerate(fleet):
            centre = centres.get(DEMO_STATION_DESA[i % len(DEMO_STATION_DESA)])
            rows.append({"id": str(uuid.uuid4()), "agency_code": a.code, "call_sign": cs, "kind": kind,
                         "status": UnitStatus.AVAILABLE, "updated_at": now,
                         "home_station": f"Demo: {centre.name} (titik tengah desa, perkiraan)" if centre else None,
                         "home_lat": centre.lat if centre else None,
                         "home_lon": centre.lon if centre else None})
    conn.execute(insert(units), rows)
    return len(rows)
