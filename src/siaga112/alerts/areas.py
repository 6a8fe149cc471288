"""Where an alert applies: kecamatan and desa polygons from the packaged PPU boundaries, or an
area drawn on the map, turned into CAP <area> blocks and into the desa whose people hear it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from siaga112.errors import InvalidField
from siaga112.geo.gazetteer import DEFAULT_DATA_DIR, Gazetteer

# Boundaries are simplified to about 100 m before they go into a CAP message: a desa has up to
# ~700 vertices, and receivers (phones, sirens, feed readers) want tens, not thousands.
SIMPLIFY_DEGREES = 0.001
# Parts smaller than this share of an area's largest part are islets and digitising slivers.
MIN_PART_SHARE = 0.02
MAX_DRAWN_POINTS = 200


@dataclass(frozen=True)
class CapArea:
    desc: str
    polygons: tuple[str, ...]          # CAP "lat,lon lat,lon ..." rings, first point = last
    geocode: str | None                # the Kemendagri code, when the area is a wilayah


@lru_cache(maxsize=1)
def boundaries() -> dict[str, BaseGeometry]:
    """Kecamatan and desa geometries (lon/lat) by code, read once per process."""
    shapes: dict[str, BaseGeometry] = {}
    for name in ("kecamatan.geojson", "desa.geojson"):
        with open(DEFAULT_DATA_DIR / name, encoding="utf-8") as fh:
            for feature in json.load(fh)["features"]:
                shapes[feature["properties"]["code"]] = shapely.geometry.shape(feature["geometry"])
    return shapes


def cap_rings(geometry: BaseGeometry) -> tuple[str, ...]:
    """The outer rings of a (multi)polygon, simplified, as CAP polygons."""
    simple = geometry.simplify(SIMPLIFY_DEGREES, preserve_topology=True)
    parts = list(getattr(simple, "geoms", [simple]))
    largest = max(p.area for p in parts)
    rings = []
    for part in sorted(parts, key=lambda p: -p.area):
        if part.is_empty or part.area < largest * MIN_PART_SHARE:
            continue
        rings.append(" ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in part.exterior.coords))
    return tuple(rings)


def drawn_polygon(points: list[list[float]]) -> Polygon:
    """A drawn area as a polygon; 422 naming `areas.polygon` when it is not a usable one."""
    loc = ("areas", "polygon")
    if len(points) < 3 or len(points) > MAX_DRAWN_POINTS:
        raise InvalidField(loc, f"needs 3 to {MAX_DRAWN_POINTS} points [lat, lon]")
    if any(len(p) != 2 or not (-90 <= p[0] <= 90 and -180 <= p[1] <= 180) for p in points):
        raise InvalidField(loc, "each point is [lat, lon] in degrees")
    polygon = Polygon([(lon, lat) for lat, lon in points])
    if not polygon.is_valid or polygon.area == 0:
        raise InvalidField(loc, "the outline crosses itself or encloses nothing")
    return polygon


def resolve(gazetteer: Gazetteer, codes: list[str], polygon: list[list[float]] | None
            ) -> tuple[list[CapArea], list[str], str]:
    """(CAP areas, desa reached, a description) for the chosen wilayah and the drawn area."""
    shapes = boundaries()
    areas: list[CapArea] = []
    reached: set[str] = set()
    names: list[str] = []
    for index, code in enumerate(codes):
        place = gazetteer.place(code)
        if place is None:
            raise InvalidField(("areas", "codes", str(index)), f"no kecamatan or desa {code!r} in PPU")
        if place.level == "kecamatan":
            desc = f"Kecamatan {place.name}"
            reached.update(p.code for p in gazetteer.places("desa") if p.kecamatan_code == code)
        else:
            parent = gazetteer.place(place.kecamatan_code)
            desc = f"{place.name}, Kecamatan {parent.name if parent else place.kecamatan_code}"
            reached.add(code)
        areas.append(CapArea(desc=desc, polygons=cap_rings(shapes[code]), geocode=code))
        names.append(desc)
    if polygon is not None:
        drawn = drawn_polygon(polygon)
        touched = {p.code for p in gazetteer.places("desa") if shapes[p.code].intersects(drawn)}
        if not touched:
            raise InvalidField(("areas", "polygon"), "the drawn area does not touch PPU")
        reached |= touched
        areas.append(CapArea(desc="Wilayah yang ditandai pada peta", polygons=cap_rings(drawn),
                             geocode=None))
        names.append("wilayah yang ditandai pada peta")
    if not areas:
        raise InvalidField(("areas",), "choose at least one kecamatan or desa, or draw an area")
    return areas, sorted(reached), "; ".join(names)
