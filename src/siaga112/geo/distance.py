"""Great-circle distance on a spherical Earth (haversine), for one pair or many points at once.

A sphere is off the WGS84 ellipsoid by at most 0.5 %: ample for "how near is this duplicate" and
"which unit is closer", and the same figure everywhere a distance is shown.
"""
from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_M = 6_371_000.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def distances_m(lats: np.ndarray, lons: np.ndarray, lat: float, lon: float) -> np.ndarray:
    """Metres from each of many points to one point; NaN where a position is unknown."""
    # The same formula as distance_m over arrays: ranking a whole fleet costs one numpy pass,
    # while the scalar form stays free of numpy's per-call overhead for a single pair.
    p1, p2 = np.radians(lats), math.radians(lat)
    dl = np.radians(lon - lons)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * math.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))
