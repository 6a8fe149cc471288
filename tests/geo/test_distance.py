"""The one great-circle distance: a pair and a whole fleet give the same metres."""
import math

import numpy as np
import pytest

from siaga112.geo.distance import distance_m, distances_m

PENAJAM_PORT = (-1.2543, 116.7704)
SEPAKU = (-0.8490, 116.6940)


def test_a_degree_of_latitude_and_of_longitude_at_the_equator():
    degree = 2 * math.pi * 6_371_000 / 360
    assert distance_m(0, 116, 1, 116) == pytest.approx(degree)
    assert distance_m(0, 116, 0, 117) == pytest.approx(degree)
    # Away from the equator a degree of longitude shrinks with the cosine of the latitude.
    assert distance_m(-60, 116, -60, 117) == pytest.approx(degree / 2, rel=1e-3)


def test_distance_is_symmetric_and_zero_at_the_same_point():
    there = distance_m(*PENAJAM_PORT, *SEPAKU)
    assert there == pytest.approx(distance_m(*SEPAKU, *PENAJAM_PORT))
    assert 45_000 < there < 46_000  # Penajam to Sepaku as the crow flies
    assert distance_m(*SEPAKU, *SEPAKU) == 0


def test_many_points_agree_with_the_pair_form_and_keep_unknown_positions_unknown():
    lats = np.array([PENAJAM_PORT[0], SEPAKU[0], np.nan, -1.5])
    lons = np.array([PENAJAM_PORT[1], SEPAKU[1], np.nan, 116.2])
    many = distances_m(lats, lons, *SEPAKU)
    for i in (0, 1, 3):
        assert many[i] == pytest.approx(distance_m(lats[i], lons[i], *SEPAKU))
    assert math.isnan(many[2])
