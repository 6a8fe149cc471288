"""The call-taker's one search box: landmarks, desa/kelurahan and kecamatan by name.

Callers say "Masjid Agung", "km 12", "Kel. Nipah2" or misspell "Sepaqu"; all of it goes through
the same normalisation as the gazetteer's (`geo/names.py`: accents, reduplication, abbreviations,
leading zeros; the Desa/Kel./Kec. prefixes only hint at the level) and rapidfuzz's WRatio, which
copes with typos and with a query that is part of a longer name. Numbers must match exactly:
km 12 is not km 13.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Connection, func, select

from siaga112.geo.gazetteer import Gazetteer
from siaga112.geo.names import LEVEL_PREFIXES
from siaga112.geo.names import words as name_words
from siaga112.models import landmarks
from siaga112.places.schemas import PlaceHit

_DROPPED = frozenset({"kab", "kabupaten", "ppu"})  # the regency: every place is in it
# How callers place things near a name ("dekat masjid", "depan SD"): not part of any name.
_NEAR = frozenset({"dekat", "dkt", "depan", "belakang", "samping", "sebelah", "seberang", "arah",
                   "sekitar", "di", "jalan", "jl", "jln", "gang", "gg", "no", "nomor"})
# Neighbourhood units: "RT 05" names no place, and its number must not filter places out.
_UNITS = frozenset({"rt", "rw"})
# Below this WRatio a name is not offered at all.
_CUTOFF = 68


def query_parts(text: str) -> tuple[str, str | None, frozenset[str]]:
    """(normalised query, level hinted by a prefix or None, numbers in it)."""
    hint = None
    words = []
    for word in name_words(text):
        if word in LEVEL_PREFIXES:
            hint = LEVEL_PREFIXES[word]
        elif word not in _DROPPED:
            words.append(word)
    return " ".join(words), hint, frozenset(w for w in words if w.isdigit())


def name_key(name: str) -> str:
    return query_parts(name)[0]


@dataclass(frozen=True)
class _Entry:
    hit: PlaceHit
    level: str  # desa | kecamatan | landmark
    numbers: frozenset[str]


class PlaceIndex:
    """An immutable in-memory index; rebuilt (not edited) when the landmarks change."""

    def __init__(self, gazetteer: Gazetteer, landmark_rows: Iterable[Any]):
        self._entries: list[_Entry] = []
        self._keys: list[str] = []
        self._key_entry: list[int] = []
        for place in gazetteer.places():
            kecamatan = gazetteer.place(place.kecamatan_code)
            if place.level == "desa":
                kind = "kelurahan" if place.code.split(".")[-1].startswith("1") else "desa"
                desa_code, desa_name = place.code, place.name
            else:
                kind, desa_code, desa_name = "kecamatan", None, None
            hit = PlaceHit(kind=kind, name=place.name, id=place.code, desa_code=desa_code,
                           desa_name=desa_name, kecamatan_code=place.kecamatan_code,
                           kecamatan_name=kecamatan.name if kecamatan else None,
                           lat=place.lat, lon=place.lon, score=0)
            self._add(hit, "desa" if place.level == "desa" else "kecamatan", [place.name])
        for row in landmark_rows:
            desa = gazetteer.place(row.desa_code) if row.desa_code else None
            kecamatan = gazetteer.place(row.kecamatan_code) if row.kecamatan_code else None
            hit = PlaceHit(kind=row.kind, name=row.name, id=str(row.id), desa_code=row.desa_code,
                           desa_name=desa.name if desa else None, kecamatan_code=row.kecamatan_code,
                           kecamatan_name=kecamatan.name if kecamatan else None,
                           lat=row.lat, lon=row.lon, score=0)
            aliases = [a for a in (row.aliases or "").split(";") if a.strip()]
            self._add(hit, "landmark", [row.name, *aliases])

    def _add(self, hit: PlaceHit, level: str, names: list[str]) -> None:
        keys = [k for k in dict.fromkeys(name_key(n) for n in names) if k]
        numbers = frozenset(t for k in keys for t in k.split() if t.isdigit())
        self._entries.append(_Entry(hit, level, numbers))
        for key in keys:
            self._keys.append(key)
            self._key_entry.append(len(self._entries) - 1)

    def __len__(self) -> int:
        return len(self._entries)

    def search(self, text: str, limit: int = 10) -> list[PlaceHit]:
        """Best first; the level a prefix names (Desa, Kel., Kec.) ranks above the others.

        An informal address ("dekat masjid Al-Ikhlas, RT 05 Kelurahan Nipah-Nipah") is also
        searched part by part (its commas, and each Desa/Kel./Kec. prefix, start a part), so
        the place it names is found even though the whole matches nothing.
        """
        if limit <= 0:
            return []
        best: dict[int, float] = {}
        for part in _parts(text):
            for index, score in self._scores(part).items():
                best[index] = max(score, best.get(index, -1e9))
        ranked = [(-min(score, 100.0), self._entries[i].level != "desa", self._entries[i].hit.name, i)
                  for i, score in best.items()]
        ranked.sort()
        return [self._entries[i].hit.model_copy(update={"score": round(-s, 1)})
                for s, _, _, i in ranked[:limit]]

    def _scores(self, text: str) -> dict[int, float]:
        query, hint, numbers = query_parts(text)
        if len(query) < 2:
            return {}
        best: dict[int, float] = {}
        matches = process.extract(query, self._keys, scorer=fuzz.WRatio, score_cutoff=_CUTOFF,
                                  limit=None)
        for key, score, k in matches:
            index = self._key_entry[k]
            if key == query:
                score = 100.0
            elif key.startswith(query):
                score = max(score, 95.0)  # half-typed
            if score > best.get(index, -1):
                best[index] = score
        scored = {}
        for entry_index, score in best.items():
            entry = self._entries[entry_index]
            if not numbers <= entry.numbers:
                continue
            if hint is not None:
                score += 5 if entry.level == hint else -10
            scored[entry_index] = score
        return scored


def _parts(text: str) -> list[str]:
    """The whole query, and, when it is an address, its parts without RT/RW and "near" words."""
    words = name_words(text)
    if len(words) <= 2 and "," not in text:
        return [text]
    parts: list[list[str]] = [[]]
    skip_number = False
    for raw in text.replace(";", ",").split(","):
        parts.append([])
        for word in name_words(raw):
            if skip_number and word.isdigit():
                skip_number = False
                continue
            skip_number = word in _UNITS
            if word in _UNITS or word in _NEAR:
                continue
            if word in LEVEL_PREFIXES and parts[-1]:
                parts.append([])
            parts[-1].append(word)
    return [text] + [" ".join(p) for p in parts if p]


class PlaceIndexCache:
    """One index per database per process, rebuilt when the landmarks table has changed.

    The check is one aggregate query; it sees changes made by other server processes too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_db: weakref.WeakKeyDictionary[Any, tuple[tuple, PlaceIndex]] = weakref.WeakKeyDictionary()

    def get(self, db: Any, gazetteer: Gazetteer, conn: Connection) -> PlaceIndex:
        signature = tuple(conn.execute(select(func.count(), func.max(landmarks.c.id),
                                              func.max(landmarks.c.updated_at))).one())
        with self._lock:
            cached = self._by_db.get(db)
        if cached is not None and cached[0] == signature:
            return cached[1]
        index = PlaceIndex(gazetteer, conn.execute(select(landmarks)).all())
        with self._lock:
            self._by_db[db] = (signature, index)
        return index


place_indexes = PlaceIndexCache()
