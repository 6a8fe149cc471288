"""Landmark and place-search bodies of the API."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from siaga112.incidents.schemas import Strict

LandmarkKind = Literal["mosque", "church", "temple", "school", "market", "km_marker", "port",
                       "hospital", "health_centre", "police", "fire_station", "office", "bridge",
                       "other"]


class LandmarkIn(Strict):
    kind: LandmarkKind
    name: str = Field(min_length=2, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    aliases: list[str] = Field(default_factory=list, max_length=20)
    # When absent, the desa/kelurahan whose boundary holds the point.
    desa_code: str | None = Field(default=None, max_length=16, pattern=r"^[0-9.]+$")
    source: str | None = Field(default=None, max_length=300)


class LandmarkPatch(Strict):
    kind: LandmarkKind | None = None
    name: str | None = Field(default=None, min_length=2, max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    aliases: list[str] | None = Field(default=None, max_length=20)
    desa_code: str | None = Field(default=None, max_length=16, pattern=r"^[0-9.]+$")
    source: str | None = Field(default=None, max_length=300)


class LandmarkRead(BaseModel):
    id: int
    kind: str
    name: str
    aliases: list[str]
    desa_code: str | None
    kecamatan_code: str | None
    lat: float
    lon: float
    source: str | None
    updated_at: datetime


class ImportResult(BaseModel):
    created: int
    updated: int


class PlaceHit(BaseModel):
    """One answer of the call-taker's search box."""

    # desa | kelurahan | kecamatan | a landmark kind (mosque, school, km_marker, ...)
    kind: str
    name: str
    # Landmark id, or the wilayah code for a desa/kelurahan/kecamatan.
    id: str
    desa_code: str | None
    desa_name: str | None
    kecamatan_code: str | None
    kecamatan_name: str | None
    lat: float
    lon: float
    score: float
