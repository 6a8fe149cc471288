"""Possible duplicates: open incidents of a related type near a new call, nearest first."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, select

from siaga112.context import Context
from siaga112.geo.cells import cells_within, degrees_around
from siaga112.geo.distance import distance_m
from siaga112.incidents.schemas import DuplicateRead
from siaga112.models import incidents
from siaga112.models.status import OPEN_INCIDENT

# Types a second caller may describe differently for the same event (fire seen as smoke, a crash
# seen as a traffic jam); besides these, types sharing a lead agency count as related.
RELATED_FAMILIES = (
    {"FIRE-BLDG", "FIRE-LAND", "POWER"},
    {"TRAFFIC-ACC", "TRAFFIC-DISRUPT", "MED-EMERG"},
    {"FLOOD", "LANDSLIDE", "STORM-TREE", "WATER-RESCUE"},
    {"CRIME", "PUBLIC-ORDER", "VIOLENCE-WC"},
)


def related_types(ctx: Context, type_code: str) -> set[str] | None:
    """Type codes that may describe the same event; None means any (OTHER is not yet known)."""
    if type_code == "OTHER":
        return None
    sop_types = ctx.sop.incident_types
    lead = sop_types[type_code].lead
    related = {type_code, "OTHER"}
    related |= {t.code for t in sop_types.values() if lead and t.lead == lead}
    for family in RELATED_FAMILIES:
        if type_code in family:
            related |= family
    return related


_NEARBY_OPEN = (select(incidents.c.id, incidents.c.ticket, incidents.c.type_code, incidents.c.lat,
                       incidents.c.lon, incidents.c.created_at)
                .where(incidents.c.geo_cell.in_(bindparam("cells", expanding=True)),
                       incidents.c.created_at >= bindparam("since"),
                       incidents.c.lat.between(bindparam("lat0"), bindparam("lat1")),
                       incidents.c.lon.between(bindparam("lon0"), bindparam("lon1")),
                       # `status || ''` keeps SQLite's planner, which has no statistics on a new
                       # database, off the status index: the grid index is the selective one.
                       (incidents.c.status + "").in_(sorted(OPEN_INCIDENT))))


_NEARBY_OPEN_OF_TYPES = _NEARBY_OPEN.where(incidents.c.type_code.in_(bindparam("types", expanding=True)))


def find_duplicates(ctx: Context, conn: Connection, *, type_code: str, lat: float | None,
                    lon: float | None, now: datetime, exclude_id: str | None = None) -> list[DuplicateRead]:
    """Open incidents of a related type within the radius and time window, nearest first."""
    if lat is None or lon is None:
        return []
    radius = ctx.settings.duplicate_radius_m
    since = now - timedelta(minutes=ctx.settings.duplicate_window_minutes)
    related = related_types(ctx, type_code)
    dlat, dlon = degrees_around(lat, radius)
    params = {"cells": cells_within(lat, lon, radius), "since": since, "lat0": lat - dlat,
              "lat1": lat + dlat, "lon0": lon - dlon, "lon1": lon + dlon}
    if related is None:
        rows = conn.execute(_NEARBY_OPEN, params)
    else:
        rows = conn.execute(_NEARBY_OPEN_OF_TYPES, {**params, "types": sorted(related)})
    # In a flood hundreds of open incidents share a few cells: rank plain tuples and build the
    # response for the ten shown only (measured in bench/duplicates.py).
    near = []
    for row in rows:
        if row.id == exclude_id:
            continue
        d = round(distance_m(lat, lon, row.lat, row.lon))
        if d <= radius:
            near.append((d, now - row.created_at, row))
    near.sort(key=lambda x: (x[0], x[1]))
    return [DuplicateRead(id=row.id, ticket=row.ticket, type_code=row.type_code, distance_m=d,
                          minutes_ago=int(age.total_seconds() // 60)) for d, age, row in near[:10]]
