"""A fixed lat/lon grid: 'what is near this point' as an indexed equality lookup on any database.

PostGIS or SpatiaLite would do this too, but the embedded default has neither; a grid of about
550 m cells with an index on (cell, created_at) answers the duplicate search in a few index
probes whatever the size of the history.
"""
from __future__ import annotations

import math

from siaga112.geo.distance import EARTH_RADIUS_M

CELL_DEG = 0.005  # ~556 m of latitude
_LON_CELLS = int(360 / CELL_DEG) + 1
# On the sphere distance_m measures on: a box drawn with the ellipsoid's 111,320 m missed points
# just inside the radius due north or south.
_M_PER_DEG = EARTH_RADIUS_M * math.pi / 180


def cell_of(lat: float, lon: float) -> int:
    return int((lat + 90) // CELL_DEG) * _LON_CELLS + int((lon + 180) // CELL_DEG)


def degrees_around(lat: float, radius_m: float) -> tuple[float, float]:
    """Half-height and half-width, in degrees, of the box around a circle at latitude `lat`."""
    return radius_m / _M_PER_DEG, radius_m / (_M_PER_DEG * max(math.cos(math.radians(lat)), 0.01))


def cells_within(lat: float, lon: float, radius_m: float) -> list[int]:
    """Every cell that may hold a point within `radius_m` of (lat, lon)."""
    dlat, dlon = degrees_around(lat, radius_m)
    lat0, lat1 = int((lat - dlat + 90) // CELL_DEG), int((lat + dlat + 90) // CELL_DEG)
    lon0, lon1 = int((lon - dlon + 180) // CELL_DEG), int((lon + dlon + 180) // CELL_DEG)
    return [la * _LON_CELLS + lo for la in range(lat0, lat1 + 1) for lo in range(lon0, lon1 + 1)]
