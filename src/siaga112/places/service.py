"""Landmarks kept by administrators (one by one or imported from CSV/GeoJSON) and place search."""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Connection, and_, delete, func, insert, select, update

from siaga112.auth.permissions import require_admin
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.errors import DomainError, InvalidField, NotFound
from siaga112.geo.gazetteer import kecamatan_code_of
from siaga112.models import landmarks
from siaga112.places.schemas import ImportResult, LandmarkIn, LandmarkPatch, LandmarkRead, PlaceHit
from siaga112.places.search import place_indexes

DEMO_LANDMARKS = Path(__file__).resolve().parent.parent / "data" / "ppu" / "landmarks_demo.csv"
CSV_COLUMNS = ("name", "kind", "lat", "lon")
OPTIONAL_COLUMNS = ("aliases", "desa_code", "source")


@dataclass(frozen=True)
class FileProblem:
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class LandmarkFileError(DomainError):
    """A landmark file that cannot be imported; every problem with its line, nothing written."""

    status_code = 422

    def __init__(self, problems: list[FileProblem]):
        super().__init__("; ".join(str(p) for p in problems[:20]))
        self.problems = problems

    def body(self) -> dict:
        return {"detail": [{"loc": ["body"], "line": p.line, "msg": p.message, "type": "value_error"}
                           for p in self.problems]}


def _read(row: Any) -> LandmarkRead:
    return LandmarkRead(id=row.id, kind=row.kind, name=row.name,
                        aliases=[a for a in (row.aliases or "").split(";") if a],
                        desa_code=row.desa_code, kecamatan_code=row.kecamatan_code, lat=row.lat,
                        lon=row.lon, source=row.source, updated_at=row.updated_at)


def _placed(ctx: Context, data: LandmarkIn) -> dict[str, Any]:
    """Column values for a landmark; raises ValueError (field, message) if it is not in PPU."""
    gaz = ctx.gazetteer
    located = gaz.locate(data.lat, data.lon)
    if not located.inside_regency:
        raise _Bad("lat", f"{data.lat}, {data.lon} is outside Kabupaten Penajam Paser Utara")
    desa = data.desa_code or located.desa_code
    if data.desa_code is not None:
        place = gaz.place(data.desa_code)
        if place is None or place.level != "desa":
            raise _Bad("desa_code", f"unknown desa/kelurahan code {data.desa_code!r}")
    aliases = [a.strip().replace(";", ",") for a in data.aliases if a.strip()]
    return {"kind": data.kind, "name": " ".join(data.name.split()), "lat": data.lat, "lon": data.lon,
            "aliases": ";".join(aliases) or None, "desa_code": desa,
            "kecamatan_code": kecamatan_code_of(desa) if desa else None, "source": data.source}


