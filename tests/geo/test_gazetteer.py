"""Tests for the PPU gazetteer: locating coordinates and address matching."""

import csv
import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import shapely
from shapely.geometry import box, shape
from shapely.ops import unary_union

from siaga112.geo.gazetteer import (
    DEFAULT_DATA_DIR,
    Gazetteer,
    Located,
    Place,
    default_gazetteer,
)

DATA = Path(DEFAULT_DATA_DIR)

PENAJAM_DESA = "64.09.01.1011"
NIPAH_NIPAH = "64.09.01.1009"
NENANG = "64.09.01.1010"
SOTEK = "64.09.01.1014"
RIKO = "64.09.01.1016"
KEC_PENAJAM = "64.09.01"
KEC_BABULU = "64.09.03"
KEC_SEPAKU = "64.09.04"
DESA_SEPAKU = "64.09.04.1005"

# Teluk Balikpapan, ~1 km east of the Penajam shore (Balikpapan is ~4 km further east).
SEA_OFF_PENAJAM = (-1.245, 116.787)
BALIKPAPAN_CITY = (-1.2379, 116.8529)
SAMARINDA = (-0.5022, 117.1536)
JAKARTA = (-6.2088, 106.8456)


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return default_gazetteer()


@pytest.fixture(scope="module")
def desa_features() -> dict[str, dict]:
    with open(DATA / "desa.geojson", encoding="utf-8") as f:
        return {feat["properties"]["code"]: feat for feat in json.load(f)["features"]}


# ---------------------------------------------------------------- loading


def test_default_gazetteer_is_cached(gaz):
    assert default_gazetteer() is gaz


