"""PPU gazetteer: locate coordinates in a desa and find place names in free text."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, cast

import numpy as np
import shapely
from rapidfuzz import process
from rapidfuzz.distance import OSA
from shapely.geometry.base import BaseGeometry

from siaga112.geo.names import LEVEL_PREFIXES, fold, words

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "ppu"

# Desa polygons stop at the shoreline and riverbanks; water incidents just offshore
# (Teluk Balikpapan, Selat Makassar, rivers) still belong to PPU. Balikpapan city
# centre is ~8 km from the nearest PPU desa polygon, so 3 km keeps it outside.
# The rule cannot tell water from a neighbour's land: in the narrow upper bay the
# Balikpapan Barat (Kariangau) shore and land just across the Paser, Kutai
# Kartanegara and Balikpapan borders also snap to PPU, with distance_m > 0.
DEFAULT_COAST_TOLERANCE_M = 3000.0

# Polygons are cut into tiles of this size so each point-in-polygon and distance
# test touches a few dozen vertices instead of a whole desa (up to ~700).
# Measured: 2 km tiles load in ~0.2 s; smaller tiles load slower, locate no faster.
_TILE_M = 2000.0

Level = Literal["kecamatan", "desa"]
_Marker = Literal["desa", "kec", "street", "kab", "none"]


@dataclass(frozen=True)
class Place:
    """A kecamatan or desa/kelurahan with its centroid."""

    code: str
    name: str
    level: Level
    kecamatan_code: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Located:
    """Result of locating a coordinate; distance_m is 0 inside a desa polygon."""

    desa_code: str | None
    kecamatan_code: str | None
    inside_regency: bool
    distance_m: float


def kecamatan_code_of(desa_code: str) -> str:
    """Return the kecamatan code of a desa code (64.09.01.1001 -> 64.09.01)."""
    return ".".join(desa_code.split(".")[:3])


class _LocalProjection:
    """Equirectangular projection to metres, scaled at one reference latitude."""

    def __init__(self, lat0: float) -> None:
        phi = math.radians(lat0)
        # WGS84 metres per degree; over PPU's 0.8 degrees of latitude the scale
        # error is < 0.05 %. Far outside the region distances are approximate.
        self.m_per_deg_lat = 111132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
        self.m_per_deg_lon = 111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi)

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        """Project one coordinate."""
        return lon * self.m_per_deg_lon, lat * self.m_per_deg_lat

    def geometry(self, geom: BaseGeometry) -> BaseGeometry:
        """Project a lon/lat geometry."""
        scale = np.array([self.m_per_deg_lon, self.m_per_deg_lat])
        return shapely.transform(geom, lambda coords: coords * scale)


def _tiles(geom: BaseGeometry, size: float) -> list[BaseGeometry]:
    """Cut a projected polygon into polygon pieces on a square grid."""
    minx, miny, maxx, maxy = geom.bounds
    xs = np.arange(math.floor(minx / size) * size, maxx, size)
    ys = np.arange(math.floor(miny / size) * size, maxy, size)
    gx, gy = np.meshgrid(xs, ys)
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + size, gy.ravel() + size)
    cells = cells[shapely.intersects(geom, cells)]
    parts = shapely.get_parts(shapely.intersection(geom, cells))
    # Cutting along cell edges can leave slivers of lower dimension; drop them.
    return [p for p in parts if p.geom_type == "Polygon" and p.area > 0]


# ---------------------------------------------------------------- text handling

_DESA_MARKERS = frozenset(w for w, level in LEVEL_PREFIXES.items() if level == "desa")
_KEC_MARKERS = frozenset(w for w, level in LEVEL_PREFIXES.items() if level == "kecamatan")
_STREET_MARKERS = frozenset({"jalan", "gg", "gang", "lr", "lorong"})
_KAB_MARKERS = frozenset({"kab", "kabupaten"})
# Split a run of words without saying anything about the following name.
_OTHER_MARKERS = frozenset(
    {"rt", "rw", "no", "nomor", "km", "blok", "dusun", "dsn", "kota", "prov", "provinsi"}
)
_PREFIXES = _DESA_MARKERS | _KEC_MARKERS | _STREET_MARKERS | _KAB_MARKERS | _OTHER_MARKERS

# Desa names spell their numbers out ("Semoi Dua"); an address may not. Only here: in the search
# box a number must match exactly (km 2 is not km dua).
_NUMBER_WORDS = {"2": "dua", "ii": "dua"}

# Everyday words one edit away from a desa name (patung/petang/peteng ~ Petung,
# pejalan as in "pejalan kaki" ~ Pejala, sepatu/sepak ~ Sepaku, ...). They may
# only match a name exactly.
_NO_FUZZY_WORDS = frozenset(
    {
        "patung", "petang", "peteng", "pejalan", "sepatu", "sepak", "setan",
        "sopan", "sedan", "rintis", "mentari", "sepakat",
    }
)

_REGENCY_RE = re.compile(r"\b(?:penajam\s+paser\s+utara|paser\s+utara|ppu)\b")
_SEGMENT_RE = re.compile(r"[,;:/|()\[\]\n]+")


def _words(text: str) -> list[str]:
    """Normalised words of a name or address part, numbers spelled as desa names spell them."""
    return [_NUMBER_WORDS.get(w, w) for w in words(text)]


def _name_key(name: str) -> str:
    """Space-free key, so "Bulu Minung", "Buluminung" and "Lawe-lawe" compare cleanly."""
    return "".join(_words(name))


def _max_edits(key: str) -> int:
    """Edits tolerated for a name of this length; short names must match exactly."""
    n = len(key)
    if n <= 4:
        return 0
    if n <= 8:
        return 1
    if n <= 12:
        return 2
    return 3


@dataclass(frozen=True)
class _Run:
    """Consecutive content words between markers, with the marker before them."""

    words: tuple[str, ...]
    offset: int
    marker: _Marker


def _marker_kind(token: str) -> _Marker:
    """Classify a prefix word: what it says about the words that follow it."""
    if token in _DESA_MARKERS:
        return "desa"
    if token in _KEC_MARKERS:
        return "kec"
    if token in _STREET_MARKERS:
        return "street"
    if token in _KAB_MARKERS:
        return "kab"
    return "none"


def _runs(text: str) -> list[_Run]:
    """Split an address into runs of content words separated by prefix words and punctuation."""
    groups: list[tuple[_Marker, list[str]]] = []
    for segment in _SEGMENT_RE.split(_REGENCY_RE.sub(",", fold(text))):
        groups.append(("none", []))
        for word in _words(segment):
            if word in _PREFIXES:
                groups.append((_marker_kind(word), []))
            else:
                groups[-1][1].append(word)
    runs = []
    offset = 0
    for kind, content in groups:
        # "Kab. Penajam ..." names the regency, not kecamatan Penajam.
        if content and kind != "kab":
            runs.append(_Run(tuple(content), offset, kind))
        offset += len(content)
    return runs


@dataclass(frozen=True)
class _Candidate:
    """A name found in an address."""

    place: Place
    key_len: int
    start: int
    end: int
    run: int
    edits: int
    marked: bool
    street: bool

    def rank(self) -> tuple:
        """Sort key: lower is better."""
        return (
            self.street,  # a street named after a place is weak evidence
            self.place.level != "desa",  # most specific first
            not self.marked,
            self.edits / self.key_len,
            -self.key_len,
            self.start,
        )


# ---------------------------------------------------------------- gazetteer


class Gazetteer:
    """Read-only PPU gazetteer; safe to share between threads once built."""

    def __init__(
        self,
        places: Iterable[Place],
        desa_geometries: Mapping[str, BaseGeometry],
        coast_tolerance_m: float = DEFAULT_COAST_TOLERANCE_M,
    ) -> None:
        """Build indexes from places and lon/lat desa geometries keyed by desa code."""
        if coast_tolerance_m < 0:
            raise ValueError("coast_tolerance_m must be >= 0")
        self.coast_tolerance_m = float(coast_tolerance_m)
        self._places = {p.code: p for p in sorted(places, key=lambda p: p.code)}
        desa_codes = sorted(c for c, p in self._places.items() if p.level == "desa")
        if sorted(desa_geometries) != desa_codes:
            missing = set(desa_codes) ^ set(desa_geometries)
            raise ValueError(f"desa places and geometries disagree: {sorted(missing)}")
        self._desa_codes = tuple(desa_codes)
        self._build_spatial_index([desa_geometries[c] for c in desa_codes])
        self._build_name_index()

    @classmethod
    def load(
        cls,
        data_dir: Path | None = None,
        coast_tolerance_m: float = DEFAULT_COAST_TOLERANCE_M,
    ) -> Gazetteer:
        """Load wilayah.csv, centroids.csv and desa.geojson from data_dir (default: packaged PPU data)."""
        data_dir = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
        with open(data_dir / "centroids.csv", newline="", encoding="utf-8") as f:
            centroids = {r["code"]: (float(r["lat"]), float(r["lon"])) for r in csv.DictReader(f)}
        places = []
        with open(data_dir / "wilayah.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                level = row["level"]
                if level not in ("kecamatan", "desa"):
                    continue
                code = row["code"]
                lat, lon = centroids[code]
                kecamatan = code if level == "kecamatan" else kecamatan_code_of(code)
                places.append(Place(code, row["name"], cast(Level, level), kecamatan, lat, lon))
        with open(data_dir / "desa.geojson", encoding="utf-8") as f:
            features = json.load(f)["features"]
        geometries = {
            feature["properties"]["code"]: shapely.geometry.shape(feature["geometry"])
            for feature in features
        }
        return cls(places, geometries, coast_tolerance_m)

    # ------------------------------------------------------------ spatial

    def _build_spatial_index(self, geometries: list[BaseGeometry]) -> None:
        """Project desa polygons to metres and index their tiles in an STRtree."""
        minx, miny, maxx, maxy = shapely.total_bounds(geometries)
        self._projection = _LocalProjection((miny + maxy) / 2)
        projected = [self._projection.geometry(g) for g in geometries]
        pieces: list[BaseGeometry] = []
        owners: list[int] = []
        for index, geom in enumerate(projected):
            tiles = _tiles(geom, _TILE_M)
            pieces.extend(tiles)
            owners.extend([index] * len(tiles))
        # No GEOS prepared geometries: their lazily built indexes are not
        # thread-safe, and small tiles make plain predicates fast enough.
        self._pieces = np.array(pieces, dtype=object)
        self._piece_owner = tuple(owners)
        self._tree = shapely.STRtree(self._pieces)
        self._boundaries = tuple(g.boundary for g in projected)

    def locate(self, lat: float, lon: float) -> Located:
        """Find the desa containing a WGS84 coordinate, snapping to the nearest desa near the shore."""
        if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
            raise ValueError(f"invalid coordinate: {lat!r}, {lon!r}")
        x, y = self._projection.xy(lat, lon)
        point = shapely.Point(x, y)
        owners = {self._piece_owner[i] for i in self._tree.query(point, predicate="intersects")}
        if owners:
            return self._located(self._deepest(owners, point), 0.0)
        indices, distances = self._tree.query_nearest(point, return_distance=True, all_matches=True)
        distance = float(distances[0])
        if distance <= self.coast_tolerance_m:
            # On an exact tie the lowest code wins, so results are deterministic.
            return self._located(min(self._piece_owner[i] for i in indices), distance)
        return Located(None, None, False, distance)

    def _deepest(self, owners: set[int], point: BaseGeometry) -> int:
        """Resolve overlapping desa: the point belongs to the one it lies deepest inside."""
        if len(owners) == 1:
            return next(iter(owners))
        # The ~0.1 km2 of overlaps are digitising slivers; the deeper polygon is
        # the one whose side of the sliver's midline the point lies on.
        return max(sorted(owners), key=lambda i: self._boundaries[i].distance(point))

    def _located(self, index: int, distance: float) -> Located:
        """Build a Located for the desa at index."""
        code = self._desa_codes[index]
        return Located(code, kecamatan_code_of(code), True, distance)

    # ------------------------------------------------------------ lookups

    def place(self, code: str) -> Place | None:
        """Return the kecamatan or desa with this code."""
        return self._places.get(code)

    def desa_centroid(self, code: str) -> tuple[float, float] | None:
        """Return (lat, lon) of a desa centroid."""
        place = self._places.get(code)
        if place is None or place.level != "desa":
            return None
        return place.lat, place.lon

    def places(self, level: Level | None = None) -> list[Place]:
        """All places, optionally of one level, sorted by code."""
        if level not in (None, "kecamatan", "desa"):
            raise ValueError(f"unknown level: {level!r}")
        return [p for p in self._places.values() if level is None or p.level == level]

    # ------------------------------------------------------------ names

    def _build_name_index(self) -> None:
        """Precompute normalised name keys; a key may name both a kecamatan and a desa."""
        by_key: dict[str, list[Place]] = {}
        for place in self._places.values():
            by_key.setdefault(_name_key(place.name), []).append(place)
        self._keys = tuple(by_key)
        self._key_places = {k: tuple(v) for k, v in by_key.items()}
        self._key_edits = np.array([_max_edits(k) for k in self._keys])
        self._key_first = np.array([k[0] for k in self._keys])

    def match_address(self, text: str) -> Place | None:
        """Find the most specific desa (else kecamatan) named in a free-text address."""
        runs = _runs(text)
        windows: list[tuple[int, int, int]] = []  # (run, start, end) in run-word indices
        strings: list[str] = []
        for r, run in enumerate(runs):
            for size in (1, 2, 3):
                for start in range(len(run.words) - size + 1):
                    windows.append((r, start, start + size))
                    strings.append("".join(run.words[start : start + size]))
        if not strings:
            return None
        limit = int(self._key_edits.max())
        edits = process.cdist(
            strings, self._keys, scorer=OSA.distance, score_cutoff=limit, dtype=np.int32
        )
        first = np.array([s[0] for s in strings])
        fuzzy_ok = np.array(
            [not (end - start == 1 and runs[r].words[start] in _NO_FUZZY_WORDS) for r, start, end in windows]
        )
        # Misspellings rarely change the first letter; requiring it cuts false hits.
        ok = (edits == 0) | (
            (edits <= self._key_edits[None, :])
            & (first[:, None] == self._key_first[None, :])
            & fuzzy_ok[:, None]
        )
        candidates = []
        for w, k in zip(*np.nonzero(ok), strict=True):
            r, start, end = windows[w]
            run = runs[r]
            key = self._keys[k]
            marked = start == 0 and run.marker in ("desa", "kec")
            candidates.append(
                _Candidate(
                    place=self._resolve(key, run.marker if marked else "none"),
                    key_len=len(key),
                    start=run.offset + start,
                    end=run.offset + end,
                    run=r,
                    edits=int(edits[w, k]),
                    marked=marked,
                    street=run.marker == "street",
                )
            )
        # "Babulu Laut" also contains kecamatan "Babulu": a longer name covering a
        # shorter one wins.
        kept = [
            a
            for a in candidates
            if not any(
                b.run == a.run
                and b.place.name != a.place.name
                and b.start <= a.start
                and a.end <= b.end
                and b.end - b.start > a.end - a.start
                for b in candidates
            )
        ]
        return min(kept, key=_Candidate.rank).place if kept else None

    def _resolve(self, key: str, marker: _Marker) -> Place:
        """Pick the place for a key; a bare name shared by a kecamatan and its desa means the kecamatan."""
        places = self._key_places[key]
        if len(places) == 1:
            return places[0]
        wanted = "desa" if marker == "desa" else "kecamatan"
        return next((p for p in places if p.level == wanted), places[0])


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """Return the shared gazetteer built from the packaged PPU data."""
    return Gazetteer.load()