class _Bad(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _same_landmark(values: dict[str, Any]) -> Any:
    desa = (landmarks.c.desa_code.is_(None) if values["desa_code"] is None
            else landmarks.c.desa_code == values["desa_code"])
    return and_(landmarks.c.kind == values["kind"], landmarks.c.name == values["name"], desa)


def list_landmarks(ctx: Context, who: Principal, *, conn: Connection, kind: str | None = None,
                   desa_code: str | None = None, limit: int = 100, offset: int = 0) -> list[LandmarkRead]:
    query = select(landmarks).order_by(landmarks.c.kind, landmarks.c.name, landmarks.c.id)
    if kind:
        query = query.where(landmarks.c.kind == kind)
    if desa_code:
        query = query.where(landmarks.c.desa_code == desa_code)
    return [_read(r) for r in conn.execute(query.limit(limit).offset(offset))]


def get_landmark(ctx: Context, who: Principal, landmark_id: int, *, conn: Connection) -> LandmarkRead:
    row = conn.execute(select(landmarks).where(landmarks.c.id == landmark_id)).first()
    if row is None:
        raise NotFound("landmark not found")
    return _read(row)


def create_landmark(ctx: Context, who: Principal, data: LandmarkIn, *, conn: Connection) -> LandmarkRead:
    require_admin(who, "add landmarks")
    try:
        values = _placed(ctx, data)
    except _Bad as bad:
        raise InvalidField(bad.field, bad.message) from None
    if conn.execute(select(landmarks.c.id).where(_same_landmark(values))).first():
        raise InvalidField("name", f"a {values['kind']} named {values['name']!r} is already in that desa")
    now = utcnow()
    result = conn.execute(insert(landmarks).values(created_at=now, updated_at=now, **values)
                          .returning(landmarks.c.id))
    return get_landmark(ctx, who, result.scalar_one(), conn=conn)


def update_landmark(ctx: Context, who: Principal, landmark_id: int, patch: LandmarkPatch, *,
                    conn: Connection) -> LandmarkRead:
    require_admin(who, "edit landmarks")
    current = get_landmark(ctx, who, landmark_id, conn=conn)
    merged = current.model_dump(include={"kind", "name", "lat", "lon", "aliases", "source"})
    changes = patch.model_dump(exclude_unset=True)
    for field in ("kind", "name", "lat", "lon"):
        if field in changes and changes[field] is None:
            raise InvalidField(field, f"a landmark needs a {field}")
    merged.update({k: v for k, v in changes.items() if k != "desa_code"})
    # A moved landmark finds its desa again unless one is given.
    merged["desa_code"] = changes.get("desa_code") if "desa_code" in changes else (
        None if {"lat", "lon"} & changes.keys() else current.desa_code)
    try:
        values = _placed(ctx, LandmarkIn(**{**merged, "aliases": merged["aliases"] or []}))
    except _Bad as bad:
        raise InvalidField(bad.field, bad.message) from None
    clash = conn.execute(select(landmarks.c.id).where(_same_landmark(values),
                                                      landmarks.c.id != landmark_id)).first()
    if clash:
        raise InvalidField("name", f"a {values['kind']} named {values['name']!r} is already in that desa")
    conn.execute(update(landmarks).where(landmarks.c.id == landmark_id)
                 .values(updated_at=utcnow(), **values))
    return get_landmark(ctx, who, landmark_id, conn=conn)


def delete_landmark(ctx: Context, who: Principal, landmark_id: int, *, conn: Connection) -> None:
    require_admin(who, "delete landmarks")
    if conn.execute(delete(landmarks).where(landmarks.c.id == landmark_id)).rowcount != 1:
        raise NotFound("landmark not found")


# ------------------------------------------------------------------ import

def landmarks_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(landmarks)).scalar_one()


def _csv_records(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[FileProblem]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        return [], [FileProblem(1, f"missing column(s) {', '.join(missing)}; the header must name "
                                   f"{', '.join(CSV_COLUMNS)} (optional: {', '.join(OPTIONAL_COLUMNS)})")]
    records = []
    for row in reader:
        line = reader.line_num
        values = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if not any(values.values()):
            continue
        if None in row:
            return [], [FileProblem(line, "more fields than the header has columns")]
        record: dict[str, Any] = {k: values.get(k) or None for k in (*CSV_COLUMNS, *OPTIONAL_COLUMNS)}
        record["aliases"] = [a for a in (values.get("aliases") or "").split(";") if a.strip()]
        records.append((line, record))
    return records, []


class _Point(BaseModel):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=3)


class _Feature(BaseModel):
    geometry: _Point
    properties: dict[str, Any] | None = None


class _FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[Any]


def _geojson_records(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[FileProblem]]:
    # Parsed with models, not walked by hand: a feature that is a number, a geometry that is a
    # string or properties that are a list are the file's problems (422), not a crash (500).
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [FileProblem(exc.lineno, f"not JSON: {exc.msg}")]
    except RecursionError:
        return [], [FileProblem(1, "not JSON that can be read: nested too deeply")]
    try:
        collection = _FeatureCollection.model_validate(doc)
    except ValidationError:
        return [], [FileProblem(1, "expected a GeoJSON FeatureCollection")]
    lines = _feature_lines(text, len(collection.features))
    records, problems = [], []
    for i, raw in enumerate(collection.features):
        line = lines[i]
        try:
            feature = _Feature.model_validate(raw)
        except ValidationError:
            problems.append(FileProblem(line, f"feature {i + 1}: geometry must be a Point"))
            continue
        props = feature.properties or {}
        coords = feature.geometry.coordinates
        aliases = props.get("aliases") or []
        if isinstance(aliases, str):
            aliases = [a for a in aliases.split(";") if a.strip()]
        records.append((line, {"name": props.get("name"), "kind": props.get("kind"),
                               "lat": coords[1], "lon": coords[0], "aliases": aliases,
                               "desa_code": props.get("desa_code"), "source": props.get("source")}))
    return records, problems