def test_places_match_wilayah_csv(gaz):
    with open(DATA / "wilayah.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["level"] in ("kecamatan", "desa")]
    assert [(p.code, p.name, p.level) for p in gaz.places()] == sorted(
        (r["code"], r["name"], r["level"]) for r in rows
    )
    assert len(gaz.places("kecamatan")) == 4
    assert len(gaz.places("desa")) == 54
    with pytest.raises(ValueError):
        gaz.places("kabupaten")  # type: ignore[arg-type]


def test_place_and_centroid_lookups(gaz, desa_features):
    riko = gaz.place(RIKO)
    assert riko == Place(
        RIKO,
        "Riko",
        "desa",
        KEC_PENAJAM,
        desa_features[RIKO]["properties"]["lat"],
        desa_features[RIKO]["properties"]["lon"],
    )
    kec = gaz.place(KEC_SEPAKU)
    assert (kec.name, kec.level, kec.kecamatan_code) == ("Sepaku", "kecamatan", KEC_SEPAKU)
    assert gaz.desa_centroid(RIKO) == (riko.lat, riko.lon)
    assert gaz.desa_centroid(KEC_SEPAKU) is None
    assert gaz.place("64.09") is None
    assert gaz.place("nope") is None


def test_every_desa_has_a_kecamatan_place(gaz):
    kecamatan_codes = {p.code for p in gaz.places("kecamatan")}
    for desa in gaz.places("desa"):
        assert desa.kecamatan_code in kecamatan_codes
        assert desa.code.startswith(desa.kecamatan_code + ".")


def test_load_rejects_places_without_geometry():
    square = box(116.0, -1.1, 116.1, -1.0)
    places = [Place("99.01.01.1001", "A", "desa", "99.01.01", -1.05, 116.05)]
    with pytest.raises(ValueError):
        Gazetteer(places, {"99.01.01.1002": square})


# ---------------------------------------------------------------- locate


def _desa_codes() -> list[str]:
    with open(DATA / "wilayah.csv", newline="", encoding="utf-8") as f:
        return [r["code"] for r in csv.DictReader(f) if r["level"] == "desa"]


@pytest.mark.parametrize("code", _desa_codes())
def test_each_desa_centroid_locates_into_its_desa(gaz, code):
    lat, lon = gaz.desa_centroid(code)
    assert gaz.locate(lat, lon) == Located(code, code.rsplit(".", 1)[0], True, 0.0)


def test_sea_off_penajam_snaps_to_nearest_desa(gaz):
    located = gaz.locate(*SEA_OFF_PENAJAM)
    assert located.desa_code == PENAJAM_DESA
    assert located.kecamatan_code == KEC_PENAJAM
    assert located.inside_regency
    assert 500 < located.distance_m < 1500


def test_balikpapan_city_is_outside(gaz):
    # Across Teluk Balikpapan: ~8.3 km from the nearest desa polygon (Penajam),
    # well beyond the 3 km shore tolerance.
    located = gaz.locate(*BALIKPAPAN_CITY)
    assert located == Located(None, None, False, located.distance_m)
    assert 7000 < located.distance_m < 10000


@pytest.mark.parametrize(
    ("point", "min_km", "max_km"), [(SAMARINDA, 40, 60), (JAKARTA, 1100, 1250)]
)
def test_far_cities_are_outside(gaz, point, min_km, max_km):
    located = gaz.locate(*point)
    assert not located.inside_regency
    assert located.desa_code is None and located.kecamatan_code is None
    assert min_km * 1000 < located.distance_m < max_km * 1000


def test_tolerance_is_configurable():
    strict = Gazetteer.load(coast_tolerance_m=500)
    located = strict.locate(*SEA_OFF_PENAJAM)
    assert not located.inside_regency
    assert located.distance_m == pytest.approx(default_gazetteer().locate(*SEA_OFF_PENAJAM).distance_m)
    with pytest.raises(ValueError):
        Gazetteer.load(coast_tolerance_m=-1)


def test_gaps_between_desa_polygons_snap_to_a_neighbour(gaz, desa_features):
    # The union of desa polygons has small holes (slivers, river stretches).
    union = unary_union([shape(f["geometry"]) for f in desa_features.values()])
    holes = sorted(
        (shapely.Polygon(ring) for part in union.geoms for ring in part.interiors),
        key=lambda hole: -hole.area,
    )
    for hole in holes[:5]:
        point = hole.representative_point()
        located = gaz.locate(point.y, point.x)
        assert located.inside_regency
        assert 0 < located.distance_m < 200
        assert shape(desa_features[located.desa_code]["geometry"]).distance(point) < 0.01


def test_overlapping_desa_resolve_to_one_of_them(gaz, desa_features):
    overlap = shape(desa_features[NIPAH_NIPAH]["geometry"]).intersection(
        shape(desa_features[NENANG]["geometry"])
    )
    assert overlap.area > 0
    point = overlap.representative_point()
    located = gaz.locate(point.y, point.x)
    assert located.desa_code in {NIPAH_NIPAH, NENANG}
    assert located.distance_m == 0.0
    assert gaz.locate(point.y, point.x) == located


def test_distance_is_in_metres():
    # On the WGS84 ellipsoid near 1 degree south, 0.01 degree is ~1105.7 m of
    # latitude and ~1113.0 m of longitude (a spherical haversine would be 0.5 %
    # off north-south).
    places = [
        Place("99.01.01", "K", "kecamatan", "99.01.01", -1.05, 116.05),
        Place("99.01.01.1001", "A", "desa", "99.01.01", -1.05, 116.05),
    ]
    gaz = Gazetteer(places, {"99.01.01.1001": box(116.0, -1.1, 116.1, -1.0)}, 1200)
    east = gaz.locate(-1.05, 116.11)
    assert east.desa_code == "99.01.01.1001"
    assert east.distance_m == pytest.approx(1113.0, rel=1e-3)
    assert gaz.locate(-0.99, 116.05).distance_m == pytest.approx(1105.7, rel=1e-3)
    assert not gaz.locate(-1.05, 116.12).inside_regency  # ~2.2 km > 1.2 km


@pytest.mark.parametrize(
    ("lat", "lon"), [(math.nan, 116.7), (-1.2, math.inf), (91.0, 116.7), (-1.2, 181.0)]
)
def test_invalid_coordinates_raise(gaz, lat, lon):
    with pytest.raises(ValueError):
        gaz.locate(lat, lon)


def test_locate_is_thread_safe(gaz):
    points = [(gaz.place(p.code).lat, gaz.place(p.code).lon) for p in gaz.places("desa")]
    points += [SEA_OFF_PENAJAM, BALIKPAPAN_CITY, SAMARINDA] * 10
    expected = [gaz.locate(*p) for p in points]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            assert list(pool.map(lambda p: gaz.locate(*p), points)) == expected


# ---------------------------------------------------------------- match_address


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Jl. Provinsi km 5 kel nipah nipah", NIPAH_NIPAH),
        ("sotek rt 3", SOTEK),
        ("dekat pasar sepaku", KEC_SEPAKU),
        ("Kelurahan Nipah-Nipah", NIPAH_NIPAH),
        ("nipah2 depan masjid", NIPAH_NIPAH),
        ("RT 07 Kel. Sotek, Kec. Penajam", SOTEK),
        ("Ds. Babulu Laut", "64.09.03.2003"),
        ("babulu laut dekat dermaga", "64.09.03.2003"),
        ("Babulu Darat RT 2", "64.09.03.2001"),
        ("kec babulu", KEC_BABULU),
        ("babulu", KEC_BABULU),
        ("Labangka Barat", "64.09.03.2012"),
        ("labangka", "64.09.03.2002"),
        ("Kec. Sepaku", KEC_SEPAKU),
        ("Kel. Sepaku RT 5", DESA_SEPAKU),
        ("desa penajam", PENAJAM_DESA),
        ("penajam", KEC_PENAJAM),
        ("Jl. Sotek RT 3, Kel. Riko", RIKO),
        ("Penajam Paser Utara, Kel. Sotek", SOTEK),
        # misspellings and spelling variants
        ("nipa nipah", NIPAH_NIPAH),
        ("sotekk rt 1", SOTEK),
        ("gresik", "64.09.01.1017"),
        ("lawe lawe", "64.09.01.1004"),
        ("Lawelawe", "64.09.01.1004"),
        ("bulu minung", "64.09.01.1013"),
        ("semoi 2", "64.09.04.2010"),
        ("Semoi II", "64.09.04.2010"),
        ("Sei. Parit", "64.09.01.1008"),
        ("gn seteleng", "64.09.01.1012"),
        ("tanjung tenga", "64.09.01.1001"),
        ("argomulyo", "64.09.04.2009"),
        ("Sukaraja", "64.09.04.2003"),
        ("telemo", "64.09.04.2015"),
        ("jenebra", "64.09.01.1018"),
        ("spaku", KEC_SEPAKU),
        ("KAMPUNG BARU", "64.09.01.1006"),
    ],
)
def test_match_address(gaz, text, code):
    place = gaz.match_address(text)
    assert place is not None, text
    assert place.code == code, (text, place)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "jalan raya",
        "Jl. Raya",
        "depan masjid",
        "rumah warna hijau dekat sekolah",
        "tadi petang ada kecelakaan pejalan kaki",  # petang ~ Petung, pejalan ~ Pejala
        "toko sepatu",  # ~ Sepaku
        "dekat patung",  # ~ Petung
        "Kabupaten Penajam Paser Utara",  # the regency, not kecamatan Penajam
        "PPU",
        "rico",  # four-letter names must be spelled exactly
        "kebakaran di rumah api menyala",
        "12345",
    ],
)
def test_match_address_rejects_non_matches(gaz, text):
    assert gaz.match_address(text) is None


def test_street_named_after_a_place_is_weaker_than_a_marked_desa(gaz):
    assert gaz.match_address("Jl. Sepaku no 3 Kel. Riko").code == RIKO
    assert gaz.match_address("Jl. Riko, Kec. Sepaku").code == KEC_SEPAKU
    # With nothing else to go on, the street name is still a hint.
    assert gaz.match_address("Jl. Sotek").code == SOTEK
