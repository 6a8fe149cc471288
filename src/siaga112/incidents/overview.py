"""What the command center watches: counts, escalations and the map of open incidents."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from siaga112.auth.permissions import readable_incidents, scoped_agency
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.models import assignments, incidents, units
from siaga112.models.status import OPEN_INCIDENT


@dataclass
class AgencyLoad:
    pending: int = 0
    active: int = 0
    overdue: int = 0


@dataclass
class Overview:
    by_status: dict[str, int]
    by_agency: dict[str, AgencyLoad] = field(default_factory=dict)
    attention: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class Escalation:
    incident_id: str
    ticket: str
    type_code: str
    priority: int
    status: str
    reason: str
    created_at: datetime
    agencies: list[tuple[str, str]]  # (agency code, assignment status)


def overview(ctx: Context, who: Principal, *, conn: Connection, since: datetime) -> Overview:
    """Open incidents by status (and today's closed ones), and each agency's load."""
    now = utcnow()
    visible = readable_incidents(who)
    counts: dict[str, int] = dict(conn.execute(
        select(incidents.c.status, func.count()).where(
            visible, or_(incidents.c.status.in_(sorted(OPEN_INCIDENT)), incidents.c.updated_at >= since))
        .group_by(incidents.c.status)).all())
    result = Overview(by_status={s: counts.get(s, 0) for s in
                                 ("new", "dispatched", "on_scene", "resolved", "closed", "cancelled")})
    rows = conn.execute(
        select(assignments.c.agency_code, assignments.c.status,
               (assignments.c.ack_due_at < now).label("late"), func.count().label("n"))
        .join(incidents, incidents.c.id == assignments.c.incident_id)
        .where(visible, incidents.c.status.in_(sorted(OPEN_INCIDENT)),
               assignments.c.status.in_(("pending", "acknowledged", "dispatched", "en_route",
                                         "on_scene")))
        .group_by(assignments.c.agency_code, assignments.c.status, "late")).all()
    for row in rows:
        load = result.by_agency.setdefault(row.agency_code, AgencyLoad())
        if row.status == "pending":
            load.pending += row.n
            if row.late:
                load.overdue += row.n
                result.overdue += row.n
        else:
            load.active += row.n
    result.attention = conn.execute(select(func.count()).where(
        visible, incidents.c.status.in_(sorted(OPEN_INCIDENT)), incidents.c.attention.is_not(None))).scalar_one()
    return result


def escalations(ctx: Context, who: Principal, *, conn: Connection, limit: int = 100) -> list[Escalation]:
    """Open incidents the command center must act on: declined, unclassified, out of area, or
    an assignment past its acknowledgement deadline."""
    now = utcnow()
    late = (select(assignments.c.incident_id)
            .where(assignments.c.status == "pending", assignments.c.ack_due_at < now))
    rows = conn.execute(
        select(incidents.c.id, incidents.c.ticket, incidents.c.type_code, incidents.c.priority,
               incidents.c.status, incidents.c.attention, incidents.c.created_at,
               incidents.c.id.in_(late).label("late"))
        .where(readable_incidents(who), incidents.c.status.in_(sorted(OPEN_INCIDENT)),
               or_(incidents.c.attention.is_not(None), incidents.c.id.in_(late)))
        .order_by(incidents.c.priority, incidents.c.created_at).limit(limit)).all()
    agencies_of: dict[str, list[tuple[str, str]]] = {}
    if rows:
        for a in conn.execute(select(assignments.c.incident_id, assignments.c.agency_code,
                                     assignments.c.status)
                              .where(assignments.c.incident_id.in_([r.id for r in rows]))):
            agencies_of.setdefault(a.incident_id, []).append((a.agency_code, a.status))
    return [Escalation(incident_id=r.id, ticket=r.ticket, type_code=r.type_code,
                       priority=r.priority, status=r.status,
                       reason=r.attention or "overdue",
                       created_at=r.created_at, agencies=agencies_of.get(r.id, []))
            for r in rows]


def map_features(ctx: Context, who: Principal, *, conn: Connection,
                 agency_code: str | None = None) -> dict[str, Any]:
    """Open incidents (and units with a position) as GeoJSON for the console maps; no caller data."""
    query = (select(incidents.c.id, incidents.c.ticket, incidents.c.type_code, incidents.c.priority,
                    incidents.c.status, incidents.c.lat, incidents.c.lon, incidents.c.attention)
             .where(readable_incidents(who), incidents.c.status.in_(sorted(OPEN_INCIDENT)),
                    incidents.c.lat.is_not(None)))
    if agency_code:
        query = query.where(incidents.c.id.in_(select(assignments.c.incident_id).where(
            assignments.c.agency_code == agency_code)))
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                 "properties": {"kind": "incident", "id": r.id, "ticket": r.ticket,
                                "priority": r.priority, "status": r.status,
                                "lines": [f"{r.ticket} · P{r.priority}", f"{r.type_code} · {r.status}"]
                                + ([f"⚠ {r.attention}"] if r.attention else []),
                                "href": f"#insiden-{r.id}"}}
                for r in conn.execute(query)]
    unit_query = select(units.c.id, units.c.call_sign, units.c.agency_code, units.c.status,
                        units.c.lat, units.c.lon).where(units.c.lat.is_not(None))
    unit_agency = scoped_agency(who, agency_code)
    if unit_agency:
        unit_query = unit_query.where(units.c.agency_code == unit_agency)
    features += [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [u.lon, u.lat]},
                  "properties": {"kind": "unit", "id": u.id, "call_sign": u.call_sign,
                                 "lines": [u.call_sign, f"{u.agency_code} · {u.status}"]}}
                 for u in conn.execute(unit_query)]
    return {"type": "FeatureCollection", "features": features}