def _feature_lines(text: str, count: int) -> list[int]:
    """The line each feature starts on (JSON parsers do not say); 1 for all if it cannot tell."""
    match = re.search(r'"features"\s*:\s*\[', text)
    if match is None:
        return [1] * count
    decoder = json.JSONDecoder()
    pos, lines = match.end(), []
    try:
        for _ in range(count):
            while text[pos] in " \t\r\n,":
                pos += 1
            lines.append(text.count("\n", 0, pos) + 1)
            _, pos = decoder.raw_decode(text, pos)
    except (ValueError, IndexError):
        return [1] * count
    return lines


def parse_landmarks(ctx: Context, text: str, fmt: str) -> list[dict[str, Any]]:
    """Validate a whole file; column values for every landmark, or LandmarkFileError."""
    if fmt not in ("csv", "geojson"):
        raise InvalidField("format", "format must be csv or geojson")
    records, problems = (_csv_records if fmt == "csv" else _geojson_records)(text)
    rows: list[dict[str, Any]] = []
    seen: dict[tuple, int] = {}
    for line, record in records:
        try:
            data = LandmarkIn.model_validate(record)
            values = _placed(ctx, data)
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(p) for p in error["loc"]) or "row"
                problems.append(FileProblem(line, f"{field}: {error['msg']}"))
            continue
        except _Bad as bad:
            problems.append(FileProblem(line, f"{bad.field}: {bad.message}"))
            continue
        key = (values["kind"], values["name"], values["desa_code"])
        if key in seen:
            problems.append(FileProblem(line, f"{values['name']!r} ({values['kind']}) appears again; "
                                              f"first on line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(values)
    if problems:
        raise LandmarkFileError(sorted(problems, key=lambda p: p.line or 0))
    if not rows:
        raise LandmarkFileError([FileProblem(None, "the file holds no landmarks")])
    return rows


def import_landmarks(ctx: Context, who: Principal, text: str, fmt: str, *,
                     conn: Connection) -> ImportResult:
    """All or nothing: a landmark already there (same kind, name and desa) is updated."""
    require_admin(who, "import landmarks")
    rows = parse_landmarks(ctx, text, fmt)
    now = utcnow()
    existing = {(r.kind, r.name, r.desa_code): r.id for r in conn.execute(
        select(landmarks.c.id, landmarks.c.kind, landmarks.c.name, landmarks.c.desa_code))}
    new = [dict(v, created_at=now, updated_at=now) for v in rows
           if (v["kind"], v["name"], v["desa_code"]) not in existing]
    changed = [v for v in rows if (v["kind"], v["name"], v["desa_code"]) in existing]
    if new:
        conn.execute(insert(landmarks), new)
    for values in changed:
        conn.execute(update(landmarks).where(
            landmarks.c.id == existing[(values["kind"], values["name"], values["desa_code"])])
            .values(updated_at=now, **values))
    return ImportResult(created=len(new), updated=len(changed))


def format_of(filename: str | None, content_type: str | None) -> str:
    """csv or geojson, from a file name or a Content-Type."""
    name = (filename or "").lower()
    ctype = (content_type or "").lower()
    if name.endswith((".geojson", ".json")) or "json" in ctype:
        return "geojson"
    return "csv"


# ------------------------------------------------------------------ search

def search_places(ctx: Context, who: Principal, q: str, *, conn: Connection,
                  limit: int = 10) -> list[PlaceHit]:
    """The call-taker's search box over landmarks, desa/kelurahan and kecamatan."""
    return place_indexes.get(ctx.db, ctx.gazetteer, conn).search(q, limit)
