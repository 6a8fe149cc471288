"""The duplicate search's box and cells hold every point distance_m puts within the radius."""
import math

import pytest

from siaga112.geo.cells import cell_of, cells_within, degrees_around
from siaga112.geo.distance import EARTH_RADIUS_M, distance_m

PENAJAM = (-1.2563, 116.7684)


@pytest.mark.parametrize("bearing", [0, 45, 90, 135, 180, 225, 270, 315])
def test_a_point_just_inside_the_radius_is_in_the_box_and_its_cells(bearing):
    lat, lon = PENAJAM
    radius = 500.0
    # The point 499.9 m away on this bearing (the direct geodesic problem on the sphere).
    d, b, p1 = 499.9 / EARTH_RADIUS_M, math.radians(bearing), math.radians(lat)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = math.radians(lon) + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1),
                                        math.cos(d) - math.sin(p1) * math.sin(p2))
    there = (math.degrees(p2), math.degrees(l2))
    assert distance_m(*PENAJAM, *there) == pytest.approx(499.9)
    dlat, dlon = degrees_around(lat, radius)
    assert abs(there[0] - lat) <= dlat and abs(there[1] - lon) <= dlon
    assert cell_of(*there) in cells_within(lat, lon, radius)
